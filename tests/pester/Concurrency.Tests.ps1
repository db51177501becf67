# Many clients and many runspaces: ForEach-Object -Parallel and thread jobs on the same sockets and the shared registry.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    $script:Module = (Get-Module SocketCmdlets).Path
}

AfterAll {
    Get-Job | Where-Object Name -Like 'sc-concurrency-*' | Remove-Job -Force
    Get-Socket | Close-Socket
}

Describe 'Concurrency' -Tag 'Concurrency' {
    BeforeEach {
        $before = @(Get-Socket).Count
        $listener = Start-SocketListen -Port 0 -Address Loopback
        $port = $listener.LocalEndPoint.Port
    }

    AfterEach {
        Get-Job | Where-Object Name -Like 'sc-concurrency-*' | Remove-Job -Force
        Get-Socket | Close-Socket
    }

    Context 'A parallel echo server' {
        It 'echoes every line of 50 concurrent clients served by Receive-SocketConnection -Count 50 | ForEach-Object -Parallel' {
            # The server runs in a thread job, as examples/ParallelEchoServer.ps1 does. $using: reaches one runspace
            # out, so the job copies what its inner -Parallel blocks need into its own variables.
            $server = Start-ThreadJob -Name sc-concurrency-echo {
                $module = $using:Module
                Import-Module $module
                $using:listener | Receive-SocketConnection -Count 50 -TimeoutSec 30 | ForEach-Object -ThrottleLimit 50 -Parallel {
                    Import-Module $using:module
                    $_ | Receive-SocketData -Line -ToEnd -TimeoutSec 30 | Send-SocketData -Socket $_ -AppendNewLine -Unbuffered
                    $_ | Close-Socket
                }
            }
            $results = 1..50 | ForEach-Object -ThrottleLimit 50 -Parallel {
                Import-Module $using:Module
                $client = Connect-Socket -ComputerName 127.0.0.1 -Port $using:port -TimeoutSec 30
                try {
                    $n = $_
                    $lines = 1..5 | ForEach-Object { "client $n line $_" }
                    $lines | Send-SocketData -Socket $client -AppendNewLine
                    $client | Close-Socket -Direction Send
                    $echoed = @($client | Receive-SocketData -Line -ToEnd -TimeoutSec 30)
                    [pscustomobject]@{ Client = $_; Sent = $lines -join '|'; Echoed = $echoed -join '|' }
                } finally {
                    $client | Close-Socket
                }
            }
            $null = $server | Wait-Job -Timeout 60
            $server.State | Should -Be 'Completed'
            @($server.Error) | Should -BeNullOrEmpty
            @($results).Count | Should -Be 50
            ($results.Client | Sort-Object) | Should -Be (1..50)
            foreach ($r in $results) {
                $r.Echoed | Should -BeExactly $r.Sent -Because "client $($r.Client) gets every line back"
            }
        }
    }

    Context 'Thread jobs' {
        It 'serves clients from a thread job' {
            $server = Start-ThreadJob -Name sc-concurrency-serve {
                Import-Module $using:Module
                $using:listener | Receive-SocketConnection -Count 3 -TimeoutSec 30 | ForEach-Object {
                    $line = $_ | Receive-SocketData -Line -TimeoutSec 30
                    "served: $line" | Send-SocketData -Socket $_ -AppendNewLine
                    $_ | Close-Socket
                }
            }
            $replies = foreach ($i in 1..3) {
                $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
                "request $i" | Send-SocketData -Socket $c -AppendNewLine
                $c | Receive-SocketData -Line -TimeoutSec 10
                $c | Close-Socket
            }
            $replies | Should -Be @('served: request 1', 'served: request 2', 'served: request 3')
            $null = $server | Wait-Job -Timeout 30
            $server.State | Should -Be 'Completed'
        }

        It 'accepts each connection once when two thread jobs accept on the same listener' {
            $accept = {
                Import-Module $using:Module
                $using:listener | Receive-SocketConnection -Count 5 -TimeoutSec 30 | ForEach-Object {
                    $_.Id
                    $_ | Close-Socket
                }
            }
            $jobs = @(
                Start-ThreadJob -Name sc-concurrency-accept1 -ScriptBlock $accept
                Start-ThreadJob -Name sc-concurrency-accept2 -ScriptBlock $accept
            )
            $clients = foreach ($i in 1..10) { Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10 }
            $null = $jobs | Wait-Job -Timeout 30
            $jobs.State | Should -Be @('Completed', 'Completed')
            $ids = @($jobs | Receive-Job)
            $ids.Count | Should -Be 10
            @($ids | Sort-Object -Unique).Count | Should -Be 10
            $clients | Close-Socket
        }
    }

    Context 'Socket objects across runspaces' {
        It 'uses a socket made here from a thread job' {
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
            $peer = $listener | Receive-SocketConnection -TimeoutSec 10
            $job = Start-ThreadJob -Name sc-concurrency-use {
                Import-Module $using:Module
                'from the thread job' | Send-SocketData -Socket $using:client -AppendNewLine
                $using:client | Receive-SocketData -Line -TimeoutSec 10
            }
            $peer | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'from the thread job'
            'answer from here' | Send-SocketData -Socket $peer -AppendNewLine
            $job | Wait-Job -Timeout 30 | Receive-Job | Should -Be 'answer from here'
            $client.BytesSent | Should -Be ('from the thread job'.Length + 1)
        }

        It 'uses here a socket a thread job made, and Get-Socket lists it' {
            $job = Start-ThreadJob -Name sc-concurrency-make {
                Import-Module $using:Module
                Connect-Socket -ComputerName 127.0.0.1 -Port $using:port -TimeoutSec 10 -Name made-elsewhere
            }
            $made = $job | Wait-Job -Timeout 30 | Receive-Job
            $made.State | Should -Be 'Connected'
            (Get-Socket -Name made-elsewhere).Id | Should -Be $made.Id
            $peer = $listener | Receive-SocketConnection -TimeoutSec 10
            'across' | Send-SocketData -Socket $made
            $peer | Receive-SocketData -TimeoutSec 10 | Should -Be 'across'
        }

        It 'sees here a socket closed in another runspace as Closed, and out of the registry' {
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
            $job = Start-SecondPowerShell -ArgumentList $client { param($s) $s | Close-Socket; $s.State }
            try {
                Wait-SecondPowerShell $job -TimeoutSec 15 | Should -Be 'Closed'
            } finally {
                Remove-SecondPowerShell $job
            }
            $client.State | Should -Be 'Closed'
            Get-Socket -Id $client.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'ends a receive blocked in another runspace when the socket is closed here' {
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
            $peer = $listener | Receive-SocketConnection -TimeoutSec 10
            $job = Start-SecondPowerShell -ArgumentList $peer { param($s) $s | Receive-SocketData -Verbose -ErrorAction SilentlyContinue; 'ended' }
            try {
                Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
                $peer | Close-Socket
                Wait-SecondPowerShell $job -TimeoutSec 15 | Should -Be 'ended'
            } finally {
                Remove-SecondPowerShell $job
            }
        }
    }

    Context 'The registry' {
        It 'gives every socket made in 10 runspaces at once a unique id, increasing in each runspace' {
            $name = "sc-registry-$PID"
            $made = 1..10 | ForEach-Object -ThrottleLimit 10 -Parallel {
                Import-Module $using:Module
                $ids = foreach ($i in 1..20) { (New-Socket -Name $using:name).Id }
                [pscustomobject]@{ Runspace = $_; Ids = $ids }
            }
            $all = @($made | ForEach-Object { $_.Ids })
            $all.Count | Should -Be 200
            @($all | Sort-Object -Unique).Count | Should -Be 200
            foreach ($m in $made) {
                ($m.Ids | Sort-Object) | Should -Be $m.Ids -Because 'ids increase'
            }
            @(Get-Socket -Name $name).Count | Should -Be 200
        }

        It 'is back to its count once sockets opened and closed in parallel are closed' {
            $null = 1..10 | ForEach-Object -ThrottleLimit 10 -Parallel {
                Import-Module $using:Module
                foreach ($i in 1..10) {
                    $c = Connect-Socket -ComputerName 127.0.0.1 -Port $using:port -TimeoutSec 10
                    $c | Close-Socket
                }
            }
            # The listener's queue holds the 100 connections; accept and close them too.
            $peers = @($listener | Receive-SocketConnection -Count 100 -TimeoutSec 10)
            $peers.Count | Should -Be 100
            $peers | Close-Socket
            @(Get-Socket).Count | Should -Be ($before + 1)
            $listener | Close-Socket
            @(Get-Socket).Count | Should -Be $before
        }

        It 'lists from Get-Socket in this runspace what Get-Socket lists in another, in the same order' {
            $null = 1..3 | ForEach-Object { New-Socket -Name "sc-listing-$PID" }
            $job = Start-SecondPowerShell -ArgumentList "sc-listing-$PID" { param($name) (Get-Socket -Name $name).Id }
            try {
                Wait-SecondPowerShell $job -TimeoutSec 15 | Should -Be (Get-Socket -Name "sc-listing-$PID").Id
            } finally {
                Remove-SecondPowerShell $job
            }
        }
    }
}

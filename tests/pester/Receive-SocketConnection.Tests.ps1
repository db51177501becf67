BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    function New-Client {
        param([int] $Port)
        Connect-Socket -ComputerName 127.0.0.1 -Port $Port -TimeoutSec 5 -ErrorAction Stop
    }
}

AfterAll {
    Get-Socket | Close-Socket
}

BeforeDiscovery {
    # A second loopback address (tools/DevTools.psm1: Linux and Windows have it, macOS not without an alias).
    Import-Module (Join-Path $PSScriptRoot '../../tools/DevTools.psm1')
    $script:HasSecondLoopback = Test-LoopbackAddress 127.0.0.2
}

Describe 'Receive-SocketConnection' -Tag 'ReceiveSocketConnection' {
    BeforeEach {
        $server = Start-SocketListen -Port 0 -Address 127.0.0.1
        $port = $server.LocalEndPoint.Port
    }

    AfterEach {
        Get-Socket | Close-Socket
    }

    Context 'One connection (default)' {
        It 'accepts one connection and emits a Connected socket for it' {
            $client = New-Client $port
            $peer = @($server | Receive-SocketConnection -TimeoutSec 5)
            $peer.Count | Should -Be 1
            $peer[0].GetType().FullName | Should -Be 'SocketCmdlets.NetSocket'
            $peer[0].State | Should -Be 'Connected'
            $peer[0].Id | Should -Not -Be $server.Id
            $peer[0].RemoteEndPoint.Port | Should -Be $client.LocalEndPoint.Port
            $peer[0].LocalEndPoint.Port | Should -Be $port
        }

        It 'registers the accepted socket' {
            $null = New-Client $port
            $peer = $server | Receive-SocketConnection -TimeoutSec 5
            (Get-Socket -Id $peer.Id).Id | Should -Be $peer.Id
        }

        It 'leaves the listener listening' {
            $null = New-Client $port
            $null = $server | Receive-SocketConnection -TimeoutSec 5
            $server.State | Should -Be 'Listening'
        }

        It 'shows IPv4 peers of a dual-mode listener as 127.0.0.1, never ::ffff:' {
            $listener = New-Socket | Register-SocketBinding -Port 0 | Start-SocketListen
            $listener.Socket.DualMode | Should -BeTrue
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $listener.LocalEndPoint.Port -TimeoutSec 5
            $peer = $listener | Receive-SocketConnection -TimeoutSec 5
            $peer.RemoteEndPoint.Address.ToString() | Should -Be '127.0.0.1'
            $peer.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
            $client.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
            $client.RemoteEndPoint.Address.ToString() | Should -Be '127.0.0.1'
            (($peer, $client | Format-Table | Out-String -Width 250) -replace "\e\[[0-9;]*m") | Should -Not -Match 'ffff'
        }

        It 'labels the accepted socket with -Name' {
            $null = New-Client $port
            $peer = $server | Receive-SocketConnection -TimeoutSec 5 -Name 'incoming'
            $peer.Name | Should -Be 'incoming'
        }

        It 'accepts by -Id' {
            $client = New-Client $port
            $peer = Receive-SocketConnection -Id $server.Id -TimeoutSec 5
            $peer.RemoteEndPoint.Port | Should -Be $client.LocalEndPoint.Port
        }

        It 'takes -Socket by position' {
            $null = New-Client $port
            $peer = Receive-SocketConnection $server -TimeoutSec 5
            $peer.State | Should -Be 'Connected'
        }

        It 'takes Socket from the pipeline by property name' {
            $null = New-Client $port
            $peer = [pscustomobject]@{ Socket = $server } | Receive-SocketConnection -TimeoutSec 5
            $peer.State | Should -Be 'Connected'
        }

        It 'takes Id from the pipeline by property name' {
            $null = New-Client $port
            $peer = [pscustomobject]@{ Id = $server.Id } | Receive-SocketConnection -TimeoutSec 5
            $peer.State | Should -Be 'Connected'
        }
    }

    Context '-Count' {
        It 'accepts -Count connections' {
            $clients = 1..3 | ForEach-Object { New-Client $port }
            $peers = @($server | Receive-SocketConnection -Count 3 -TimeoutSec 5)
            $peers.Count | Should -Be 3
            ($peers.RemoteEndPoint.Port | Sort-Object) | Should -Be ($clients.LocalEndPoint.Port | Sort-Object)
        }

        It 'writes each accepted socket the moment it arrives' {
            # The second client only connects once the first accepted socket has reached the next command.
            $first = New-Client $port
            $clients = [System.Collections.Generic.List[object]]::new()
            $clients.Add($first)
            $peers = @($server | Receive-SocketConnection -Count 2 -TimeoutSec 5 | ForEach-Object {
                    if ($clients.Count -lt 2) { $clients.Add((New-Client $port)) }
                    $_
                })
            $peers.Count | Should -Be 2
            ($peers.RemoteEndPoint.Port | Sort-Object) | Should -Be ($clients.LocalEndPoint.Port | Sort-Object)
        }

        It 'rejects -Count -1 before accepting' {
            { $server | Receive-SocketConnection -Count -1 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.ReceiveSocketConnectionCommand'
        }

        It 'rejects -Count 0' {
            { $server | Receive-SocketConnection -Count 0 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.ReceiveSocketConnectionCommand'
        }

        It 'rejects -Count with -Continuous as ConflictingParameters' {
            { $server | Receive-SocketConnection -Count 2 -Continuous -ErrorAction Stop } | Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketConnectionCommand'
        }
    }

    Context '-Continuous' {
        It 'serves a ForEach-Object loop that Select-Object -First ends' {
            $clients = [System.Collections.Generic.List[object]]::new()
            $clients.Add((New-Client $port))
            $served = @($server | Receive-SocketConnection -Continuous -TimeoutSec 5 | ForEach-Object {
                    # A server loop: greet each client; the next client connects only once this one is served.
                    'welcome' | Send-SocketData -Socket $_ -AppendNewLine
                    if ($clients.Count -lt 3) { $clients.Add((New-Client $port)) }
                    $_
                } | Select-Object -First 3)
            $served.Count | Should -Be 3
            foreach ($client in $clients) {
                $client | Receive-SocketData -Line -TimeoutSec 5 | Should -Be 'welcome'
            }
            $server.State | Should -Be 'Listening'
        }

        It 'ends without an error when the listener is closed' {
            $clients = 1..2 | ForEach-Object { New-Client $port }
            $accepted = [System.Collections.Generic.List[object]]::new()
            $server | Receive-SocketConnection -Continuous -TimeoutSec 5 -ErrorVariable acceptErrors -ErrorAction SilentlyContinue |
                ForEach-Object {
                    $accepted.Add($_)
                    if ($accepted.Count -eq 2) { $server | Close-Socket }
                }
            $accepted.Count | Should -Be 2
            $server.State | Should -Be 'Closed'
            # "Accept connections until Ctrl+C, the end of the pipeline or the listener closes": closing is the end.
            @($acceptErrors) | Should -HaveCount 0 -Because "closing the listener ends -Continuous; got: $(@($acceptErrors) -join '; ')"
        }

        It 'ends on Ctrl+C without an error' {
            $job = Start-SecondPowerShell -ArgumentList $server {
                param($listener)
                $listener | Receive-SocketConnection -Continuous -Verbose | ForEach-Object { $_ | Close-Socket }
            }
            try {
                Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
                $job.PowerShell.Streams.Verbose[0].Message | Should -Match 'Waiting for a connection'
                Stop-SecondPowerShell $job -TimeoutSec 10 | Should -BeTrue
                $job.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
                Get-StopError $job | Should -BeNullOrEmpty
                Get-ErrorVariable $job | Should -BeNullOrEmpty
            } finally {
                Remove-SecondPowerShell $job
            }
            $server.State | Should -Be 'Listening'
        }
    }

    Context 'Timeouts, Ctrl+C and wrong state' {
        It 'reports AcceptTimeout when no client comes within -TimeoutSec' {
            $err = { $server | Receive-SocketConnection -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'AcceptTimeout,SocketCmdlets.Commands.ReceiveSocketConnectionCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err.TargetObject.Id | Should -Be $server.Id
            $err.ToString() | Should -Match ([regex]::Escape("127.0.0.1:$port"))
        }

        It 'ends a blocked accept on Ctrl+C with no error' {
            $job = Start-SecondPowerShell -ArgumentList $server { param($listener) $listener | Receive-SocketConnection -Verbose }
            try {
                Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
                $job.PowerShell.Streams.Verbose[0].Message | Should -Match 'Waiting for a connection'
                $job.PowerShell.BeginStop($null, $null).AsyncWaitHandle.WaitOne(10000) | Should -BeTrue
                $job.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
                Get-StopError $job | Should -BeNullOrEmpty
                Get-ErrorVariable $job | Should -BeNullOrEmpty
            } finally {
                Remove-SecondPowerShell $job
            }
            # The listener is still usable.
            $client = New-Client $port
            ($server | Receive-SocketConnection -TimeoutSec 5).RemoteEndPoint.Port | Should -Be $client.LocalEndPoint.Port
        }

        It 'reports InvalidSocketState, naming the state, when accepting on a bound socket that does not listen' {
            $bound = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
            $err = { $bound | Receive-SocketConnection -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ReceiveSocketConnectionCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $err.TargetObject.Id | Should -Be $bound.Id
            $err.ToString() | Should -Match '\bBound\b'
        }

        It 'reports InvalidSocketState, naming the state, when accepting on a connected socket' {
            $client = New-Client $port
            $err = { $client | Receive-SocketConnection -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ReceiveSocketConnectionCommand' -PassThru
            $err.ToString() | Should -Match '\bConnected\b'
        }

        It 'reports InvalidSocketState, naming the state, when accepting on a closed listener' {
            $server | Close-Socket
            $err = { $server | Receive-SocketConnection -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ReceiveSocketConnectionCommand' -PassThru
            $err.ToString() | Should -Match '\bClosed\b'
        }

        It 'rejects a negative -TimeoutSec' {
            { $server | Receive-SocketConnection -TimeoutSec -1 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.ReceiveSocketConnectionCommand'
        }
    }

    Context '-AllowAddress and -DenyAddress' {
        BeforeAll {
            function New-ClientFrom {
                param([int] $Port, [string] $From)
                New-Socket -AddressFamily InterNetwork | Register-SocketBinding -Address $From -Port 0 |
                    Connect-Socket -ComputerName 127.0.0.1 -Port $Port -TimeoutSec 5 -ErrorAction Stop
            }

            function Test-Closed {
                # True when the listener side closed the client's connection (end of stream or reset).
                param($Client)
                try { @($Client | Receive-SocketData -ToEnd -TimeoutSec 10 -ErrorAction Stop).Count -eq 0 } catch { $_.FullyQualifiedErrorId -like 'ConnectionReset*' }
            }
        }

        It 'closes a denied client at once and writes the next allowed one' -Skip:(-not $HasSecondLoopback) {
            $denied = New-ClientFrom $port 127.0.0.2
            $allowed = New-Client $port
            $peers = @($server | Receive-SocketConnection -DenyAddress 127.0.0.2 -TimeoutSec 5)
            $peers.Count | Should -Be 1
            $peers[0].RemoteEndPoint.Port | Should -Be $allowed.LocalEndPoint.Port
            Test-Closed $denied | Should -BeTrue
        }

        It 'writes only clients from the -AllowAddress ranges' -Skip:(-not $HasSecondLoopback) {
            $outsider = New-Client $port
            $insider = New-ClientFrom $port 127.0.0.2
            $peers = @($server | Receive-SocketConnection -AllowAddress '127.0.0.2/32', '::1' -TimeoutSec 5)
            $peers.Count | Should -Be 1
            $peers[0].RemoteEndPoint.Address.ToString() | Should -Be '127.0.0.2'
            Test-Closed $outsider | Should -BeTrue
            @(Get-Socket | Where-Object { $_.RemoteEndPoint -and $_.RemoteEndPoint.Port -eq $outsider.LocalEndPoint.Port }) | Should -BeNullOrEmpty
        }

        It 'does not count a rejected client towards -Count' -Skip:(-not $HasSecondLoopback) {
            $null = New-Client $port
            $null = New-ClientFrom $port 127.0.0.2
            $null = New-Client $port
            $peers = @($server | Receive-SocketConnection -Count 2 -DenyAddress 127.0.0.2 -TimeoutSec 5)
            $peers.Count | Should -Be 2
            $peers | ForEach-Object { $_.RemoteEndPoint.Address.ToString() } | Should -Be @('127.0.0.1', '127.0.0.1')
        }

        It 'matches IPv4 clients of a dual-mode listener as IPv4' {
            $listener = New-Socket | Register-SocketBinding -Port 0 | Start-SocketListen
            $null = Connect-Socket -ComputerName 127.0.0.1 -Port $listener.LocalEndPoint.Port -TimeoutSec 5
            $peer = $listener | Receive-SocketConnection -AllowAddress 127.0.0.1 -TimeoutSec 5
            $peer.RemoteEndPoint.Address.ToString() | Should -Be '127.0.0.1'
        }

        It 'says on the verbose stream whom it rejected' {
            $null = New-Client $port
            $records = $server | Receive-SocketConnection -DenyAddress 127.0.0.0/8 -TimeoutSec 1 -Verbose -ErrorAction SilentlyContinue 4>&1
            @($records | Get-VerboseMessage) -like 'Rejected 127.0.0.1:*' | Should -Not -BeNullOrEmpty
        }

        It 'rejects a malformed range before accepting anything' {
            $client = New-Client $port
            { $server | Receive-SocketConnection -AllowAddress '10.0.0.0/99' -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidAddressFilter,SocketCmdlets.Commands.ReceiveSocketConnectionCommand'
            # The pending client is still there for the next accept.
            ($server | Receive-SocketConnection -TimeoutSec 5).RemoteEndPoint.Port | Should -Be $client.LocalEndPoint.Port
        }
    }

    It 'says on the verbose stream that it waits and whom it accepted' {
        $client = New-Client $port
        $records = $server | Receive-SocketConnection -TimeoutSec 5 -Verbose 4>&1
        $verbose = @($records | Get-VerboseMessage)
        $peer = @($records | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })[0]
        $verbose[0] | Should -Match ([regex]::Escape("Waiting for a connection on 127.0.0.1:$port"))
        $verbose[-1] | Should -Match ([regex]::Escape("Accepted socket $($peer.Id): 127.0.0.1:$($client.LocalEndPoint.Port)"))
    }
}

BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    . (Join-Path $PSScriptRoot 'ServerHelpers.ps1')
}

AfterAll {
    Get-Job | Where-Object PSJobTypeName -EQ 'SocketServerJob' | Remove-Job -Force
    Get-Socket | Close-Socket
}

Describe 'Start-SocketServer' -Tag 'StartSocketServer' {
    AfterEach {
        Get-Job | Where-Object PSJobTypeName -EQ 'SocketServerJob' | Remove-Job -Force
        Get-Socket | Close-Socket
    }

    Context 'The job' {
        It 'returns a running SocketServerJob that Get-Job lists, with the port it listens on' {
            $job = Start-SocketServer -Port 0 -Address Loopback -Name 'srv' -ScriptBlock { }
            $job.PSJobTypeName | Should -Be 'SocketServerJob'
            $job.State | Should -Be 'Running'
            $job.LocalEndPoint.Port | Should -BeGreaterThan 0
            (Get-Job -Name 'srv').InstanceId | Should -Be $job.InstanceId
            (Get-Socket -Id $job.ListenerId).State | Should -Be 'Listening'
        }

        It 'serves 30 concurrent clients, each with its own run of the script block' {
            $job = Start-SocketServer -Port 0 -Address Loopback -ThrottleLimit 8 -ScriptBlock {
                $line = $_ | Receive-SocketData -Line -TimeoutSec 20
                "echo $line" | Send-SocketData -Socket $_ -AppendNewLine
            }
            $clients = 1..30 | ForEach-Object { New-Client $job.LocalEndPoint.Port }
            $i = 0
            foreach ($c in $clients) { "n$i" | Send-SocketData -Socket $c -AppendNewLine; $i++ }
            $i = 0
            foreach ($c in $clients) { $c | Receive-SocketData -Line -TimeoutSec 20 | Should -Be "echo n$i"; $i++ }
            $job.TotalConnections | Should -Be 30
        }

        It 'gives the socket as $_ and as the first argument, then -ArgumentList' {
            $job = Start-SocketServer -Port 0 -Address Loopback -ArgumentList 'two', 3 -ScriptBlock {
                param($Socket, $Second, $Third)
                "$($_.Id) $($Socket.Id) $($Socket.State) $Second $Third"
            }
            $client = New-Client $job.LocalEndPoint.Port
            Wait-Until -TimeoutSec 10 { @(Get-JobText $job).Count -gt 0 }
            $parts = @(Get-JobText $job)[0] -split ' '
            $parts[0] | Should -Be $parts[1]
            $parts[2..4] | Should -Be @('Connected', 'two', '3')
        }

        It 'delivers handler output while the handler still runs and no other client connects' {
            $job = Start-SocketServer -Port 0 -Address Loopback -ScriptBlock {
                'first words'
                $null = $_ | Receive-SocketData -Line -TimeoutSec 30
                'last words'
            }
            $client = New-Client $job.LocalEndPoint.Port
            Wait-Until -TimeoutSec 5 -Because 'the first output before the handler ends' { (Get-JobText $job) -contains 'first words' }
            Get-JobText $job | Should -Not -Contain 'last words'
            $job.ActiveConnections | Should -Be 1
            'go' | Send-SocketData -Socket $client -AppendNewLine
            Wait-Until -TimeoutSec 10 { (Get-JobText $job) -contains 'last words' }
        }

        It 'delivers Write-Host text as information records as it is written' {
            $job = Start-SocketServer -Port 0 -Address Loopback -ScriptBlock {
                Write-Host "hello from $($_.Id)"
                $null = $_ | Receive-SocketData -Line -TimeoutSec 30
            }
            $client = New-Client $job.LocalEndPoint.Port
            Wait-Until -TimeoutSec 5 { $job.Information.Count -gt 0 }
            "$($job.Information[0].MessageData)" | Should -BeLike 'hello from *'
        }

        It 'closes the connection when the handler returns' {
            $job = Start-SocketServer -Port 0 -Address Loopback -ScriptBlock { 'bye' | Send-SocketData -Socket $_ -AppendNewLine }
            $client = New-Client $job.LocalEndPoint.Port
            $client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'bye'
            Test-EndOfStream $client | Should -BeTrue
            Wait-Until -TimeoutSec 10 { $job.ActiveConnections -eq 0 }
        }

        It 'formats the job in one row of at most 80 columns' {
            $job = Start-SocketServer -Port 0 -Address Loopback -ScriptBlock { }
            $lines = @(($job | Format-Table | Out-String -Width 200) -split "`n" | Where-Object { $_.Trim() })
            $lines.Count | Should -Be 3
            ($lines | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 80
            $lines[0] | Should -Match 'Active'
        }
    }

    Context 'Failing and hanging handlers' {
        It 'makes Write-Error in a handler a job error and goes on serving' {
            $job = Start-SocketServer -Port 0 -Address Loopback -ScriptBlock { Write-Error -Message "bad $($_.Id)" -ErrorId 'HandlerFailed'; 'after' }
            $null = New-Client $job.LocalEndPoint.Port
            Wait-Until -TimeoutSec 10 { $job.Error.Count -gt 0 }
            $job.Error[0].FullyQualifiedErrorId | Should -BeLike 'HandlerFailed*'
            $null = New-Client $job.LocalEndPoint.Port
            Wait-Until -TimeoutSec 10 { $job.TotalConnections -eq 2 -and @(Get-JobText $job | Where-Object { $_ -eq 'after' }).Count -eq 2 }
            $job.State | Should -Be 'Running'
        }

        It 'makes a throw in a handler a job error and goes on serving' {
            $job = Start-SocketServer -Port 0 -Address Loopback -ScriptBlock { throw 'handler blew up' }
            $first = New-Client $job.LocalEndPoint.Port
            Wait-Until -TimeoutSec 10 { $job.Error.Count -gt 0 }
            "$($job.Error[0])" | Should -Be 'handler blew up'
            Test-EndOfStream $first | Should -BeTrue
            $null = New-Client $job.LocalEndPoint.Port
            Wait-Until -TimeoutSec 10 { $job.Error.Count -eq 2 }
            $job.State | Should -Be 'Running'
        }

        It 'goes on serving while a handler hangs' {
            $job = Start-SocketServer -Port 0 -Address Loopback -ThrottleLimit 2 -ScriptBlock {
                param($s)
                $first = $s | Receive-SocketData -Line
                if ($first -eq 'hang') { $null = $s | Receive-SocketData -Line }
                "done $first" | Send-SocketData -Socket $s -AppendNewLine
            }
            $hanging = New-Client $job.LocalEndPoint.Port
            'hang' | Send-SocketData -Socket $hanging -AppendNewLine
            $other = New-Client $job.LocalEndPoint.Port
            'quick' | Send-SocketData -Socket $other -AppendNewLine
            $other | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'done quick'
        }
    }

    Context 'Stop-Job and Remove-Module' {
        It 'frees the port by the time Stop-Job returns and closes the listener' {
            $job = Start-SocketServer -Port 0 -Address 127.0.0.1 -ScriptBlock { }
            $port = $job.LocalEndPoint.Port
            $job | Stop-Job
            $job.State | Should -Be 'Stopped'
            Get-Socket -Id $job.ListenerId | Should -BeNullOrEmpty
            $again = Start-SocketListen -Port $port -Address 127.0.0.1 -ErrorAction Stop
            $again.LocalEndPoint.Port | Should -Be $port
        }

        It 'ends a handler blocked in a receive and closes its connection' {
            $job = Start-SocketServer -Port 0 -Address Loopback -ScriptBlock { 'waiting'; $null = $_ | Receive-SocketData -Line; 'never' }
            $client = New-Client $job.LocalEndPoint.Port
            Wait-Until -TimeoutSec 10 { (Get-JobText $job) -contains 'waiting' }
            $job | Stop-Job
            Test-EndOfStream $client | Should -BeTrue
            $job.ActiveConnections | Should -Be 0
            Get-JobText $job | Should -Not -Contain 'never'
            $job.Error | Should -BeNullOrEmpty
            @(Get-Socket | Where-Object { $_.Id -ne $client.Id }) | Should -BeNullOrEmpty
        }

        It 'ends Start-SocketServer on Ctrl+C while it opens its runspaces, leaving nothing behind' {
            $second = Start-SecondPowerShell {
                $global:started = Start-SocketServer -Port 0 -Address 127.0.0.1 -Name 'cancelled' -ThrottleLimit 2 -ScriptBlock { } -Verbose
            }
            try {
                Wait-Until -TimeoutSec 30 { $second.PowerShell.Streams.Verbose.Count -gt 0 -or $second.Handle.IsCompleted }
                Stop-SecondPowerShell $second -TimeoutSec 20 | Should -BeTrue
                Get-StopError $second | Should -BeNullOrEmpty
                $second.PowerShell.Commands.Clear()
                # Stopped while opening: no job and no listener; finished first: one running job, which is removed here.
                $left = @($second.PowerShell.AddScript('@(Get-Job).Count; @(Get-Socket -Name cancelled).Count; Get-Job | Remove-Job -Force').Invoke())
                if ($left[0] -eq 0) { $left[1] | Should -Be 0 }
                $left[0] | Should -BeLessOrEqual 1
            } finally {
                $second | Remove-SecondPowerShell
            }
        }

        It 'stops a running server on Remove-Job -Force' {
            $job = Start-SocketServer -Port 0 -Address 127.0.0.1 -ScriptBlock { }
            $port = $job.LocalEndPoint.Port
            $job | Remove-Job -Force
            { New-Client $port } | Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
        }

        It 'stops the servers of a session when the module is removed there' {
            $second = Start-SecondPowerShell {
                $job = Start-SocketServer -Port 0 -Address 127.0.0.1 -ScriptBlock { $null = $_ | Receive-SocketData -Line }
                $job.LocalEndPoint.Port
                Remove-Module SocketCmdlets
                $job.State
            }
            try {
                $out = @(Wait-SecondPowerShell $second -TimeoutSec 60)
                $out[1] | Should -Be 'Stopped'
                { New-Client $out[0] } | Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
            } finally {
                $second | Remove-SecondPowerShell
            }
        }

        It 'runs servers of two runspaces at once; removing the module in one leaves the other serving' {
            $script = {
                param($Name)
                $job = Start-SocketServer -Port 0 -Address 127.0.0.1 -Name $Name -ScriptBlock { param($s, $n) "$n" | Send-SocketData -Socket $s -AppendNewLine } -ArgumentList $Name
                $c = Connect-Socket -ComputerName 127.0.0.1 -Port $job.LocalEndPoint.Port -TimeoutSec 10
                $c | Receive-SocketData -Line -TimeoutSec 10
                $c | Close-Socket
                $job.LocalEndPoint.Port
            }
            $one = Start-SecondPowerShell $script -ArgumentList 'one'
            $two = Start-SecondPowerShell $script -ArgumentList 'two'
            try {
                $outOne = @(Wait-SecondPowerShell $one -TimeoutSec 60)
                $outTwo = @(Wait-SecondPowerShell $two -TimeoutSec 60)
                $outOne[0] | Should -Be 'one'
                $outTwo[0] | Should -Be 'two'
                $one.PowerShell.Commands.Clear()
                $null = $one.PowerShell.AddScript('Remove-Module SocketCmdlets').Invoke()
                { New-Client $outOne[1] } | Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
                $c = New-Client $outTwo[1]
                $c | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'two'
            } finally {
                # Closing a runspace does not stop its servers (as it does not close its sockets): stop it there.
                $two.PowerShell.Commands.Clear()
                $null = $two.PowerShell.AddScript('Get-Job | Remove-Job -Force').Invoke()
                $one, $two | Remove-SecondPowerShell
            }
        }

        It 'fails with ListenerClosed when its listener is closed behind its back' {
            $job = Start-SocketServer -Port 0 -Address Loopback -ScriptBlock { }
            Get-Socket -Id $job.ListenerId | Close-Socket
            Wait-Until -TimeoutSec 10 { $job.State -eq 'Failed' }
            $job.Error[0].FullyQualifiedErrorId | Should -Be 'ListenerClosed,SocketCmdlets.Commands.StartSocketServerCommand'
        }

        It 'leaves no descriptor or thread behind after serving and stopping' {
            # One round first, so what the runtime keeps for good (thread pool, caches) is already counted.
            $warm = Start-SocketServer -Port 0 -Address Loopback -ScriptBlock { 'x' | Send-SocketData -Socket $_ }
            $c = New-Client $warm.LocalEndPoint.Port; $null = $c | Receive-SocketData -TimeoutSec 10; $c | Close-Socket
            $warm | Remove-Job -Force
            Invoke-FullGC
            $before = Get-ResourceCount
            foreach ($round in 1..3) {
                $job = Start-SocketServer -Port 0 -Address Loopback -ThrottleLimit 4 -ScriptBlock { 'x' | Send-SocketData -Socket $_ }
                $clients = 1..5 | ForEach-Object { New-Client $job.LocalEndPoint.Port }
                foreach ($c in $clients) { $null = $c | Receive-SocketData -TimeoutSec 10 }
                $clients | Close-Socket
                $job | Remove-Job -Force
            }
            Wait-Until -TimeoutSec 30 -IntervalMs 250 -Because 'descriptors and threads back to where they were' {
                Invoke-FullGC
                $now = Get-ResourceCount
                $now.Handles -le $before.Handles + 2 -and $now.Threads -le $before.Threads + 4
            }
        }
    }
}

# The one-line mock server of the README and the help, as a test writer would use it.
Describe 'A mock server in BeforeAll' -Tag 'StartSocketServer' {
    BeforeAll {
        $script:Mock = Start-SocketServer -Port 0 -Address Loopback { 'OK ready' | Send-SocketData -Socket $_ -AppendNewLine }
        $script:MockPort = $Mock.LocalEndPoint.Port
    }

    AfterAll {
        $Mock | Stop-Job -PassThru | Remove-Job
    }

    It 'answers the client under test' {
        $c = Connect-Socket -ComputerName 127.0.0.1 -Port $MockPort -TimeoutSec 5
        $c | Receive-SocketData -Line -TimeoutSec 5 | Should -Be 'OK ready'
        $c | Close-Socket
    }
}

Describe 'After the mock server' -Tag 'StartSocketServer' {
    It 'left no socket and no job behind' {
        @(Get-Socket) | Should -BeNullOrEmpty
        @(Get-Job | Where-Object PSJobTypeName -EQ 'SocketServerJob') | Should -BeNullOrEmpty
        { Connect-Socket -ComputerName 127.0.0.1 -Port $MockPort -TimeoutSec 5 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
    }
}

# The README's two Start-SocketServer blocks run as written.
Describe 'README: servers in one line and the mock server' -Tag 'StartSocketServer' {
    BeforeAll {
        $readme = Get-Content -Raw (Join-Path $PSScriptRoot '../../README.md')
        function Get-SectionBlock([string] $Heading) {
            $section = [regex]::Match($readme, "(?s)\n## $([regex]::Escape($Heading))\r?\n(.*?)(\n## |\z)").Groups[1].Value
            [regex]::Match($section, '(?s)```pwsh\r?\n(.*?)```').Groups[1].Value
        }

        function Invoke-InRunspace([string] $Script) {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript("`$ErrorActionPreference = 'Stop'; Import-Module '$ModulePath'`n" + $Script)
                $handle = $ps.BeginInvoke()
                if (-not $handle.AsyncWaitHandle.WaitOne(60000)) {
                    $null = $ps.BeginStop($null, $null).AsyncWaitHandle.WaitOne(10000)
                    throw 'The README block did not finish within 60 s.'
                }
                [pscustomobject]@{ Output = @($ps.EndInvoke($handle) | ForEach-Object { "$_" }); Errors = @($ps.Streams.Error | ForEach-Object { "$_" }) }
            } finally {
                $ps.Dispose()
            }
        }
    }

    It 'runs the echo server block and receives what the handler wrote' {
        $block = Get-SectionBlock 'Servers in one line: Start-SocketServer'
        $block | Should -Not -BeNullOrEmpty
        $result = Invoke-InRunspace ($block + "`n'jobs:' + @(Get-Job | Where-Object PSJobTypeName -EQ 'SocketServerJob').Count")
        $result.Errors | Should -BeNullOrEmpty
        $result.Output | Should -Contain 'echo: hi'
        $result.Output -like 'served 127.0.0.1:*' | Should -Not -BeNullOrEmpty
        $result.Output[-1] | Should -Be 'jobs:0'
    }

    It 'runs the mock server test with Pester and leaves no server behind' {
        $block = Get-SectionBlock 'Testing your own scripts with a mock server'
        $block | Should -Not -BeNullOrEmpty
        $pester = (Get-Module Pester).Path
        $script = "Import-Module '$pester'`n" +
            "`$r = Invoke-Pester -Container (New-PesterContainer -ScriptBlock ([scriptblock]::Create(`$args[0]))) -PassThru -Output None`n" +
            "'passed:' + `$r.PassedCount; 'failed:' + `$r.FailedCount; 'jobs:' + @(Get-Job | Where-Object PSJobTypeName -EQ 'SocketServerJob').Count"
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$ModulePath'`n" + $script).AddArgument($block)
            $handle = $ps.BeginInvoke()
            $handle.AsyncWaitHandle.WaitOne(90000) | Should -BeTrue
            $out = @($ps.EndInvoke($handle) | ForEach-Object { "$_" })
        } finally {
            $ps.Dispose()
        }
        $out | Should -Be @('passed:1', 'failed:0', 'jobs:0')
    }
}

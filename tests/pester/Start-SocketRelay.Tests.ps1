# Start-SocketRelay: the port forwarder as a job. Job life cycle, sessions in Receive-Job (and Export-Csv), Stop-Job,
# Wait-Job, Remove-Job and Remove-Module, no leaks after 1,000 connections, limits and allow/deny, idle timeout, bad
# input. Transports and third-party peers are in Start-SocketRelay.Transports.Tests.ps1. Loopback only; waits bounded.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Certificates.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    $ProgressPreference = 'SilentlyContinue'
    . (Join-Path $PSScriptRoot 'Relay.Common.ps1')
}

AfterAll {
    Stop-RelayTestPeers
    Get-Socket | Close-Socket
}

Describe 'Start-SocketRelay' -Tag 'Relay' {
    BeforeEach {
        $server = Start-SocketListen -Port 0 -Address Loopback | Use-Socket
        $serverPort = $server.LocalEndPoint.Port
    }

    AfterEach {
        Clear-RelayTestState
    }

    Context 'job life cycle' {
        It 'returns a running SocketRelayJob that Get-Job lists, with its endpoints and counters' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort; Name = 'fwd' }
            $relay.PSJobTypeName | Should -Be 'SocketRelayJob'
            $relay.State | Should -Be 'Running'
            $relay.LocalPort | Should -BeGreaterThan 0
            $relay.LocalEndPoint | Should -Be "127.0.0.1:$($relay.LocalPort)"
            $relay.Target | Should -Be "127.0.0.1:$serverPort"
            (Get-Job -Name fwd).Id | Should -Be $relay.Id
            $relay.RejectedConnections | Should -Be 0
            $relay.BytesToTarget, $relay.BytesToSource | Should -Be 0, 0
        }

        It 'forwards a connection both ways and Receive-Job yields its session' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            $peer = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            'request' | Send-SocketData -Socket $client -AppendNewLine
            $peer | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'request'
            Wait-Until -TimeoutSec 10 { $relay.ActiveConnections -eq 1 -and $relay.BytesToTarget -eq 8 }
            'reply!' | Send-SocketData -Socket $peer
            $peer | Close-Socket -Direction Send
            $client | Receive-SocketData -ToEnd -TimeoutSec 10 | Should -Be 'reply!'
            $client | Close-Socket -Direction Send
            $session = Receive-Session $relay
            $session.EndReason | Should -Be 'Closed'
            $session.BytesToTarget | Should -Be 8
            $session.BytesToSource | Should -Be 6
            $session.SourceEndPoint | Should -Be ([SocketCmdlets.NetSocket]::Format($client.LocalEndPoint))
            $session.TargetEndPoint | Should -Be "127.0.0.1:$serverPort"
            $relay.TotalConnections | Should -Be 1
            $relay.ActiveConnections | Should -Be 0
        }

        It 'Stop-Job closes the listener and the relayed connections, whose sessions end as Stopped' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            $peer = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            $relay | Stop-Job
            $relay.State | Should -Be 'Stopped'
            @($client | Receive-SocketData -ToEnd -TimeoutSec 10).Count | Should -Be 0
            @($peer | Receive-SocketData -ToEnd -TimeoutSec 10).Count | Should -Be 0
            ($relay | Receive-Job).EndReason | Should -Be 'Stopped'
            { Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
        }

        It 'Wait-Job waits until the relay is stopped, and Remove-Job removes it' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort }
            $relay | Wait-Job -Timeout 1 | Should -BeNullOrEmpty
            $relay | Stop-Job
            ($relay | Wait-Job -Timeout 10).State | Should -Be 'Stopped'
            $relay | Remove-Job
            Get-Job -Id $relay.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'writes a connection log with Receive-Job | Export-Csv' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort }
            foreach ($i in 1..3) {
                $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
                $peer = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
                "line $i" | Send-SocketData -Socket $client
                $client | Close-Socket -Direction Send
                $null = $peer | Receive-SocketData -ToEnd -TimeoutSec 10
                $peer | Close-Socket
            }
            $sessions = Receive-Session $relay -Count 3
            $csv = Join-Path $Folder 'log.csv'
            $sessions | Export-Csv -LiteralPath $csv -NoTypeInformation
            $rows = @(Import-Csv -LiteralPath $csv)
            $rows.Count | Should -Be 3
            $rows[0].PSObject.Properties.Name | Should -Contain 'SourceEndPoint'
            $rows.BytesToTarget | Should -Be '6', '6', '6'
            $rows.EndReason | Should -Be 'Closed', 'Closed', 'Closed'
        }

        It 'Remove-Module stops the relays of its session' {
            $job = Start-SecondPowerShell -ArgumentList $serverPort {
                param($p)
                $r = Start-SocketRelay -ListenPort 0 -ListenAddress 127.0.0.1 -ComputerName 127.0.0.1 -Port $p
                Remove-Module SocketCmdlets
                $r.LocalPort
                $r.JobStateInfo.State
            }
            try {
                $port, $state = Wait-SecondPowerShell $job -TimeoutSec 30
                $state | Should -Be 'Stopped'
                { Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -ErrorAction Stop } |
                    Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'Remove-Module in one runspace leaves the relays of another running' {
            $mine = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort }
            $job = Start-SecondPowerShell -ArgumentList $serverPort {
                param($p)
                $r = Start-SocketRelay -ListenPort 0 -ListenAddress 127.0.0.1 -ComputerName 127.0.0.1 -Port $p
                Remove-Module SocketCmdlets
                $r.JobStateInfo.State
            }
            try {
                Wait-SecondPowerShell $job -TimeoutSec 30 | Should -Be 'Stopped'
                $mine.State | Should -Be 'Running'
                $client = Connect-Socket -ComputerName 127.0.0.1 -Port $mine.LocalPort -TimeoutSec 10 | Use-Socket
                $peer = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
                'still here' | Send-SocketData -Socket $client
                $peer | Receive-SocketData -TimeoutSec 10 | Should -Be 'still here'
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'leaves no thread or descriptor behind after 1,000 relayed connections and Stop-Job' {
            if (-not $Python) { Set-ItResult -Skipped -Because 'python3 is not installed (Debian package python3)'; return }
            Get-RelayThread | Should -BeNullOrEmpty -Because 'the relays of the earlier tests were stopped'
            # A first, small round pays for what the process sets up once (the runtime's socket engine, the pipes
            # of a native command); the count before is taken after it.
            $warm = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $EchoPort }
            & $Python.Source $Peers clients $warm.LocalPort 20 20 1024 | Should -Be 'ok 20'
            $warm | Stop-Job
            Invoke-FullGC
            $before = Get-ResourceCount
            $beforeFds = Get-DescriptorTarget
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $EchoPort }
            $run = & $Python.Source $Peers clients $relay.LocalPort 1000 20 1024
            $run | Should -Be 'ok 1000'
            Wait-Until -TimeoutSec 20 { $relay.ActiveConnections -eq 0 }
            $relay.TotalConnections | Should -Be 1000
            $relay | Stop-Job
            $relay | Remove-Job
            try {
                # A leak of the relay would hold one or two descriptors per connection (1,000 to 2,000); the few of
                # slack allow for what the runtime opens once, late, in a process that ran other test files before.
                Wait-Until -TimeoutSec 20 -Because 'the descriptors to go back to where they were' {
                    Invoke-FullGC
                    (Get-ResourceCount).Handles -le $before.Handles + 8
                }
            } catch {
                $extra = Compare-Object $beforeFds (Get-DescriptorTarget) | Where-Object SideIndicator -EQ '=>' | ForEach-Object InputObject
                throw "$_ Before: $($before.Handles); now: $((Get-ResourceCount).Handles); new descriptors: $($extra -join ', ')"
            }
            Get-RelayThread | Should -BeNullOrEmpty
        }
    }

    Context 'limits' {
        It 'closes clients beyond -MaxConnections at once and counts them' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort; MaxConnections = 1 }
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            $null = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            Wait-Until -TimeoutSec 10 { $relay.ActiveConnections -eq 1 }
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            @($second | Receive-SocketData -ToEnd -TimeoutSec 10).Count | Should -Be 0
            $relay.RejectedConnections | Should -Be 1
            $relay.TotalConnections | Should -Be 1
            'still relayed' | Send-SocketData -Socket $first
            $first.State | Should -Be 'Connected'
        }

        It 'relays only -AllowAddress clients and closes a -DenyAddress client (127.0.0.2 vs 127.0.0.1)' {
            if (-not $IsLinux) { Set-ItResult -Skipped -Because 'binding clients to 127.0.0.2 and 127.0.0.3 needs Linux (the whole 127.0.0.0/8 on lo)'; return }
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort; ListenAddress = 'Any'; AllowAddress = '127.0.0.0/8', '::1'; DenyAddress = '127.0.0.2/32' }
            $denied = New-Socket -AddressFamily InterNetwork | Register-SocketBinding -Address 127.0.0.2 -Port 0 | Use-Socket
            $null = $denied | Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10
            @($denied | Receive-SocketData -ToEnd -TimeoutSec 10 -ErrorAction SilentlyContinue).Count | Should -Be 0
            $relay.RejectedConnections | Should -Be 1
            $allowed = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            $peer = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            'allowed' | Send-SocketData -Socket $allowed
            $peer | Receive-SocketData -TimeoutSec 10 | Should -Be 'allowed'
            $relay.TotalConnections | Should -Be 1
        }

        It 'refuses a client outside -AllowAddress' {
            if (-not $IsLinux) { Set-ItResult -Skipped -Because 'binding clients to 127.0.0.2 and 127.0.0.3 needs Linux (the whole 127.0.0.0/8 on lo)'; return }
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort; AllowAddress = '127.0.0.1' }
            $outside = New-Socket -AddressFamily InterNetwork | Register-SocketBinding -Address 127.0.0.3 -Port 0 | Use-Socket
            $null = $outside | Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10
            @($outside | Receive-SocketData -ToEnd -TimeoutSec 10 -ErrorAction SilentlyContinue).Count | Should -Be 0
            $relay.RejectedConnections | Should -Be 1
            $relay.TotalConnections | Should -Be 0
        }

        It 'closes an idle connection after -IdleTimeoutSec' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort; IdleTimeoutSec = 0.3 }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            $null = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            @($client | Receive-SocketData -ToEnd -TimeoutSec 10).Count | Should -Be 0
            (Receive-Session $relay).EndReason | Should -Be 'IdleTimeout'
        }
    }

    Context 'bad input' {
        It 'rejects invalid CIDR text with InvalidAddressFilter before anything is bound' {
            $port = Get-FreePort
            { Start-SocketRelay -ListenPort $port -ListenAddress 127.0.0.1 -ComputerName 127.0.0.1 -Port $serverPort -AllowAddress '10.0.0.0/33' -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidAddressFilter,SocketCmdlets.Commands.StartSocketRelayCommand'
            { Start-SocketRelay -ListenPort $port -ComputerName 127.0.0.1 -Port $serverPort -DenyAddress 'nonsense' -ErrorAction Stop } |
                Should -Throw -ExpectedMessage '*nonsense*'
            $listener = Start-SocketListen -Port $port -Address 127.0.0.1 | Use-Socket
            $listener.State | Should -Be 'Listening'
        }

        It 'reports a listening port in use as AddressInUse' {
            { Start-SocketRelay -ListenPort $serverPort -ListenAddress 127.0.0.1 -ComputerName 127.0.0.1 -Port 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'AddressInUse,SocketCmdlets.Commands.StartSocketRelayCommand'
        }

        It 'reports a refused target per connection, closes the client and keeps running' {
            $closedPort = Get-FreePort
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $closedPort }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            @($client | Receive-SocketData -ToEnd -TimeoutSec 10 -ErrorAction SilentlyContinue).Count | Should -Be 0
            $session = Receive-Session $relay
            $session.EndReason | Should -Be 'Error'
            $session.Error | Should -Match 'ConnectionRefused'
            $relay.State | Should -Be 'Running'
        }

        It 'refuses -SkipCertificateCheck without -UseTls' {
            { Start-SocketRelay -ListenPort 0 -ComputerName 127.0.0.1 -Port 1 -SkipCertificateCheck -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.StartSocketRelayCommand'
        }
    }
}

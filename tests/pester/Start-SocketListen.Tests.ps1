BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Start-SocketListen' -Tag 'StartSocketListen' {
    AfterEach {
        Get-Socket | Close-Socket
    }

    Context 'Socket parameter set' {
        It 'makes a bound socket from the pipeline listen and emits the same socket' {
            $s = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
            $listener = $s | Start-SocketListen
            [object]::ReferenceEquals($listener, $s) | Should -BeTrue
            $s.State | Should -Be 'Listening'
        }

        It 'accepts a connection once listening' {
            $listener = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0 | Start-SocketListen
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $listener.LocalEndPoint.Port -TimeoutSec 5
            $client.State | Should -Be 'Connected'
            $peer = $listener | Receive-SocketConnection -TimeoutSec 5
            $peer.RemoteEndPoint.Port | Should -Be $client.LocalEndPoint.Port
        }

        It 'takes -Socket by name' {
            $s = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
            $null = Start-SocketListen -Socket $s
            $s.State | Should -Be 'Listening'
        }

        It 'takes Socket from the pipeline by property name' {
            $s = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
            $null = [pscustomobject]@{ Socket = $s } | Start-SocketListen
            $s.State | Should -Be 'Listening'
        }

        It 'honours -Backlog: connections beyond the queue wait' {
            # With a backlog of 1 and nobody accepting, the kernel queues only a couple of connections; the next connect
            # cannot complete. Without the backlog (the system maximum), all of them would.
            $listener = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0 | Start-SocketListen -Backlog 1
            $outcome = for ($i = 0; $i -lt 8; $i++) {
                try {
                    $null = Connect-Socket -ComputerName 127.0.0.1 -Port $listener.LocalEndPoint.Port -TimeoutSec 1 -ErrorAction Stop
                } catch {
                    $_.FullyQualifiedErrorId
                    break
                }
            }
            $outcome | Should -Be 'ConnectTimeout,SocketCmdlets.Commands.ConnectSocketCommand'
        }

        It 'rejects -Backlog 0' {
            $s = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
            { $s | Start-SocketListen -Backlog 0 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.StartSocketListenCommand'
        }
    }

    Context 'Id parameter set' {
        It 'makes the socket with that -Id listen' {
            $s = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
            $listener = Start-SocketListen -Id $s.Id
            $listener.Id | Should -Be $s.Id
            $s.State | Should -Be 'Listening'
        }

        It 'takes Id from the pipeline by property name' {
            $s = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
            $null = [pscustomobject]@{ Id = $s.Id } | Start-SocketListen
            $s.State | Should -Be 'Listening'
        }

        It 'reports SocketNotFound for an -Id that names no open socket' {
            $s = New-Socket
            $id = $s.Id
            $s | Close-Socket
            { Start-SocketListen -Id $id -ErrorAction Stop } | Should -Throw -ErrorId 'SocketNotFound,SocketCmdlets.Commands.StartSocketListenCommand'
        }
    }

    Context 'Port shortcut' {
        It 'creates, binds and listens in one call' {
            $before = @(Get-Socket).Count
            $listener = Start-SocketListen -Port 0 -Address 127.0.0.1
            $listener.State | Should -Be 'Listening'
            $listener.LocalEndPoint.Port | Should -BeGreaterThan 0
            $listener.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
            @(Get-Socket).Count | Should -Be ($before + 1)
        }

        It 'listens on every interface without -Address' {
            $listener = Start-SocketListen -Port 0
            $listener.LocalEndPoint.Address | Should -BeIn @([System.Net.IPAddress]::Any, [System.Net.IPAddress]::IPv6Any)
            # Every interface includes both loopback addresses for the default dual-mode socket.
            $a = Connect-Socket -ComputerName 127.0.0.1 -Port $listener.LocalEndPoint.Port -TimeoutSec 5
            $b = Connect-Socket -ComputerName ::1 -Port $listener.LocalEndPoint.Port -TimeoutSec 5
            $a.State | Should -Be 'Connected'
            $b.State | Should -Be 'Connected'
        }

        It 'takes -Port and -Address by position' {
            $listener = Start-SocketListen 0 127.0.0.1
            $listener.State | Should -Be 'Listening'
            $listener.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
        }

        It 'takes Port and Address from the pipeline by property name' {
            $listener = [pscustomobject]@{ Port = 0; Address = '127.0.0.1' } | Start-SocketListen
            $listener.State | Should -Be 'Listening'
            $listener.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
        }

        It 'resolves a host name -Address within a fractional -TimeoutSec' {
            $listener = Start-SocketListen -Port 0 -Address localhost -AddressFamily InterNetwork -TimeoutSec 2.5
            $listener.State | Should -Be 'Listening'
            $listener.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
        }

        It 'rejects a negative -TimeoutSec' {
            { Start-SocketListen -Port 0 -Address localhost -TimeoutSec -1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.StartSocketListenCommand'
        }

        It 'sets -Name on the new socket' {
            $listener = Start-SocketListen -Port 0 -Address 127.0.0.1 -Name 'web'
            $listener.Name | Should -Be 'web'
            (Get-Socket -Name 'web').Id | Should -Be $listener.Id
        }

        It 'listens on ::1 with -AddressFamily InterNetworkV6' {
            $listener = Start-SocketListen -Port 0 -Address ::1 -AddressFamily InterNetworkV6
            $listener.LocalEndPoint.Address.ToString() | Should -Be '::1'
            $client = Connect-Socket -ComputerName ::1 -Port $listener.LocalEndPoint.Port -TimeoutSec 5
            $client.RemoteEndPoint.Address.ToString() | Should -Be '::1'
        }

        It 'reports AddressInUse for a port in use' {
            $first = Start-SocketListen -Port 0 -Address 127.0.0.1
            $err = { Start-SocketListen -Port $first.LocalEndPoint.Port -Address 127.0.0.1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'AddressInUse,SocketCmdlets.Commands.StartSocketListenCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.ToString() | Should -Match ([regex]::Escape("127.0.0.1:$($first.LocalEndPoint.Port)"))
        }

        It 'leaves no socket open after AddressInUse (-ErrorAction SilentlyContinue)' {
            $first = Start-SocketListen -Port 0 -Address 127.0.0.1
            $before = @(Get-Socket).Count
            Start-SocketListen -Port $first.LocalEndPoint.Port -Address 127.0.0.1 -ErrorAction SilentlyContinue
            @(Get-Socket).Count | Should -Be $before
        }

        It 'leaves no socket open after AddressInUse (-ErrorAction Stop)' {
            $first = Start-SocketListen -Port 0 -Address 127.0.0.1
            $before = @(Get-Socket).Count
            try { Start-SocketListen -Port $first.LocalEndPoint.Port -Address 127.0.0.1 -ErrorAction Stop } catch { $null = $_ }
            # A script with $ErrorActionPreference = 'Stop' must not be left holding a half-made socket it never saw.
            @(Get-Socket).Count | Should -Be $before -Because "the sockets now open are: $((Get-Socket) -join '; ')"
        }

        It 'rejects port 70000 before any socket call' {
            $before = @(Get-Socket).Count
            { Start-SocketListen -Port 70000 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.StartSocketListenCommand'
            @(Get-Socket).Count | Should -Be $before
        }
    }

    Context 'Wrong state' {
        It 'reports InvalidSocketState, naming the state, when listening before binding' {
            $s = New-Socket
            $err = { $s | Start-SocketListen -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.StartSocketListenCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $err.TargetObject.Id | Should -Be $s.Id
            $err.ToString() | Should -Match '\bCreated\b'
            $s.State | Should -Be 'Created'
        }

        It 'reports InvalidSocketState, naming the state, for a connected socket' {
            $pair = New-ConnectedPair
            $err = { $pair.Client | Start-SocketListen -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.StartSocketListenCommand' -PassThru
            $err.ToString() | Should -Match '\bConnected\b'
        }

        It 'reports InvalidSocketState, naming the state, for a closed socket' {
            $s = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
            $s | Close-Socket
            $err = { $s | Start-SocketListen -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.StartSocketListenCommand' -PassThru
            $err.ToString() | Should -Match '\bClosed\b'
        }
    }

    It 'says on the verbose stream where it listens' {
        $records = Start-SocketListen -Port 0 -Address 127.0.0.1 -Verbose 4>&1
        $listener = @($records | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })[0]
        $verbose = @($records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        $verbose.Message | Should -Match ([regex]::Escape("listening on 127.0.0.1:$($listener.LocalEndPoint.Port)"))
    }
}

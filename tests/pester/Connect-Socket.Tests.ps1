BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    function New-FullListener {
        # A listener with a backlog of 1 and nobody accepting, filled until the kernel drops further SYNs: a connect to
        # it cannot complete, which makes a connect timeout without leaving loopback. Returns the listener.
        $listener = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0 | Start-SocketListen -Backlog 1
        for ($i = 0; $i -lt 8; $i++) {
            try {
                $null = Connect-Socket -ComputerName 127.0.0.1 -Port $listener.LocalEndPoint.Port -TimeoutSec 1 -ErrorAction Stop
            } catch {
                if ($_.FullyQualifiedErrorId -like 'ConnectTimeout,*') { return $listener }
                throw
            }
        }
        throw 'The listener with -Backlog 1 kept accepting connections into its queue; no connect timeout can be made.'
    }
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Connect-Socket' -Tag 'ConnectSocket' {
    BeforeEach {
        $server = Start-SocketListen -Port 0 -Address 127.0.0.1
        $port = $server.LocalEndPoint.Port
    }

    AfterEach {
        Get-Socket | Close-Socket
    }

    Context 'With -Socket' {
        It 'connects a socket from the pipeline and emits the same socket, now Connected' {
            $s = New-Socket
            $connected = $s | Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5
            [object]::ReferenceEquals($connected, $s) | Should -BeTrue
            $s.State | Should -Be 'Connected'
            $s.RemoteEndPoint.Address.ToString() | Should -Be '127.0.0.1'
            $s.RemoteEndPoint.Port | Should -Be $port
            $s.LocalEndPoint.Port | Should -BeGreaterThan 0
        }

        It 'makes a connection the listener accepts' {
            $s = New-Socket | Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5
            $peer = $server | Receive-SocketConnection -TimeoutSec 5
            $peer.RemoteEndPoint.Port | Should -Be $s.LocalEndPoint.Port
        }

        It 'connects from a bound socket, keeping its local address' {
            $s = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
            $localPort = $s.LocalEndPoint.Port
            $null = $s | Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5
            $s.LocalEndPoint.Port | Should -Be $localPort
        }

        It 'connects by -Id' {
            $s = New-Socket
            $connected = Connect-Socket -Id $s.Id -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5
            $connected.Id | Should -Be $s.Id
            $s.State | Should -Be 'Connected'
        }

        It 'takes ComputerName and Port from the pipeline by property name' {
            $client = [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $port } | Connect-Socket -TimeoutSec 5
            $client.State | Should -Be 'Connected'
            $client.RemoteEndPoint.Port | Should -Be $port
        }

        It 'takes -ComputerName and -Port by position' {
            $client = Connect-Socket 127.0.0.1 $port -TimeoutSec 5
            $client.RemoteEndPoint.Port | Should -Be $port
        }

        It 'reports InvalidSocketState, naming the state, for a socket already connected' {
            $s = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5
            $err = { $s | Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $err.ToString() | Should -Match '\bConnected\b'
        }

        It 'reports InvalidSocketState, naming the state, for a listening socket' {
            $err = { $server | Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
            $err.ToString() | Should -Match '\bListening\b'
        }

        It 'reports InvalidSocketState, naming the state, for a closed socket' {
            $s = New-Socket
            $s | Close-Socket
            $err = { $s | Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
            $err.ToString() | Should -Match '\bClosed\b'
        }

        It 'reports AddressFamilyMismatch when an IPv4-only socket connects to ::1' {
            $s = New-Socket -AddressFamily InterNetwork
            { $s | Connect-Socket -ComputerName ::1 -Port $port -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'AddressFamilyMismatch,SocketCmdlets.Commands.ConnectSocketCommand'
        }
    }

    Context 'Without -Socket' {
        It 'creates, registers and connects a new TCP socket' {
            $before = @(Get-Socket).Count
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5
            $client.Protocol | Should -Be 'Tcp'
            $client.State | Should -Be 'Connected'
            @(Get-Socket).Count | Should -Be ($before + 1)
            (Get-Socket -Id $client.Id).Id | Should -Be $client.Id
        }

        It 'labels the new socket with -Name' {
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -Name 'outbound'
            $client.Name | Should -Be 'outbound'
        }

        It 'sets TCP_NODELAY on the new socket with -NoDelay' {
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -NoDelay
            $client.Socket.NoDelay | Should -BeTrue
        }

        It 'leaves no socket open when the connect fails (-ErrorAction SilentlyContinue)' {
            $bound = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
            $before = @(Get-Socket).Count
            Connect-Socket -ComputerName 127.0.0.1 -Port $bound.LocalEndPoint.Port -TimeoutSec 5 -ErrorAction SilentlyContinue
            @(Get-Socket).Count | Should -Be $before
        }

        It 'leaves no socket open when the connect fails (-ErrorAction Stop)' {
            $bound = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
            $before = @(Get-Socket).Count
            try { Connect-Socket -ComputerName 127.0.0.1 -Port $bound.LocalEndPoint.Port -TimeoutSec 5 -ErrorAction Stop } catch { $null = $_ }
            @(Get-Socket).Count | Should -Be $before
        }
    }

    Context 'Host names and address families' {
        It 'reaches a server that listens on 127.0.0.1 only through localhost' {
            $client = Connect-Socket -ComputerName localhost -Port $port -TimeoutSec 5
            $client.State | Should -Be 'Connected'
            $client.RemoteEndPoint.Address.ToString() | Should -Be '127.0.0.1'
            $client.RemoteEndPoint.Port | Should -Be $port
        }

        It 'reaches a server that listens on ::1 only through localhost when localhost resolves to ::1' {
            $addresses = [System.Net.Dns]::GetHostAddresses('localhost')
            $v6 = Start-SocketListen -Port 0 -Address ::1 -AddressFamily InterNetworkV6
            if ($addresses -contains [System.Net.IPAddress]::IPv6Loopback) {
                $client = Connect-Socket -ComputerName localhost -Port $v6.LocalEndPoint.Port -TimeoutSec 5
                $client.RemoteEndPoint.Address.ToString() | Should -Be '::1'
            } else {
                # This machine's localhost is IPv4 only: then the IPv6-only server is rightly out of reach.
                { Connect-Socket -ComputerName localhost -Port $v6.LocalEndPoint.Port -TimeoutSec 5 -ErrorAction Stop } |
                    Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
            }
        }

        It 'reaches the listening 127.0.0.1 of a name whose first address, ::1, is silent, racing them (RFC 8305)' {
            $reason = Get-NetnsUnavailableReason
            if ($reason) {
                Set-ItResult -Skipped -Because $reason
                return
            }
            # In a namespace of its own, so the name can be given two addresses without touching this machine's
            # /etc/hosts: ::1, where a listener's queue is full (its SYNs are dropped: silent), then 127.0.0.1, where a
            # listener waits at the same port number.
            $child = Join-Path $TestDrive 'race.ps1'
            Set-Content -LiteralPath $child -Value {
                param([string] $ModulePath, [string] $Name)
                $ErrorActionPreference = 'Stop'
                Import-Module $ModulePath
                $result = [ordered]@{ Skip = $null; Port = 0; State = $null; Remote = $null; Verbose = @(); ErrorId = $null; Message = $null }
                try {
                    try {
                        $silent = Start-SocketListen -Port 0 -Address ::1 -AddressFamily InterNetworkV6 -Backlog 1
                    } catch {
                        $result.Skip = "no ::1 in the namespace: $_"
                        throw
                    }
                    $port = $silent.LocalEndPoint.Port
                    $full = $false
                    for ($i = 0; $i -lt 8 -and -not $full; $i++) {
                        try { $null = Connect-Socket -ComputerName ::1 -Port $port -TimeoutSec 1 -ErrorAction Stop }
                        catch { if ($_.FullyQualifiedErrorId -like 'ConnectTimeout,*') { $full = $true } else { throw } }
                    }
                    if (-not $full) { throw 'The ::1 listener kept taking connections into its queue.' }
                    $null = Start-SocketListen -Port $port -Address 127.0.0.1
                    $result.Port = $port
                    $records = @(Connect-Socket -ComputerName $Name -Port $port -TimeoutSec 3 -Verbose 4>&1)
                    $result.Verbose = @($records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
                    $client = @($records | Where-Object { $_ -is [SocketCmdlets.NetSocket] })[0]
                    $result.State = "$($client.State)"
                    $result.Remote = "$($client.RemoteEndPoint)"
                } catch {
                    $result.ErrorId = $_.FullyQualifiedErrorId
                    $result.Message = "$_"
                } finally {
                    Get-Socket | Close-Socket
                }
                $result | ConvertTo-Json -Compress
            }.ToString()
            $name = 'dual.socketcmdlets.test'
            $run = Invoke-NetnsPwsh -File $child -ArgumentList $env:SOCKETCMDLETS_MODULE_PATH, $name -TimeoutSec 180 `
                -HostsText "127.0.0.1 localhost`n::1 $name`n127.0.0.1 $name`n"
            $run.ExitCode | Should -Be 0 -Because $run.Errors
            $result = $run.Output[-1] | ConvertFrom-Json
            if ($result.Skip) {
                Set-ItResult -Skipped -Because $result.Skip
                return
            }
            $result.ErrorId | Should -BeNullOrEmpty -Because $result.Message
            $result.State | Should -Be 'Connected'
            $result.Remote | Should -Be "127.0.0.1:$($result.Port)"
            $verbose = $result.Verbose -join "`n"
            $verbose | Should -Match ([regex]::Escape("'$name' resolved to ::1, 127.0.0.1"))
            $verbose | Should -Match ([regex]::Escape("Connecting to [::1]:$($result.Port) (attempt 1 of 2)"))
            $verbose | Should -Match ([regex]::Escape("Connecting to 127.0.0.1:$($result.Port) (attempt 2 of 2)"))
            $verbose | Should -Match 'closing 1 other attempt'
        }

        It 'connects an IPv6 socket to ::1' {
            $v6 = New-Socket -AddressFamily InterNetworkV6 | Register-SocketBinding -Address ::1 -Port 0 | Start-SocketListen
            $client = New-Socket -AddressFamily InterNetworkV6 | Connect-Socket -ComputerName '::1' -Port $v6.LocalEndPoint.Port -TimeoutSec 5
            $peer = $v6 | Receive-SocketConnection -TimeoutSec 5
            $client.RemoteEndPoint.Address.ToString() | Should -Be '::1'
            $client.AddressFamily | Should -Be 'InterNetworkV6'
            $peer.RemoteEndPoint.Address.ToString() | Should -Be '::1'
            $peer.RemoteEndPoint.Port | Should -Be $client.LocalEndPoint.Port
        }

        It 'accepts ::1 in brackets' {
            $v6 = Start-SocketListen -Port 0 -Address ::1 -AddressFamily InterNetworkV6
            $client = Connect-Socket -ComputerName '[::1]' -Port $v6.LocalEndPoint.Port -TimeoutSec 5
            $client.RemoteEndPoint.Address.ToString() | Should -Be '::1'
        }

        It 'shows the endpoints of an IPv4 connection of a dual-mode socket as IPv4' {
            $client = New-Socket | Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5
            $client.Socket.DualMode | Should -BeTrue
            $client.RemoteEndPoint.Address.ToString() | Should -Be '127.0.0.1'
            $client.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
            $client.RemoteEndPoint.AddressFamily | Should -Be 'InterNetwork'
            $client.AddressFamily | Should -Be 'InterNetwork'
        }
    }

    Context 'Failures' {
        It 'reports ConnectionRefused for a port that is bound but not listening' {
            $bound = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
            $target = $bound.LocalEndPoint.Port
            $s = New-Socket
            $err = { $s | Connect-Socket -ComputerName 127.0.0.1 -Port $target -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ConnectionError'
            $err.TargetObject.Id | Should -Be $s.Id
            $err.ToString() | Should -Match ([regex]::Escape("127.0.0.1:$target"))
        }

        It 'reports ConnectionRefused for the port of a listener that was just closed' {
            $server | Close-Socket
            { Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
        }

        It 'leaves a socket given with -Socket usable after ConnectionRefused' {
            $s = New-Socket
            $server | Close-Socket
            $s | Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -ErrorAction SilentlyContinue
            $s.State | Should -Be 'Created'
            $other = Start-SocketListen -Port 0 -Address 127.0.0.1
            $null = $s | Connect-Socket -ComputerName 127.0.0.1 -Port $other.LocalEndPoint.Port -TimeoutSec 5 -ErrorAction Stop
            $s.State | Should -Be 'Connected'
        }

        It 'reports HostNotFound for a name under the reserved .invalid domain' {
            $err = { Connect-Socket -ComputerName 'no-such-host.invalid' -Port 80 -TimeoutSec 10 -ErrorAction Stop } |
                Should -Throw -ErrorId 'HostNotFound,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.ToString() | Should -Match 'no-such-host\.invalid'
        }

        It 'reports ConnectTimeout when the connection is not made within -TimeoutSec' {
            $full = New-FullListener
            $err = { Connect-Socket -ComputerName 127.0.0.1 -Port $full.LocalEndPoint.Port -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectTimeout,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err.ToString() | Should -Match ([regex]::Escape("127.0.0.1:$($full.LocalEndPoint.Port)"))
        }

        It 'ends a blocked connect on Ctrl+C with no error and leaves no socket behind' {
            $full = New-FullListener
            $before = @(Get-Socket).Count
            $job = Start-SecondPowerShell -ArgumentList $full.LocalEndPoint.Port { param($p) Connect-Socket -ComputerName 127.0.0.1 -Port $p -Verbose }
            try {
                Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
                $job.PowerShell.Streams.Verbose[0].Message | Should -Match 'Connecting to 127\.0\.0\.1'
                Stop-SecondPowerShell $job -TimeoutSec 10 | Should -BeTrue
                $job.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
                Get-StopError $job | Should -BeNullOrEmpty
                Get-ErrorVariable $job | Should -BeNullOrEmpty
            } finally {
                Remove-SecondPowerShell $job
            }
            @(Get-Socket).Count | Should -Be $before
        }
    }

    Context 'Validation' {
        It 'rejects port 70000 before any socket call' {
            $before = @(Get-Socket).Count
            { Connect-Socket -ComputerName 127.0.0.1 -Port 70000 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.ConnectSocketCommand'
            @(Get-Socket).Count | Should -Be $before
        }

        It 'rejects port 0' {
            { Connect-Socket -ComputerName 127.0.0.1 -Port 0 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.ConnectSocketCommand'
        }

        It 'rejects an empty host name' {
            { Connect-Socket -ComputerName '' -Port $port -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.ConnectSocketCommand'
        }

        It 'rejects a negative -TimeoutSec' {
            { Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec -1 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.ConnectSocketCommand'
        }
    }

    It 'says on the verbose stream where it connects and that it is connected' {
        $records = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -Verbose 4>&1
        $client = @($records | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })[0]
        $verbose = @($records | Get-VerboseMessage)
        $verbose | Should -Contain "Connecting to 127.0.0.1:$port."
        $verbose[-1] | Should -Match ([regex]::Escape("Socket $($client.Id) connected: 127.0.0.1:$($client.LocalEndPoint.Port) -> 127.0.0.1:$port"))
    }

    It 'says on the verbose stream how it resolved a host name' {
        $verbose = @(Connect-Socket -ComputerName localhost -Port $port -TimeoutSec 5 -Verbose 4>&1 | Get-VerboseMessage)
        $verbose | Should -Contain "Resolving 'localhost'."
        ($verbose -match "^'localhost' resolved to .*127\.0\.0\.1") | Should -Not -BeNullOrEmpty
    }
}

BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Register-SocketBinding' -Tag 'RegisterSocketBinding' {
    AfterEach {
        Get-Socket | Close-Socket
    }

    It 'binds a socket from the pipeline and emits the same socket, now Bound' {
        $s = New-Socket
        $bound = $s | Register-SocketBinding -Address 127.0.0.1 -Port 0
        $bound.Id | Should -Be $s.Id
        [object]::ReferenceEquals($bound, $s) | Should -BeTrue
        $s.State | Should -Be 'Bound'
    }

    It 'picks a free port for -Port 0 and shows it in LocalEndPoint.Port' {
        $s = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
        $s.LocalEndPoint.Port | Should -BeGreaterThan 0
        $s.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
    }

    It 'binds to the port asked for' {
        # A port known to be free: one the system just handed out, released again.
        $probe = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
        $port = $probe.LocalEndPoint.Port
        $probe | Close-Socket
        $s = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port $port
        $s.LocalEndPoint.Port | Should -Be $port
    }

    It 'binds to every interface when -Address is not given' {
        $s = New-Socket | Register-SocketBinding -Port 0
        $s.LocalEndPoint.Address | Should -BeIn @([System.Net.IPAddress]::Any, [System.Net.IPAddress]::IPv6Any)
    }

    It 'binds to the loopback address with -Address Loopback' {
        $s = New-Socket -AddressFamily InterNetwork | Register-SocketBinding -Address Loopback -Port 0
        $s.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
    }

    It 'binds to the address a host name resolves to' {
        $s = New-Socket -AddressFamily InterNetwork | Register-SocketBinding -Address localhost -Port 0
        $s.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
    }

    It 'resolves a host name -Address within a fractional -TimeoutSec and says so on the verbose stream' {
        $records = @(New-Socket -AddressFamily InterNetwork | Register-SocketBinding -Address localhost -Port 0 -TimeoutSec 2.5 -Verbose 4>&1)
        $s = @($records | Where-Object { $_ -is [SocketCmdlets.NetSocket] })[0]
        $s.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
        @($records | Get-VerboseMessage) | Should -Contain "Resolving 'localhost'."
    }

    It 'rejects a negative -TimeoutSec' {
        { New-Socket | Register-SocketBinding -Address localhost -TimeoutSec -0.5 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.RegisterSocketBindingCommand'
    }

    It 'refuses -TimeoutSec with -Path (a path needs no lookup) with ConflictingParameters' {
        { New-Socket -AddressFamily Unix | Register-SocketBinding -Path (Join-Path $TestDrive 'x.sock') -TimeoutSec 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.RegisterSocketBindingCommand'
    }

    It 'reports HostNotFound for an -Address name that does not resolve' {
        $s = New-Socket
        { $s | Register-SocketBinding -Address 'no-such-host.invalid' -Port 0 -ErrorAction Stop } |
            Should -Throw -ErrorId 'HostNotFound,SocketCmdlets.Commands.RegisterSocketBindingCommand'
        $s.State | Should -Be 'Created'
    }

    It 'binds an IPv6 socket to ::1' {
        $s = New-Socket -AddressFamily InterNetworkV6 | Register-SocketBinding -Address ::1 -Port 0
        $s.LocalEndPoint.Address.ToString() | Should -Be '::1'
        $s.AddressFamily | Should -Be 'InterNetworkV6'
    }

    It 'shows 127.0.0.1 (not ::ffff:127.0.0.1) for a dual-mode socket bound to 127.0.0.1' {
        $s = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
        $s.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
        $s.LocalEndPoint.ToString() | Should -Not -Match 'ffff'
    }

    It 'takes positional -Port and -Address' {
        $s = New-Socket | Register-SocketBinding 0 127.0.0.1
        $s.State | Should -Be 'Bound'
        $s.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
    }

    It 'binds by -Id' {
        $s = New-Socket
        $bound = Register-SocketBinding -Id $s.Id -Address 127.0.0.1 -Port 0
        $bound.Id | Should -Be $s.Id
        $s.State | Should -Be 'Bound'
    }

    It 'takes Socket, Port and Address from the pipeline by property name' {
        $s = New-Socket
        $bound = [pscustomobject]@{ Socket = $s; Port = 0; Address = '127.0.0.1' } | Register-SocketBinding
        $bound.Id | Should -Be $s.Id
        $s.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
    }

    It 'takes Id from the pipeline by property name' {
        $s = New-Socket
        $null = [pscustomobject]@{ Id = $s.Id; Port = 0; Address = '127.0.0.1' } | Register-SocketBinding
        $s.State | Should -Be 'Bound'
    }

    It 'reports SocketNotFound for an -Id that names no open socket' {
        $s = New-Socket
        $id = $s.Id
        $s | Close-Socket
        { Register-SocketBinding -Id $id -Port 0 -ErrorAction Stop } | Should -Throw -ErrorId 'SocketNotFound,SocketCmdlets.Commands.RegisterSocketBindingCommand'
    }

    It 'rejects port 70000 before any socket call' {
        $s = New-Socket
        { $s | Register-SocketBinding -Port 70000 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.RegisterSocketBindingCommand'
        $s.State | Should -Be 'Created'
    }

    It 'rejects port -1' {
        $s = New-Socket
        { $s | Register-SocketBinding -Port -1 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.RegisterSocketBindingCommand'
    }

    It 'rejects an empty -Address' {
        $s = New-Socket
        { $s | Register-SocketBinding -Address '' -Port 0 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.RegisterSocketBindingCommand'
    }

    It 'reports AddressInUse for a port another socket holds' {
        $first = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0 | Start-SocketListen
        $second = New-Socket
        $err = { $second | Register-SocketBinding -Address 127.0.0.1 -Port $first.LocalEndPoint.Port -ErrorAction Stop } |
            Should -Throw -ErrorId 'AddressInUse,SocketCmdlets.Commands.RegisterSocketBindingCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $err.TargetObject.Id | Should -Be $second.Id
        $err.ToString() | Should -Match "$($first.LocalEndPoint.Port)"
        $second.State | Should -Be 'Created'
    }

    It 'reports AddressFamilyMismatch for an IPv6 address on an IPv4 socket' {
        $s = New-Socket -AddressFamily InterNetwork
        { $s | Register-SocketBinding -Address ::1 -Port 0 -ErrorAction Stop } |
            Should -Throw -ErrorId 'AddressFamilyMismatch,SocketCmdlets.Commands.RegisterSocketBindingCommand'
    }

    It 'reports InvalidSocketState, naming the state, when the socket is already bound' {
        $s = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
        $err = { $s | Register-SocketBinding -Address 127.0.0.1 -Port 0 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.RegisterSocketBindingCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.ToString() | Should -Match '\bBound\b'
    }

    It 'reports InvalidSocketState, naming the state, for a closed socket' {
        $s = New-Socket
        $s | Close-Socket
        $err = { $s | Register-SocketBinding -Port 0 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.RegisterSocketBindingCommand' -PassThru
        $err.ToString() | Should -Match '\bClosed\b'
    }

    It 'says on the verbose stream where it bound' {
        $s = New-Socket
        $verbose = @($s | Register-SocketBinding -Address 127.0.0.1 -Port 0 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        $verbose.Message | Should -Match ([regex]::Escape("bound to 127.0.0.1:$($s.LocalEndPoint.Port)"))
    }
}

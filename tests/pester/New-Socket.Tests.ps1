BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'The quick start of SPEC.md' -Tag 'QuickStart' {
    It 'runs as written and the peer receives hello' {
        # The block of SPEC.md, verbatim. It has no timeouts, so it runs in a second PowerShell whose wait is bounded.
        $quickStart = {
            $server = New-Socket | Register-SocketBinding -Port 0 | Start-SocketListen
            $port   = $server.LocalEndPoint.Port
            $client = New-Socket | Connect-Socket -ComputerName localhost -Port $port
            $peer   = $server | Receive-SocketConnection
            'hello' | Send-SocketData -Socket $client
            $peer | Receive-SocketData            # -> hello
            $client, $peer, $server | Close-Socket
        }
        $job = Start-SecondPowerShell $quickStart
        try {
            $output = Wait-SecondPowerShell $job -TimeoutSec 30
            $output | Should -Be 'hello'
            $job.PowerShell.Streams.Error | Should -BeNullOrEmpty
            foreach ($name in 'server', 'client', 'peer') {
                $job.PowerShell.Runspace.SessionStateProxy.GetVariable($name).State | Should -Be 'Closed' -Because "$name was closed"
            }
        } finally {
            Remove-SecondPowerShell $job
        }
    }
}

Describe 'New-Socket' -Tag 'NewSocket' {
    AfterEach {
        Get-Socket | Close-Socket
    }

    It 'creates a TCP socket in the Created state' {
        $s = New-Socket
        $s.GetType().FullName | Should -Be 'SocketCmdlets.NetSocket'
        $s.Protocol | Should -Be 'Tcp'
        $s.State | Should -Be 'Created'
        $s.LocalEndPoint | Should -BeNullOrEmpty
        $s.RemoteEndPoint | Should -BeNullOrEmpty
        $s.BytesSent | Should -Be 0
        $s.BytesReceived | Should -Be 0
        $s.IsEncrypted | Should -BeFalse
    }

    It 'exposes the underlying System.Net.Sockets.Socket' {
        $s = New-Socket
        $s.Socket | Should -BeOfType ([System.Net.Sockets.Socket])
        $s.Socket.SocketType | Should -Be 'Stream'
        $s.Socket.ProtocolType | Should -Be 'Tcp'
    }

    It 'gives each socket a unique, increasing Id' {
        $a = New-Socket
        $b = New-Socket
        $c = New-Socket
        $b.Id | Should -BeGreaterThan $a.Id
        $c.Id | Should -BeGreaterThan $b.Id
    }

    It 'registers the new socket so Get-Socket lists it' {
        $s = New-Socket
        (Get-Socket -Id $s.Id).Id | Should -Be $s.Id
    }

    It 'sets -Name' {
        (New-Socket -Name 'alpha').Name | Should -Be 'alpha'
    }

    It 'takes names from the pipeline by value, one socket each' {
        $sockets = 'one', 'two' | New-Socket
        $sockets.Name | Should -Be 'one', 'two'
        $sockets[0].Id | Should -Not -Be $sockets[1].Id
    }

    It 'takes -Name from the pipeline by property name' {
        $s = [pscustomobject]@{ Name = 'by-property' } | New-Socket
        $s.Name | Should -Be 'by-property'
    }

    It 'makes a socket that reaches IPv4 and IPv6 alike when no -AddressFamily is given' {
        $v4 = Start-SocketListen -Port 0 -Address 127.0.0.1
        $v6 = Start-SocketListen -Port 0 -Address ::1 -AddressFamily InterNetworkV6
        $a = New-Socket | Connect-Socket -ComputerName 127.0.0.1 -Port $v4.LocalEndPoint.Port -TimeoutSec 5
        $b = New-Socket | Connect-Socket -ComputerName ::1 -Port $v6.LocalEndPoint.Port -TimeoutSec 5
        $a.State | Should -Be 'Connected'
        $b.State | Should -Be 'Connected'
        $a.RemoteEndPoint.Address.ToString() | Should -Be '127.0.0.1'
        $b.RemoteEndPoint.Address.ToString() | Should -Be '::1'
    }

    It 'makes an IPv4-only socket with -AddressFamily InterNetwork' {
        $s = New-Socket -AddressFamily InterNetwork
        $s.AddressFamily | Should -Be 'InterNetwork'
        $s.Socket.AddressFamily | Should -Be 'InterNetwork'
    }

    It 'makes an IPv6-only socket with -AddressFamily InterNetworkV6' {
        $s = New-Socket -AddressFamily InterNetworkV6
        $s.AddressFamily | Should -Be 'InterNetworkV6'
        $s.Socket.AddressFamily | Should -Be 'InterNetworkV6'
        $s.Socket.DualMode | Should -BeFalse
    }

    It 'applies -NoDelay' {
        (New-Socket -NoDelay).Socket.NoDelay | Should -BeTrue
    }

    It 'applies -KeepAlive' {
        $s = New-Socket -KeepAlive
        $s.Socket.GetSocketOption('Socket', 'KeepAlive') | Should -Not -Be 0
    }

    It 'applies -ReuseAddress' {
        $s = New-Socket -ReuseAddress
        $s.Socket.GetSocketOption('Socket', 'ReuseAddress') | Should -Not -Be 0
    }

    It 'applies -ReceiveBufferSize and -SendBufferSize' {
        $s = New-Socket -ReceiveBufferSize 65536 -SendBufferSize 65536
        # The kernel may round (Linux doubles the value), but never gives less than asked.
        $s.Socket.ReceiveBufferSize | Should -BeGreaterOrEqual 65536
        $s.Socket.SendBufferSize | Should -BeGreaterOrEqual 65536
    }

    It 'applies -Ttl' {
        (New-Socket -AddressFamily InterNetwork -Ttl 7).Socket.Ttl | Should -Be 7
    }

    It 'rejects -Ttl 0 before creating a socket' {
        $before = @(Get-Socket).Count
        { New-Socket -Ttl 0 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.NewSocketCommand'
        @(Get-Socket).Count | Should -Be $before
    }

    It 'rejects -ReceiveBufferSize 0' {
        { New-Socket -ReceiveBufferSize 0 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.NewSocketCommand'
    }

    It 'rejects an empty -Name' {
        { New-Socket -Name '' -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.NewSocketCommand'
    }

    It 'says on the verbose stream that it created a socket' {
        $records = New-Socket -Verbose 4>&1
        $verbose = @($records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        $socket = @($records | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $socket.Count | Should -Be 1
        $verbose.Message | Should -Match "Created socket $($socket[0].Id)\b"
    }

    It 'is shown by the format view as one table row' {
        $s = New-Socket -Name 'row'
        $lines = @((($s | Format-Table | Out-String -Width 250) -replace "\e\[[0-9;]*m") -split '\r?\n' | Where-Object { $_.Trim() })
        # A header, the dashes under it and one row.
        $lines.Count | Should -Be 3
        $lines[0] | Should -Match '\bId\b.*\bState\b'
        $lines[2] | Should -Match "^\s*$($s.Id)\s+row\s+Created\b"
    }
}

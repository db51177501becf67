# At home in the console: ending quietly when idle (-IdleTimeoutSec), taking only what has arrived (-Available), and
# messages that survive scripts (Exception.Message). Loopback only; every wait bounded.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Ending quietly when idle' -Tag 'Console' {
    BeforeEach { $pair = New-ConnectedPair }
    AfterEach { $pair.Close() }

    It 'ends Receive-SocketData -ToEnd -IdleTimeoutSec without an error, after writing what came' {
        "one`ntwo`n" | Send-SocketData -Socket $pair.Client
        $errors = $null
        $lines = @($pair.Peer | Receive-SocketData -Line -ToEnd -IdleTimeoutSec 0.5 -ErrorVariable errors)
        $lines | Should -Be @('one', 'two')
        $errors | Should -BeNullOrEmpty
    }

    It 'keeps the ReceiveTimeout error of -TimeoutSec (scripts rely on it)' {
        { $pair.Peer | Receive-SocketData -Line -ToEnd -TimeoutSec 0.3 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand'
    }

    It 'ends Receive-SocketConnection -Continuous -IdleTimeoutSec without an error' {
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $pair.Port -TimeoutSec 5
        try {
            $errors = $null
            $accepted = @($pair.Server | Receive-SocketConnection -Continuous -IdleTimeoutSec 0.5 -ErrorVariable errors)
            $accepted.Count | Should -Be 1
            $errors | Should -BeNullOrEmpty
            $accepted | Close-Socket
        } finally {
            $client | Close-Socket
        }
    }

    It 'refuses -IdleTimeoutSec with -TimeoutSec' {
        { $pair.Peer | Receive-SocketData -IdleTimeoutSec 1 -TimeoutSec 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        { $pair.Server | Receive-SocketConnection -IdleTimeoutSec 1 -TimeoutSec 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketConnectionCommand'
    }

    It 'stops on Ctrl+C while idle-waiting, with no error' {
        $job = Start-SecondPowerShell -ArgumentList $pair.Peer {
            param($s)
            $s | Receive-SocketData -ToEnd -IdleTimeoutSec 60 -Verbose
        }
        try {
            Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
            Stop-SecondPowerShell $job | Should -BeTrue
            Get-StopError $job | Should -BeNullOrEmpty
        } finally {
            Remove-SecondPowerShell $job
        }
    }
}

Describe 'Taking only what has arrived' -Tag 'Console' {
    BeforeEach { $pair = New-ConnectedPair }
    AfterEach { $pair.Close() }

    It 'returns at once with nothing when nothing has arrived' {
        $errors = $null
        $got = @($pair.Peer | Receive-SocketData -Line -Available -ErrorVariable errors)
        $got.Count | Should -Be 0
        $errors | Should -BeNullOrEmpty
    }

    It 'writes the whole lines and leaves a partial one for later' {
        "first`nsecond`nhalf a li" | Send-SocketData -Socket $pair.Client
        Wait-Until -TimeoutSec 5 { $pair.Peer.Socket.Available -ge 20 }
        @($pair.Peer | Receive-SocketData -Line -Available) | Should -Be @('first', 'second')
        "ne`n" | Send-SocketData -Socket $pair.Client
        Wait-Until -TimeoutSec 5 { $pair.Peer.Socket.Available -gt 0 }
        @($pair.Peer | Receive-SocketData -Line -Available) | Should -Be @('half a line')
    }

    It 'takes the bytes that are there without -Line' {
        'abc' | Send-SocketData -Socket $pair.Client
        Wait-Until -TimeoutSec 5 { $pair.Peer.Socket.Available -ge 3 }
        ($pair.Peer | Receive-SocketData -Available) -join '' | Should -BeExactly 'abc'
    }

    It 'refuses -Available with -ToEnd or -TimeoutSec' {
        { $pair.Peer | Receive-SocketData -Available -ToEnd -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        { $pair.Peer | Receive-SocketData -Available -TimeoutSec 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketDataCommand'
    }

    It 'lets one thread serve a fast client while a slow one has sent half a line (examples/SelectServer.ps1)' {
        $slow = Connect-Socket -ComputerName 127.0.0.1 -Port $pair.Port -TimeoutSec 5
        $slowPeer = $pair.Server | Receive-SocketConnection -TimeoutSec 5
        try {
            'half' | Send-SocketData -Socket $slow
            'whole line' | Send-SocketData -Socket $pair.Client -AppendNewLine
            $answered = @()
            for ($round = 0; $round -lt 20 -and $answered.Count -eq 0; $round++) {
                foreach ($ready in @(Wait-Socket -Socket $slowPeer, $pair.Peer -Read -TimeoutSec 1)) {
                    $answered += @($ready | Receive-SocketData -Line -Available)
                }
            }
            $answered | Should -Be @('whole line')
        } finally {
            $slow, $slowPeer | Close-Socket
        }
    }
}

Describe 'Messages that survive scripts' -Tag 'Console' {
    It 'puts the helpful text in Exception.Message and keeps the system error as InnerException' {
        $port = Get-FreePort
        $caught = $null
        try { Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
        $caught.Exception.Message | Should -Match "Could not connect to 127\.0\.0\.1:$port"
        $caught.Exception.Message | Should -Match 'Check that a server is listening'
        $caught.Exception.InnerException | Should -BeOfType ([System.Net.Sockets.SocketException])
        $caught.Exception.InnerException.SocketErrorCode | Should -Be 'ConnectionRefused'
        $caught.Exception.ErrorId | Should -Be 'ConnectionRefused'
        "$caught" | Should -Be $caught.Exception.Message
    }

    It 'does the same for a timeout' {
        $pair = New-ConnectedPair
        try {
            $caught = $null
            try { $pair.Peer | Receive-SocketData -TimeoutSec 0.2 -ErrorAction Stop } catch { $caught = $_ }
            $caught.Exception.Message | Should -Match 'no data arrived within 0\.2 s'
            $caught.Exception.InnerException | Should -BeOfType ([TimeoutException])
        } finally {
            $pair.Close()
        }
    }
}

Describe 'Views fit 80 columns' -Tag 'Console' {
    It 'shows the socket table with its key columns at 80 columns, a long Unix path by its end' {
        $pair = New-ConnectedPair
        $path = Join-Path ([System.IO.Path]::GetTempPath()) "sc-view-$PID-a-rather-long-socket-name.sock"
        $unix = $null
        try {
            'x' * 3000000 | Send-SocketData -Socket $pair.Client
            $null = $pair.Peer | Receive-SocketData -ByteCount 3000000
            if ($IsLinux -or $IsMacOS) { $unix = New-Socket -AddressFamily Unix | Register-SocketBinding -Path $path }
            $text = @($pair.Client, $pair.Peer, $unix) | Where-Object { $_ } | Format-Table | Out-String -Width 80
            $lines = $text -split "`r?`n" | Where-Object { $_ }
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 -Because "'$_'" }
            $lines[0] | Should -Match '^\s*Id\s+Name\s+State\s+LocalEndPoint\s+RemoteEndPoint\s+Sent\s+Recv\s*$'
            $text | Should -Match ([regex]::Escape("127.0.0.1:$($pair.Port)"))
            $text | Should -Match '2\.9M'
            if ($unix) { $text | Should -Match 'socket-name\.sock' }
        } finally {
            $pair.Close()
            $unix | Close-Socket
            Remove-Item -LiteralPath $path -ErrorAction Ignore
        }
    }

    It 'shows every property in the list view' {
        $pair = New-ConnectedPair
        try {
            $text = $pair.Client | Format-List | Out-String -Width 80
            foreach ($name in 'Protocol', 'BytesSent', 'BytesReceived', 'IsEncrypted', 'ReceiveTimeoutSec', 'CreatedAt') {
                $text | Should -Match "(?m)^$name\s+:" -Because "Format-List shows $name"
            }
        } finally {
            $pair.Close()
        }
    }

    It 'shows a datagram at 80 columns with its sender, length and text' {
        $rx = New-Socket -Protocol Udp | Register-SocketBinding -Address 127.0.0.1 -Port 0
        $tx = New-Socket -Protocol Udp
        try {
            'ping' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $rx.LocalEndPoint.Port
            $datagram = $rx | Receive-SocketData -TimeoutSec 5
            $text = $datagram | Format-Table | Out-String -Width 80
            $text | Should -Match 'RemoteEndPoint\s+Length\s+Text'
            $text | Should -Match '127\.0\.0\.1:\d+\s+4\s+ping'
        } finally {
            $rx, $tx | Close-Socket
        }
    }
}

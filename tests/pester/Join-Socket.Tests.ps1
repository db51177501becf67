# Join-Socket: two connections relayed to each other in the engine. Half-close each way, reset passed on, idle timeout,
# Ctrl+C, both directions at once (SHA-256), plain<->TLS, Unix<->TCP, IPv6, and bad input. Loopback only.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Certificates.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    $ProgressPreference = 'SilentlyContinue'
    $script:ServerCert = New-TestCertificate
    $script:Serial = 0

    # Sockets a test opened; AfterEach closes them.
    $script:Opened = [System.Collections.Generic.List[object]]::new()
    function Use-Socket {
        param([Parameter(ValueFromPipeline)] $Socket)
        process { if ($null -ne $Socket) { $Opened.Add($Socket); $Socket } }
    }

    function New-Rig {
        <#
        .SYNOPSIS
            Two connected pairs: Source.Client is the outside client, Source.Peer the socket relayed from;
            Target.Peer the socket relayed to, Target.Client the outside server.
        #>
        param([string] $Address = '127.0.0.1')
        $source = New-ConnectedPair -Address $Address
        $target = New-ConnectedPair -Address $Address
        $null = $source.Server, $source.Client, $source.Peer, $target.Server, $target.Client, $target.Peer | Use-Socket
        [pscustomobject]@{ Source = $source; Target = $target; A = $source.Client; B = $target.Client }
    }

    function Start-Join {
        # Runs Join-Socket in a second PowerShell (it blocks until the relay ends); -Verbose says when it relays.
        param([Parameter(Mandatory)] $Socket, [Parameter(Mandatory)] [hashtable] $Join)
        Start-SecondPowerShell -ArgumentList $Socket, $Join {
            param($s, $join)
            Join-Socket -Socket $s @join -Verbose
        }
    }

    function New-SocketPath {
        $script:Serial++
        Join-Path ([System.IO.Path]::GetTempPath()) "sc-join-$PID-$Serial.sock"
    }
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Join-Socket' -Tag 'Relay' {
    AfterEach {
        $Opened | Close-Socket
        $Opened.Clear()
    }

    It 'passes an end of stream on as a half-close while the other direction keeps flowing' {
        $rig = New-Rig
        $join = Start-Join -Socket $rig.Source.Peer -Join @{ Target = $rig.Target.Peer }
        try {
            'ping' | Send-SocketData -Socket $rig.A
            $rig.A | Close-Socket -Direction Send
            $rig.B | Receive-SocketData -ToEnd -TimeoutSec 10 | Should -Be 'ping'
            # A has finished sending; B still talks to it.
            'pong after the half-close' | Send-SocketData -Socket $rig.B
            $rig.A | Receive-SocketData -TimeoutSec 10 | Should -Be 'pong after the half-close'
            $rig.B | Close-Socket -Direction Send
            @($rig.A | Receive-SocketData -ToEnd -TimeoutSec 10).Count | Should -Be 0
            $session = Wait-SecondPowerShell $join -TimeoutSec 20
            $session.EndReason | Should -Be 'Closed'
            $session.BytesToTarget | Should -Be 4
            $session.BytesToSource | Should -Be 25
            $session.SourceEndPoint | Should -Be ([SocketCmdlets.NetSocket]::Format($rig.A.LocalEndPoint))
            $rig.Source.Peer.State | Should -Be 'Closed'
            $rig.Target.Peer.State | Should -Be 'Closed'
        } finally {
            Remove-SecondPowerShell $join
        }
    }

    It 'half-closes the other way too: the target finishes first' {
        $rig = New-Rig
        $join = Start-Join -Socket $rig.Source.Peer -Join @{ Target = $rig.Target.Peer }
        try {
            'banner' | Send-SocketData -Socket $rig.B
            $rig.B | Close-Socket -Direction Send
            $rig.A | Receive-SocketData -ToEnd -TimeoutSec 10 | Should -Be 'banner'
            'late request' | Send-SocketData -Socket $rig.A
            $rig.A | Close-Socket -Direction Send
            $rig.B | Receive-SocketData -ToEnd -TimeoutSec 10 | Should -Be 'late request'
            (Wait-SecondPowerShell $join -TimeoutSec 20).EndReason | Should -Be 'Closed'
        } finally {
            Remove-SecondPowerShell $join
        }
    }

    It 'passes a reset on as a reset' {
        $rig = New-Rig
        $join = Start-Join -Socket $rig.Source.Peer -Join @{ Target = $rig.Target.Peer }
        try {
            'x' | Send-SocketData -Socket $rig.A
            $rig.B | Receive-SocketData -ByteCount 1 -TimeoutSec 10 | Should -Be 'x'
            $rig.A.Socket.LingerState = [System.Net.Sockets.LingerOption]::new($true, 0)
            $rig.A | Close-Socket
            { $rig.B | Receive-SocketData -ToEnd -TimeoutSec 10 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionReset,SocketCmdlets.Commands.ReceiveSocketDataCommand'
            (Wait-SecondPowerShell $join -TimeoutSec 20).EndReason | Should -Be 'Reset'
        } finally {
            Remove-SecondPowerShell $join
        }
    }

    It 'closes both sides after -IdleTimeoutSec without traffic' {
        $rig = New-Rig
        $session = Join-Socket -Socket $rig.Source.Peer -Target $rig.Target.Peer -IdleTimeoutSec 0.3
        $session.EndReason | Should -Be 'IdleTimeout'
        @($rig.A | Receive-SocketData -ToEnd -TimeoutSec 10).Count | Should -Be 0
        @($rig.B | Receive-SocketData -ToEnd -TimeoutSec 10).Count | Should -Be 0
    }

    It 'forwards bytes a cmdlet left in the socket''s buffer first' {
        $rig = New-Rig
        'first line', 'second line' | Send-SocketData -Socket $rig.A -AppendNewLine
        $rig.A | Close-Socket -Direction Send
        $rig.Source.Peer | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'first line'
        $rig.B | Close-Socket -Direction Send
        $session = Join-Socket -Socket $rig.Source.Peer -Target $rig.Target.Peer -IdleTimeoutSec 10
        $rig.B | Receive-SocketData -ToEnd -TimeoutSec 10 | Should -Be "second line`n"
        $session.BytesToTarget | Should -Be 12
    }

    It 'ends on Ctrl+C within a bound, closes both sockets and writes no error' {
        $rig = New-Rig
        $join = Start-Join -Socket $rig.Source.Peer -Join @{ Target = $rig.Target.Peer }
        try {
            Wait-Until -TimeoutSec 10 { $join.PowerShell.Streams.Verbose.Count -gt 0 }
            Stop-SecondPowerShell $join -TimeoutSec 10 | Should -BeTrue
            Get-StopError $join | Should -BeNullOrEmpty
            Get-ErrorVariable $join | Should -BeNullOrEmpty
            $rig.Source.Peer.State | Should -Be 'Closed'
            $rig.Target.Peer.State | Should -Be 'Closed'
            @($rig.A | Receive-SocketData -ToEnd -TimeoutSec 10).Count | Should -Be 0
        } finally {
            Remove-SecondPowerShell $join
        }
    }

    It 'carries 32 MiB each way at once with equal SHA-256 at both ends' {
        $rig = New-Rig
        $up = New-RandomBytes (32MB)
        $down = New-RandomBytes (32MB)
        $join = Start-Join -Socket $rig.Source.Peer -Join @{ Target = $rig.Target.Peer }
        $sendUp = Start-SecondPowerShell -ArgumentList $rig.A, $up { param($s, $b) Send-SocketData -Socket $s -Data $b; $s | Close-Socket -Direction Send }
        $sendDown = Start-SecondPowerShell -ArgumentList $rig.B, $down { param($s, $b) Send-SocketData -Socket $s -Data $b; $s | Close-Socket -Direction Send }
        try {
            $atTarget = Receive-AllBytes $rig.B -TimeoutSec 30
            $atSource = Receive-AllBytes $rig.A -TimeoutSec 30
            Get-Sha256 $atTarget | Should -Be (Get-Sha256 $up)
            Get-Sha256 $atSource | Should -Be (Get-Sha256 $down)
            $session = Wait-SecondPowerShell $join -TimeoutSec 30
            $session.BytesToTarget | Should -Be (32MB)
            $session.BytesToSource | Should -Be (32MB)
        } finally {
            $join, $sendUp, $sendDown | Remove-SecondPowerShell
        }
    }

    It 'relays over IPv6' {
        $rig = New-Rig -Address '::1'
        'v6' | Send-SocketData -Socket $rig.A
        $rig.A, $rig.B | Close-Socket -Direction Send
        $session = Join-Socket -Socket $rig.Source.Peer -Target $rig.Target.Peer -IdleTimeoutSec 10
        $rig.B | Receive-SocketData -ToEnd -TimeoutSec 10 | Should -Be 'v6'
        $session.SourceEndPoint | Should -BeLike '`[::1`]:*'
        $session.EndReason | Should -Be 'Closed'
    }

    It 'connects to -Path and relays a TCP socket to a Unix socket' {
        if ($IsWindows) { Set-ItResult -Skipped -Because 'Unix domain socket paths are not tested on Windows'; return }
        $path = New-SocketPath
        $unix = Start-SocketListen -Path $path | Use-Socket
        $rig = New-Rig
        'over unix' | Send-SocketData -Socket $rig.A
        $rig.A | Close-Socket -Direction Send
        $join = Start-Join -Socket $rig.Source.Peer -Join @{ Path = $path; TimeoutSec = 10 }
        try {
            $peer = $unix | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            $peer | Receive-SocketData -ToEnd -TimeoutSec 10 | Should -Be 'over unix'
            'unix reply' | Send-SocketData -Socket $peer
            $peer | Close-Socket -Direction Send
            $rig.A | Receive-SocketData -ToEnd -TimeoutSec 10 | Should -Be 'unix reply'
            $session = Wait-SecondPowerShell $join -TimeoutSec 20
            $session.TargetEndPoint | Should -Be $path
            $session.EndReason | Should -Be 'Closed'
        } finally {
            Remove-SecondPowerShell $join
        }
    }

    It 'originates TLS with -UseTls: a plain client reaches a TLS server' {
        $tlsListener = Start-SocketListen -Port 0 -Address Loopback | Use-Socket
        $server = Start-SecondPowerShell -ArgumentList $tlsListener, $ServerCert {
            param($l, $c)
            $peer = $l | Receive-SocketConnection -TimeoutSec 10 | Protect-Socket -Certificate $c -TimeoutSec 10 -ErrorAction Stop
            try {
                $line = $peer | Receive-SocketData -Line -TimeoutSec 10
                "tls server got $line (encrypted: $($peer.IsEncrypted))" | Send-SocketData -Socket $peer -AppendNewLine
            } finally { $peer | Close-Socket }
        }
        $rig = New-Rig
        $join = Start-Join -Socket $rig.Source.Peer -Join @{ ComputerName = 'localhost'; Port = $tlsListener.LocalEndPoint.Port; UseTls = $true; SkipCertificateCheck = $true; TimeoutSec = 10 }
        try {
            'plain hello' | Send-SocketData -Socket $rig.A -AppendNewLine
            $rig.A | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'tls server got plain hello (encrypted: True)'
            $rig.A | Close-Socket -Direction Send
            $null = Wait-SecondPowerShell $server -TimeoutSec 20
            (Wait-SecondPowerShell $join -TimeoutSec 20).EndReason | Should -Be 'Closed'
        } finally {
            $server, $join | Remove-SecondPowerShell
        }
    }

    It 'terminates TLS: a socket protected as a server is relayed to a plain target' {
        $rig = New-Rig
        $tlsClient = Start-SecondPowerShell -ArgumentList $rig.A {
            param($s)
            $null = $s | Protect-Socket -SkipCertificateCheck -TargetHost localhost -TimeoutSec 10 -ErrorAction Stop
            'secret over tls' | Send-SocketData -Socket $s -AppendNewLine
            $s | Receive-SocketData -Line -TimeoutSec 10
        }
        try {
            $null = $rig.Source.Peer | Protect-Socket -Certificate $ServerCert -TimeoutSec 10 -ErrorAction Stop
            $join = Start-Join -Socket $rig.Source.Peer -Join @{ Target = $rig.Target.Peer }
            $rig.B.IsEncrypted | Should -BeFalse
            $rig.B | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'secret over tls'
            'plain answer' | Send-SocketData -Socket $rig.B -AppendNewLine
            Wait-SecondPowerShell $tlsClient -TimeoutSec 20 | Should -Be 'plain answer'
            $rig.A, $rig.B | Close-Socket
            (Wait-SecondPowerShell $join -TimeoutSec 20).EndReason | Should -Be 'Closed'
        } finally {
            $tlsClient, $join | Remove-SecondPowerShell
        }
    }

    It 'ends a TLS handshake towards a silent target on Ctrl+C, closes the socket it made and leaves -Socket open' {
        $silent = Start-SocketListen -Port 0 -Address Loopback | Use-Socket
        $rig = New-Rig
        $before = @(Get-Socket).Count
        $join = Start-Join -Socket $rig.Source.Peer -Join @{ ComputerName = '127.0.0.1'; Port = $silent.LocalEndPoint.Port; UseTls = $true; SkipCertificateCheck = $true }
        try {
            Wait-Until -TimeoutSec 10 { @($join.PowerShell.Streams.Verbose | Where-Object Message -Match 'TLS handshake').Count -gt 0 }
            Stop-SecondPowerShell $join -TimeoutSec 10 | Should -BeTrue
            Get-StopError $join | Should -BeNullOrEmpty
            Get-ErrorVariable $join | Should -BeNullOrEmpty
            $rig.Source.Peer.State | Should -Be 'Connected'
            @(Get-Socket).Count | Should -Be $before
        } finally {
            Remove-SecondPowerShell $join
        }
    }

    It 'reports ConnectTimeout when the TLS handshake with the target takes longer than -TimeoutSec' {
        $silent = Start-SocketListen -Port 0 -Address Loopback | Use-Socket
        $rig = New-Rig
        { Join-Socket -Socket $rig.Source.Peer -ComputerName 127.0.0.1 -Port $silent.LocalEndPoint.Port -UseTls -SkipCertificateCheck -TimeoutSec 0.5 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConnectTimeout,SocketCmdlets.Commands.JoinSocketCommand'
        $rig.Source.Peer.State | Should -Be 'Connected'
    }

    It 'runs two relays in two runspaces at once without mixing their bytes' {
        $one = New-Rig
        $two = New-Rig
        $joinOne = Start-Join -Socket $one.Source.Peer -Join @{ Target = $one.Target.Peer }
        $joinTwo = Start-Join -Socket $two.Source.Peer -Join @{ Target = $two.Target.Peer }
        try {
            'one' | Send-SocketData -Socket $one.A
            'two' | Send-SocketData -Socket $two.A
            $one.A, $two.A, $one.B, $two.B | Close-Socket -Direction Send
            $one.B | Receive-SocketData -ToEnd -TimeoutSec 10 | Should -Be 'one'
            $two.B | Receive-SocketData -ToEnd -TimeoutSec 10 | Should -Be 'two'
            (Wait-SecondPowerShell $joinOne -TimeoutSec 20).BytesToTarget | Should -Be 3
            (Wait-SecondPowerShell $joinTwo -TimeoutSec 20).EndReason | Should -Be 'Closed'
        } finally {
            $joinOne, $joinTwo | Remove-SecondPowerShell
        }
    }

    Context 'bad input' {
        It 'refuses a socket that is not connected with InvalidSocketState' {
            $rig = New-Rig
            { Join-Socket -Socket $rig.Source.Peer -Target $rig.Target.Server -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.JoinSocketCommand'
            $rig.Source.Peer.State | Should -Be 'Connected'
        }

        It 'reports a refused target as ConnectionRefused and leaves -Socket open' {
            $closed = Start-SocketListen -Port 0 -Address Loopback
            $port = $closed.LocalEndPoint.Port
            $closed | Close-Socket
            $rig = New-Rig
            { Join-Socket -Socket $rig.Source.Peer -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.JoinSocketCommand'
            $rig.Source.Peer.State | Should -Be 'Connected'
        }

        It 'refuses -SkipCertificateCheck without -UseTls' {
            $rig = New-Rig
            { Join-Socket -Socket $rig.Source.Peer -ComputerName 127.0.0.1 -Port 1 -SkipCertificateCheck -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.JoinSocketCommand'
        }

        It 'refuses a negative -IdleTimeoutSec before touching a socket' {
            $rig = New-Rig
            { Join-Socket -Socket $rig.Source.Peer -Target $rig.Target.Peer -IdleTimeoutSec -1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.JoinSocketCommand'
            $rig.Source.Peer.State | Should -Be 'Connected'
        }
    }
}

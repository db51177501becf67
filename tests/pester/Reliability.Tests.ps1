# Trust off the happy path: sub-second timeouts, files that are never truncated or short of bytes, -ByteCount that
# keeps what it took, replies that flow through a pipeline, a server that survives a failed accept, TLS endings.
# Loopback only; every wait bounded.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Certificates.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    $ProgressPreference = 'SilentlyContinue'
    $script:Folder = Join-Path ([System.IO.Path]::GetTempPath()) "sc-reliability-$PID"
    $null = New-Item -ItemType Directory -Force -Path $Folder
    $script:ServerCert = New-TestCertificate

    function New-TlsPair { New-TlsConnectedPair -Certificate $ServerCert }

    function Invoke-Bounded {
        # Runs a script block in a second PowerShell and returns its output and errors; fails the test if it does not
        # end within -TimeoutSec (a call that would wait forever).
        param([scriptblock] $ScriptBlock, [object[]] $ArgumentList = @(), [double] $TimeoutSec = 20)
        $job = Start-SecondPowerShell -ScriptBlock $ScriptBlock -ArgumentList $ArgumentList
        try {
            if (-not $job.Handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds($TimeoutSec))) {
                throw "The call was still running after $TimeoutSec s."
            }
            $output = @(); $thrown = $null
            try { $output = @($job.PowerShell.EndInvoke($job.Handle)) } catch { $thrown = $_ }
            [pscustomobject]@{ Output = $output; Errors = @($job.PowerShell.Streams.Error) + @($thrown | Where-Object { $_ }); Warnings = @($job.PowerShell.Streams.Warning) }
        } finally {
            Remove-SecondPowerShell $job
        }
    }
}

AfterAll {
    Get-Socket | Close-Socket
    Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction Ignore
}

Describe 'Sub-second timeouts' -Tag 'Reliability' {
    BeforeEach { $pair = New-ConnectedPair }
    AfterEach { $pair.Close() }

    It 'ends a receive after -TimeoutSec 0.4 with ReceiveTimeout (0.4 is never "no limit")' {
        $result = Invoke-Bounded -ArgumentList $pair.Peer {
            param($s)
            $s | Receive-SocketData -TimeoutSec 0.4
        }
        $result.Errors.Count | Should -Be 1
        $result.Errors[0].FullyQualifiedErrorId | Should -Be 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        $result.Errors[0].ErrorDetails.Message | Should -Match 'within 0\.4 s'
    }

    It 'ends an accept after -TimeoutSec 0.25 with AcceptTimeout' {
        $result = Invoke-Bounded -ArgumentList $pair.Server {
            param($s)
            $s | Receive-SocketConnection -TimeoutSec 0.25
        }
        $result.Errors[0].FullyQualifiedErrorId | Should -Be 'AcceptTimeout,SocketCmdlets.Commands.ReceiveSocketConnectionCommand'
    }

    It 'takes -TimeoutSec as a double on every cmdlet that has one' {
        $commands = Get-Command -Module SocketCmdlets | Where-Object { $_.Parameters.Keys -match 'TimeoutSec$' }
        $commands | Should -Not -BeNullOrEmpty
        foreach ($c in $commands) {
            foreach ($p in $c.Parameters.Values | Where-Object Name -Match 'TimeoutSec$') {
                $p.ParameterType | Should -Be ([double]) -Because "$($c.Name) -$($p.Name)"
            }
        }
    }

    It 'shows an unlimited socket timeout as 0, as Get-SocketOption does, and keeps fractions' {
        $pair.Client.ReceiveTimeoutSec | Should -Be 0
        $pair.Client.SendTimeoutSec | Should -Be 0
        $pair.Client | Set-SocketOption -ReceiveTimeoutSec 0.25 -SendTimeoutSec 1.5
        $pair.Client.ReceiveTimeoutSec | Should -Be 0.25
        ($pair.Client | Get-SocketOption).ReceiveTimeoutSec | Should -Be 0.25
        ($pair.Client | Get-SocketOption).SendTimeoutSec | Should -Be 1.5
        $result = Invoke-Bounded -ArgumentList $pair.Client {
            param($s)
            $s | Receive-SocketData
        }
        $result.Errors[0].FullyQualifiedErrorId | Should -Be 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand'
    }
}

Describe '-OutFile keeps every byte and never destroys a file' -Tag 'Reliability' {
    BeforeEach { $pair = New-ConnectedPair }
    AfterEach { $pair.Close() }

    It 'leaves an existing file as it was when the receive times out before any data' {
        $file = Join-Path $Folder 'precious-timeout.txt'
        Set-Content -LiteralPath $file -Value 'precious' -NoNewline
        { $pair.Peer | Receive-SocketData -OutFile $file -TimeoutSec 0.3 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        Get-Content -LiteralPath $file -Raw | Should -BeExactly 'precious'
    }

    It 'leaves an existing file as it was when the connection was reset before any data' {
        $file = Join-Path $Folder 'precious-reset.txt'
        Set-Content -LiteralPath $file -Value 'precious' -NoNewline
        $pair.Client | Set-SocketOption -LingerSec 0
        $pair.Client | Close-Socket
        Wait-Until -TimeoutSec 5 { $pair.Peer.Socket.Poll(0, 'SelectRead') }
        { $pair.Peer | Receive-SocketData -OutFile $file -TimeoutSec 5 -ErrorAction Stop } | Should -Throw -ErrorId 'ConnectionReset,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        Get-Content -LiteralPath $file -Raw | Should -BeExactly 'precious'
    }

    It 'leaves an existing file as it was when the socket is closed' {
        $file = Join-Path $Folder 'precious-closed.txt'
        Set-Content -LiteralPath $file -Value 'precious' -NoNewline
        $pair.Peer | Close-Socket
        { $pair.Peer | Receive-SocketData -OutFile $file -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        Get-Content -LiteralPath $file -Raw | Should -BeExactly 'precious'
    }

    It 'refuses a directory with PathIsDirectory, before any socket call' {
        'kept' | Send-SocketData -Socket $pair.Client
        { $pair.Peer | Receive-SocketData -OutFile $Folder -ErrorAction Stop } | Should -Throw -ErrorId 'PathIsDirectory,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        $pair.Peer | Receive-SocketData -TimeoutSec 5 | Should -BeExactly 'kept'
    }

    It 'on a full device, says so, and keeps the bytes it could not write on the socket' -Skip:(-not (Test-Path '/dev/full')) {
        $bytes = New-RandomBytes (256 * 1024)
        , $bytes | Send-SocketData -Socket $pair.Client
        $pair.Client | Close-Socket -Direction Send
        $failure = $null
        try { $pair.Peer | Receive-SocketData -OutFile '/dev/full' -ByteCount $bytes.Length -TimeoutSec 5 -ErrorAction Stop } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $failure.FullyQualifiedErrorId | Should -Be 'FileError,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        $failure.ErrorDetails.Message | Should -Match '0 bytes were written'
        $failure.ErrorDetails.Message | Should -Match 'kept on the socket'
        $again = Receive-AllBytes $pair.Peer
        Get-Sha256 $again | Should -Be (Get-Sha256 $bytes)
    }

    It 'creates an empty file at a clean end of stream with no data' {
        $file = Join-Path $Folder 'empty.bin'
        $pair.Client | Close-Socket -Direction Send
        $pair.Peer | Receive-SocketData -OutFile $file -TimeoutSec 5 -ErrorAction Stop
        (Get-Item -LiteralPath $file).Length | Should -Be 0
    }
}

Describe '-ByteCount keeps what it has' -Tag 'Reliability' {
    BeforeEach { $pair = New-ConnectedPair }
    AfterEach { $pair.Close() }

    It 'says how many bytes arrived on a timeout and hands them to the next receive' {
        $sixty = New-RandomBytes 60
        , $sixty | Send-SocketData -Socket $pair.Client
        $failure = $null
        try { $pair.Peer | Receive-SocketData -ByteCount 100 -AsByteStream -TimeoutSec 0.5 -ErrorAction Stop } catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -Be 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        $failure.ErrorDetails.Message | Should -Match 'only 60 of the 100 bytes'
        $failure.ErrorDetails.Message | Should -Not -Match 'no data arrived'
        $kept = $pair.Peer | Receive-SocketData -ByteCount 60 -AsByteStream -TimeoutSec 5
        ConvertTo-Hex $kept | Should -Be (ConvertTo-Hex $sixty)
    }

    It 'keeps the bytes when Ctrl+C stops it half way' {
        $half = New-RandomBytes 50
        , $half | Send-SocketData -Socket $pair.Client
        $job = Start-SecondPowerShell -ArgumentList $pair.Peer {
            param($s)
            $s | Receive-SocketData -ByteCount 100 -AsByteStream -Verbose
        }
        try {
            Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
            Start-Sleep -Milliseconds 200
            Stop-SecondPowerShell $job | Should -BeTrue
            Get-StopError $job | Should -BeNullOrEmpty
        } finally {
            Remove-SecondPowerShell $job
        }
        $kept = $pair.Peer | Receive-SocketData -ByteCount 50 -AsByteStream -TimeoutSec 5
        ConvertTo-Hex $kept | Should -Be (ConvertTo-Hex $half)
    }

    It 'returns what arrived of a huge claimed count when the peer closes, with a warning' {
        , (New-RandomBytes 10) | Send-SocketData -Socket $pair.Client
        $pair.Client | Close-Socket -Direction Send
        $got = $pair.Peer | Receive-SocketData -ByteCount 1000000000 -AsByteStream -TimeoutSec 5 -WarningVariable warned -WarningAction SilentlyContinue
        $got.Length | Should -Be 10
        "$warned" | Should -Match '10 of 1000000000'
    }

    It 'keeps a TLS stream in step after a -ByteCount timeout' {
        $tls = New-TlsPair
        try {
            '0123456789' | Send-SocketData -Socket $tls.Client -Unbuffered
            { $tls.Peer | Receive-SocketData -ByteCount 20 -TimeoutSec 0.5 -ErrorAction Stop } | Should -Throw -ErrorId 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand'
            'abcdefghij' | Send-SocketData -Socket $tls.Client -Unbuffered
            $tls.Peer | Receive-SocketData -ByteCount 20 -TimeoutSec 5 | Should -BeExactly '0123456789abcdefghij'
        } finally {
            $tls.Close()
        }
    }
}

Describe 'Streaming replies flow' -Tag 'Reliability' {
    BeforeEach { $pair = New-ConnectedPair }
    AfterEach { $pair.Close() }

    It 'echoes each line through "Receive-SocketData -Line -ToEnd | Send-SocketData" while the client keeps its side open' {
        $echo = Start-SecondPowerShell -ArgumentList $pair.Peer {
            param($s)
            $s | Receive-SocketData -Line -ToEnd | ForEach-Object { "echo: $_" } | Send-SocketData -Socket $s -AppendNewLine
        }
        try {
            'one' | Send-SocketData -Socket $pair.Client -AppendNewLine
            $pair.Client | Receive-SocketData -Line -TimeoutSec 10 | Should -BeExactly 'echo: one'
            'two' | Send-SocketData -Socket $pair.Client -AppendNewLine
            $pair.Client | Receive-SocketData -Line -TimeoutSec 10 | Should -BeExactly 'echo: two'
        } finally {
            $pair.Client | Close-Socket -Direction Send
            $null = Wait-SecondPowerShell $echo -TimeoutSec 10
            Remove-SecondPowerShell $echo
        }
    }

    It 'sends what was handed over before a command earlier in the pipeline failed' {
        $result = Invoke-Bounded -ArgumentList $pair.Client {
            param($s)
            & { 'a'; 'b'; 'c'; 'd'; throw 'the producer failed' } | Send-SocketData -Socket $s -AppendNewLine
        }
        $result.Errors.Count | Should -BeGreaterThan 0
        $pair.Client | Close-Socket -Direction Send
        @($pair.Peer | Receive-SocketData -Line -ToEnd -TimeoutSec 5) | Should -Be @('a', 'b', 'c', 'd')
    }
}

Describe 'A -Continuous server keeps serving' -Tag 'Reliability' {
    It 'reports a failed accept (no descriptors left) as an error and accepts again' -Skip:(-not $IsLinux -or -not (Get-Command bash -ErrorAction Ignore)) {
        $portFile = Join-Path $Folder 'server-port.txt'
        $statusFile = Join-Path $Folder 'server-status.txt'
        $script = Join-Path $Folder 'fd-server.ps1'
        Set-Content -LiteralPath $script -Value @'
param($ModulePath, $PortFile, $StatusFile)
Import-Module $ModulePath
$listener = Start-SocketListen -Port 0 -Address 127.0.0.1
# A server that has run a while has met an error before: its error path is compiled (and its assemblies loaded),
# which cannot happen once no descriptor is left.
$null = $listener | Receive-SocketConnection -TimeoutSec 0.01 -ErrorAction SilentlyContinue
# The rest of the path it takes when descriptors run out, once before they do: an error record through the pipeline,
# Close-Socket on accepted connections, Add-Content, a reply.
$warmClient = Connect-Socket -ComputerName 127.0.0.1 -Port $listener.LocalEndPoint.Port -TimeoutSec 5
$warm = @(& { $listener | Receive-SocketConnection -TimeoutSec 5; Write-Error 'warm-up' } 2>&1)
$warm | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] } | ForEach-Object { 'warm' | Send-SocketData -Socket $_; $_ | Close-Socket }
$warmClient | Close-Socket
Add-Content -LiteralPath $StatusFile -Value 'warm'
[Console]::Error.WriteLine('warm')
Set-Content -LiteralPath $PortFile -Value $listener.LocalEndPoint.Port
$held = [System.Collections.Generic.List[object]]::new()
$errors = 0
$listener | Receive-SocketConnection -Continuous 2>&1 | ForEach-Object {
    if ($_ -is [System.Management.Automation.ErrorRecord]) {
        $errors++
        if ($errors -eq 1) {
            # Descriptors first, so the status file can be written.
            $held | Close-Socket
            $held.Clear()
            Add-Content -LiteralPath $StatusFile -Value "error $($_.FullyQualifiedErrorId)"
        }
    } elseif ($errors -gt 0) {
        'served' | Send-SocketData -Socket $_
        $_ | Close-Socket
        Add-Content -LiteralPath $StatusFile -Value 'served'
        $listener | Close-Socket
    } else {
        $held.Add($_)
    }
}
Add-Content -LiteralPath $StatusFile -Value 'ended'
'@
        $pwshCommand = Get-PwshCommand
        $pwsh = (@($pwshCommand.FilePath) + $pwshCommand.Prefix | ForEach-Object { "'$_'" }) -join ' '
        $child = "ulimit -n 200; exec $pwsh -NoProfile -NonInteractive -File '$script' '$env:SOCKETCMDLETS_MODULE_PATH' '$portFile' '$statusFile'"
        $process = Start-TestProcess bash @('-c', $child) -Environment @{ XDG_CACHE_HOME = (Join-Path $Folder 'child-cache') }
        $clients = [System.Collections.Generic.List[object]]::new()
        try {
            Wait-Until -TimeoutSec 60 { Test-Path -LiteralPath $portFile }
            $port = [int](Get-Content -LiteralPath $portFile)
            # More clients than the child has descriptors: its accepts fail once they run out.
            for ($i = 0; $i -lt 300 -and -not (@(Get-Content -LiteralPath $statusFile -ErrorAction Ignore) -match '^error'); $i++) {
                try { $clients.Add((Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -ErrorAction Stop)) } catch { break }
            }
            Wait-Until -TimeoutSec 60 -Because "the server to report its failed accept (its output: $(if ($process.HasExited) { $process.StdErr }))" {
                (Test-Path -LiteralPath $statusFile) -and @(Get-Content -LiteralPath $statusFile) -match '^error'
            }
            @(Get-Content -LiteralPath $statusFile | Where-Object { $_ -ne 'warm' })[0] | Should -Be 'error DescriptorsExhausted,SocketCmdlets.Commands.ReceiveSocketConnectionCommand'
            # The server goes on: a client still waiting in its backlog is served.
            Wait-Until -TimeoutSec 60 { @(Get-Content -LiteralPath $statusFile) -contains 'served' }
            $served = $false
            foreach ($c in @(Wait-Socket -Socket $clients -Read -TimeoutSec 10)) {
                if ((Receive-SocketData -Socket $c -TimeoutSec 1 -ErrorAction SilentlyContinue) -eq 'served') { $served = $true }
            }
            $served | Should -BeTrue
        } finally {
            $clients | Close-Socket
            Stop-TestProcess $process
        }
    }
}

Describe 'TLS endings' -Tag 'Reliability', 'Tls' {
    It 'sends close_notify on a full Close-Socket, so the peer sees a clean end' {
        $tls = New-TlsPair
        try {
            'bye' | Send-SocketData -Socket $tls.Peer -Unbuffered
            $tls.Peer | Close-Socket
            $got = $tls.Client | Receive-SocketData -ToEnd -TimeoutSec 5 -WarningVariable warned -ErrorAction Stop
            $got | Should -BeExactly 'bye'
            $warned | Should -BeNullOrEmpty
            $tls.Client.TlsTruncated | Should -BeFalse
        } finally {
            $tls.Close()
        }
    }

    It 'ends -ToEnd with TlsTruncated when the connection is cut without close_notify' {
        $tls = New-TlsPair
        try {
            'partial' | Send-SocketData -Socket $tls.Peer -Unbuffered
            # The escape hatch closes the connection under TLS, as a crash or an attacker would.
            $tls.Peer.Socket.Close()
            $errors = $null
            $got = $tls.Client | Receive-SocketData -ToEnd -TimeoutSec 5 -ErrorVariable errors -ErrorAction SilentlyContinue
            $got | Should -BeExactly 'partial'
            $errors.Count | Should -Be 1
            $errors[0].FullyQualifiedErrorId | Should -Be 'TlsTruncated,SocketCmdlets.Commands.ReceiveSocketDataCommand'
            $tls.Client.TlsTruncated | Should -BeTrue
        } finally {
            $tls.Close()
        }
    }

    It 'warns when a single receive meets a cut TLS stream' {
        $tls = New-TlsPair
        try {
            $tls.Peer.Socket.Close()
            $null = $tls.Client | Receive-SocketData -TimeoutSec 5 -WarningVariable warned -WarningAction SilentlyContinue -ErrorAction Stop
            "$warned" | Should -Match 'close_notify'
        } finally {
            $tls.Close()
        }
    }

    It 'tells a Python TLS client a clean end (close_notify) on Close-Socket' -Skip:(-not (Get-Command python3 -ErrorAction Ignore)) {
        $listener = Start-SocketListen -Port 0 -Address 127.0.0.1
        $py = Join-Path $Folder 'tls-eof.py'
        Set-Content -LiteralPath $py -Value @'
import socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False) as s:
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            print("clean " + data.decode())
        except ssl.SSLEOFError:
            print("unexpected-eof " + data.decode())
'@
        $process = Start-TestProcess python3 @($py, $listener.LocalEndPoint.Port)
        try {
            $peer = $listener | Receive-SocketConnection -TimeoutSec 20
            $null = $peer | Protect-Socket -Certificate $ServerCert -TimeoutSec 10
            'hi' | Send-SocketData -Socket $peer -Unbuffered
            $peer | Close-Socket
            $null = Wait-TestProcess $process -TimeoutSec 20
            "$($process.StdOut)".Trim() | Should -BeExactly 'clean hi'
        } finally {
            Stop-TestProcess $process
            $listener | Close-Socket
        }
    }

    It 'reports InvalidSocketState when a TLS socket is closed from another runspace during a receive' {
        $tls = New-TlsPair
        try {
            $job = Start-SecondPowerShell -ArgumentList $tls.Client {
                param($s)
                $s | Receive-SocketData -Verbose -TimeoutSec 30
            }
            Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
            Start-Sleep -Milliseconds 200
            $tls.Client | Close-Socket
            $null = Wait-SecondPowerShell $job -TimeoutSec 10
            $job.PowerShell.Streams.Error[0].FullyQualifiedErrorId | Should -Be 'InvalidSocketState,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        } finally {
            Remove-SecondPowerShell $job
            $tls.Close()
        }
    }

    It 'does not report a TLS socket readable when only handshake records (TLS 1.3 tickets) arrived' {
        $tls = New-TlsPair
        try {
            Start-Sleep -Milliseconds 300
            @(Wait-Socket -Socket $tls.Client -Read -TimeoutSec 0.5) | Should -HaveCount 0
            'now' | Send-SocketData -Socket $tls.Peer -Unbuffered
            @(Wait-Socket -Socket $tls.Client -Read -TimeoutSec 10) | Should -HaveCount 1
            $tls.Client | Receive-SocketData -TimeoutSec 5 | Should -BeExactly 'now'
        } finally {
            $tls.Close()
        }
    }
}

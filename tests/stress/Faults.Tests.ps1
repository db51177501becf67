BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Stress.Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    $ReceiveId = 'SocketCmdlets.Commands.ReceiveSocketDataCommand'
    $SendId = 'SocketCmdlets.Commands.SendSocketDataCommand'
    $AcceptId = 'SocketCmdlets.Commands.ReceiveSocketConnectionCommand'

    # Receives in a second PowerShell until the end of the stream or an error; returns the bytes and the error.
    $ReceiveToEndScript = {
        param($Socket, [int] $TimeoutSec)
        $chunks = [System.Collections.Generic.List[byte[]]]::new()
        $failure = $null
        try {
            Receive-SocketData -Socket $Socket -AsByteStream -ToEnd -TimeoutSec $TimeoutSec -Verbose -ErrorAction Stop |
                ForEach-Object { $chunks.Add($_) }
        } catch {
            $failure = $_
        }
        $stream = [System.IO.MemoryStream]::new()
        foreach ($c in $chunks) { $stream.Write($c, 0, $c.Length) }
        [pscustomobject]@{ Bytes = $stream.ToArray(); Error = $failure }
    }

    # Sends bytes in one Send-SocketData call from a second PowerShell; returns the error it ended with, if any.
    $SendScript = {
        param($Socket, [byte[]] $Data, [int] $TimeoutSec)
        $failure = $null
        try { Send-SocketData -Socket $Socket -Data $Data -TimeoutSec $TimeoutSec -ErrorAction Stop } catch { $failure = $_ }
        [pscustomobject]@{ Error = $failure }
    }

    # Sends bytes one at a time, a few milliseconds apart (a slowloris), from a second PowerShell.
    $TrickleScript = {
        param($Socket, [byte[]] $Bytes, [int] $DelayMs)
        $failure = $null
        try {
            foreach ($b in $Bytes) {
                Send-SocketData -Socket $Socket -Data ([byte[]] @($b)) -TimeoutSec 10 -ErrorAction Stop
                Start-Sleep -Milliseconds $DelayMs
            }
        } catch {
            $failure = $_
        }
        [pscustomobject]@{ Sent = $Socket.BytesSent; Error = $failure }
    }

    function New-TrickledPair {
        # A connected pair whose client sends small segments at once (TCP_NODELAY), for trickling.
        $pair = New-ConnectedPair
        $pair.Client | Set-SocketOption -NoDelay
        $pair
    }

    function Invoke-Ip {
        # Runs ip with the given arguments; throws with its message when it fails.
        $output = & ip @args 2>&1
        if ($LASTEXITCODE -ne 0) { throw "ip $($args -join ' ') failed: $output" }
    }

    function Read-PeerStatus {
        # The last status a NetnsPeer.ps1 wrote, or $null.
        param([string] $Path)
        if (-not (Test-Path -LiteralPath $Path)) { return $null }
        try { Get-Content -Raw -LiteralPath $Path | ConvertFrom-Json } catch { $null }
    }
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Faults: each ends in a known error or a clean end of stream, nothing lost, nothing leaked' -Tag 'Stress', 'Faults' {
    AfterEach {
        Get-Socket | Close-Socket
    }

    Context 'The peer resets the connection' {
        It 'ends a receive that is waiting with ConnectionReset, after everything sent before the reset' {
            $pair = New-ConnectedPair
            $payload = New-RandomBytes (3MB + 17)
            $job = Start-SecondPowerShell -ScriptBlock $ReceiveToEndScript -ArgumentList $pair.Peer, 30
            try {
                Wait-Until -TimeoutSec 20 { $job.PowerShell.Streams.Verbose.Count -gt 0 } -Because 'the receive to start'
                $pair.Client | Send-SocketData -Data $payload -TimeoutSec 20 -ErrorAction Stop
                Wait-Until -TimeoutSec 20 { $pair.Peer.BytesReceived -eq $payload.Length } -Because 'the receiver to have everything sent'
                # SO_LINGER 0: the close sends RST instead of FIN while the other side waits in its receive.
                $pair.Client | Set-SocketOption -LingerSec 0
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $pair.Client | Close-Socket
                $result = Wait-SecondPowerShell $job -TimeoutSec 30
                $clock.Stop()
            } finally {
                Remove-SecondPowerShell $job
            }
            Write-StressFigure 'faults' 'reset: bytes intact before the reset' $result.Bytes.Length
            Write-StressFigure 'faults' 'reset: seconds from RST to the error' $clock.Elapsed.TotalSeconds
            $result.Error | Should -Not -BeNullOrEmpty -Because 'a reset is an error, not an end of stream'
            $result.Error.FullyQualifiedErrorId | Should -Be "ConnectionReset,$ReceiveId"
            $result.Error.CategoryInfo.Category | Should -Be 'ConnectionError'
            $result.Bytes.Length | Should -Be $payload.Length
            Get-Sha256 $result.Bytes | Should -Be (Get-Sha256 $payload)
            $pair.Peer | Close-Socket
            $pair.Server | Close-Socket
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }

        It 'delivers an intact prefix, then ConnectionReset, when the reset overtakes unread data' {
            $pair = New-ConnectedPair
            $payload = New-RandomBytes 256KB
            $pair.Client | Send-SocketData -Data $payload -TimeoutSec 20 -ErrorAction Stop
            $pair.Client | Set-SocketOption -LingerSec 0
            $pair.Client | Close-Socket
            $result = Invoke-Bounded -ScriptBlock $ReceiveToEndScript -ArgumentList $pair.Peer, 10 -TimeoutSec 60
            Write-StressFigure 'faults' 'reset with unread data: bytes delivered' "$($result.Bytes.Length) of $($payload.Length)"
            $result.Error | Should -Not -BeNullOrEmpty
            $result.Error.FullyQualifiedErrorId | Should -Be "ConnectionReset,$ReceiveId"
            # Whatever was delivered is exactly what was sent, from the start: no byte changed, none skipped.
            if ($result.Bytes.Length -gt 0) {
                Get-Sha256 $result.Bytes | Should -Be (Get-Sha256 (Copy-ByteRange $payload $result.Bytes.Length))
            }
            $pair.Peer, $pair.Server | Close-Socket
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }

        It 'ends a send blocked on a full window with ConnectionReset when the reader resets' {
            $pair = New-ConnectedPair
            $payload = New-RandomBytes 64MB
            $job = Start-SecondPowerShell -ArgumentList $pair.Client, $payload, 60 $SendScript
            try {
                Wait-SendStalled $pair.Client -TimeoutSec 30
                $pair.Peer | Set-SocketOption -LingerSec 0
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $pair.Peer | Close-Socket
                $result = Wait-SecondPowerShell $job -TimeoutSec 50
                $clock.Stop()
            } finally {
                Remove-SecondPowerShell $job
            }
            Write-StressFigure 'faults' 'reset of a blocked sender: seconds from RST to the error' $clock.Elapsed.TotalSeconds
            $result.Error | Should -Not -BeNullOrEmpty
            $result.Error.FullyQualifiedErrorId | Should -Be "ConnectionReset,$SendId"
            $pair.Client, $pair.Server | Close-Socket
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }

        It 'reports ConnectionReset to a send on a reset connection, and the socket closes' {
            $pair = New-ConnectedPair
            $pair.Peer | Set-SocketOption -LingerSec 0
            $pair.Peer | Close-Socket
            # The first send may still be accepted by the kernel before the RST is seen; a later one fails.
            $result = Invoke-Bounded -ArgumentList $pair.Client -TimeoutSec 60 {
                param($Socket)
                $failure = $null
                for ($i = 0; $i -lt 50 -and -not $failure; $i++) {
                    try { Send-SocketData -Socket $Socket -Data ([byte[]]::new(1000)) -TimeoutSec 5 -ErrorAction Stop } catch { $failure = $_ }
                    Start-Sleep -Milliseconds 20
                }
                [pscustomobject]@{ Error = $failure }
            }
            $result.Error | Should -Not -BeNullOrEmpty
            $result.Error.FullyQualifiedErrorId | Should -Be "ConnectionReset,$SendId"
            $pair.Client | Close-Socket
            $pair.Server | Close-Socket
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }
    }

    Context 'The peer half-closes' {
        It 'ends the receive cleanly after everything sent before the half-close, and the reply still flows' {
            $pair = New-ConnectedPair
            $payload = New-RandomBytes (2MB + 5)
            $job = Start-SecondPowerShell -ScriptBlock $ReceiveToEndScript -ArgumentList $pair.Peer, 30
            try {
                Wait-Until -TimeoutSec 20 { $job.PowerShell.Streams.Verbose.Count -gt 0 } -Because 'the receive to start'
                $pair.Client | Send-SocketData -Data $payload -TimeoutSec 20 -ErrorAction Stop
                $pair.Client | Close-Socket -Direction Send
                $result = Wait-SecondPowerShell $job -TimeoutSec 30
            } finally {
                Remove-SecondPowerShell $job
            }
            $result.Error | Should -BeNullOrEmpty -Because 'the end of the stream is not an error'
            $result.Bytes.Length | Should -Be $payload.Length
            Get-Sha256 $result.Bytes | Should -Be (Get-Sha256 $payload)
            $pair.Peer.EndOfStream | Should -BeTrue
            $pair.Client.State | Should -Be 'HalfClosed'
            # The half-closed side still receives.
            'bye' | Send-SocketData -Socket $pair.Peer -ErrorAction Stop
            $pair.Peer | Close-Socket
            $pair.Client | Receive-SocketData -ToEnd -TimeoutSec 10 -ErrorAction Stop | Should -Be 'bye'
            $pair.Client, $pair.Server | Close-Socket
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }

        It 'returns every line, the last one without its newline, then ends cleanly' {
            $pair = New-ConnectedPair
            $lines = 1..500 | ForEach-Object { "line $_ " + ('é€' * ($_ % 37)) }
            ($lines[0..498] -join "`n") + "`n" + $lines[499] | Send-SocketData -Socket $pair.Client -ErrorAction Stop
            $pair.Client | Close-Socket -Direction Send
            $result = Invoke-Bounded -ArgumentList $pair.Peer -TimeoutSec 60 {
                param($Socket)
                $failure = $null
                $got = [System.Collections.Generic.List[string]]::new()
                try { $Socket | Receive-SocketData -Line -ToEnd -TimeoutSec 10 -ErrorAction Stop | ForEach-Object { $got.Add($_) } } catch { $failure = $_ }
                [pscustomobject]@{ Lines = $got.ToArray(); Error = $failure }
            }
            $result.Error | Should -BeNullOrEmpty
            $result.Lines | Should -HaveCount 500
            for ($i = 0; $i -lt 500; $i++) { $result.Lines[$i] | Should -BeExactly $lines[$i] }
            $pair.Close()
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }
    }

    Context 'The peer stops reading' {
        It 'ends a blocked send with SendTimeout; everything counted as sent arrives intact; the socket closes' {
            $pair = New-ConnectedPair
            # Far more than loopback's socket buffers can hold, so the send must block.
            $payload = New-RandomBytes 64MB
            $job = Start-SecondPowerShell -ArgumentList $pair.Client, $payload, 3 $SendScript
            try {
                # It blocks: bytes went out, then stopped.
                Wait-SendStalled $pair.Client -TimeoutSec 30
                $result = Wait-SecondPowerShell $job -TimeoutSec 60
            } finally {
                Remove-SecondPowerShell $job
            }
            $sent = $pair.Client.BytesSent
            Write-StressFigure 'faults' 'stop reading: bytes sent before SendTimeout' $sent
            $result.Error | Should -Not -BeNullOrEmpty
            $result.Error.FullyQualifiedErrorId | Should -Be "SendTimeout,$SendId"
            $result.Error.CategoryInfo.Category | Should -Be 'OperationTimeout'
            $sent | Should -BeGreaterThan 0
            $sent | Should -BeLessThan $payload.Length
            # What the sender counts as sent is exactly what the reader gets: the first $sent bytes, and no more.
            $received = $pair.Peer | Receive-SocketData -ByteCount $sent -AsByteStream -TimeoutSec 20 -ErrorAction Stop
            $received.Length | Should -Be $sent
            Get-Sha256 $received | Should -Be (Get-Sha256 (Copy-ByteRange $payload $sent))
            { $pair.Peer | Receive-SocketData -AsByteStream -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId "ReceiveTimeout,$ReceiveId"
            $pair.Client | Close-Socket
            $pair.Client.State | Should -Be 'Closed'
            $pair.Peer, $pair.Server | Close-Socket
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }
    }

    Context 'The listener is closed from another runspace while an accept waits' {
        It 'ends Receive-SocketConnection -Continuous quietly' {
            $listener = Start-SocketListen -Port 0 -Address 127.0.0.1
            $job = Start-SecondPowerShell -ArgumentList $listener {
                param($Listener)
                $Listener | Receive-SocketConnection -Continuous -TimeoutSec 60 -Verbose | ForEach-Object { $_ | Close-Socket }
            }
            try {
                Wait-Until -TimeoutSec 20 { $job.PowerShell.Streams.Verbose.Count -gt 0 } -Because 'the accept to wait'
                $listener | Close-Socket
                $null = Wait-SecondPowerShell $job -TimeoutSec 30
                $job.PowerShell.InvocationStateInfo.State | Should -Be 'Completed'
                @($job.PowerShell.Streams.Error) | Should -HaveCount 0 -Because "closing the listener ends -Continuous; got: $(@($job.PowerShell.Streams.Error) -join '; ')"
            } finally {
                Remove-SecondPowerShell $job
            }
            Assert-NoSocketLeft -Socket $listener
        }

        It 'ends a single Receive-SocketConnection with InvalidSocketState' {
            $listener = Start-SocketListen -Port 0 -Address 127.0.0.1
            $job = Start-SecondPowerShell -ArgumentList $listener {
                param($Listener)
                $failure = $null
                try { $Listener | Receive-SocketConnection -TimeoutSec 60 -Verbose -ErrorAction Stop } catch { $failure = $_ }
                [pscustomobject]@{ Error = $failure }
            }
            try {
                Wait-Until -TimeoutSec 20 { $job.PowerShell.Streams.Verbose.Count -gt 0 } -Because 'the accept to wait'
                $listener | Close-Socket
                $result = Wait-SecondPowerShell $job -TimeoutSec 30
            } finally {
                Remove-SecondPowerShell $job
            }
            $result.Error | Should -Not -BeNullOrEmpty
            $result.Error.FullyQualifiedErrorId | Should -Be "InvalidSocketState,$AcceptId"
            $result.Error.TargetObject.Id | Should -Be $listener.Id
            Assert-NoSocketLeft -Socket $listener
        }
    }

    Context 'The socket is closed from another runspace while a call waits on it' {
        It 'ends a waiting Receive-SocketData with InvalidSocketState, after the bytes that came before' {
            $pair = New-ConnectedPair
            $payload = New-RandomBytes 100KB
            $job = Start-SecondPowerShell -ScriptBlock $ReceiveToEndScript -ArgumentList $pair.Peer, 60
            try {
                Wait-Until -TimeoutSec 20 { $job.PowerShell.Streams.Verbose.Count -gt 0 } -Because 'the receive to start'
                $pair.Client | Send-SocketData -Data $payload -ErrorAction Stop
                Wait-Until -TimeoutSec 20 { $pair.Peer.BytesReceived -eq $payload.Length } -Because 'the bytes to arrive'
                $pair.Peer | Close-Socket
                $result = Wait-SecondPowerShell $job -TimeoutSec 30
            } finally {
                Remove-SecondPowerShell $job
            }
            $result.Error | Should -Not -BeNullOrEmpty
            $result.Error.FullyQualifiedErrorId | Should -Be "InvalidSocketState,$ReceiveId"
            Get-Sha256 $result.Bytes | Should -Be (Get-Sha256 $payload)
            $pair.Client, $pair.Server | Close-Socket
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }

        It 'ends a blocked Send-SocketData with InvalidSocketState' {
            $pair = New-ConnectedPair
            $payload = New-RandomBytes 64MB
            $job = Start-SecondPowerShell -ArgumentList $pair.Client, $payload, 60 $SendScript
            try {
                Wait-SendStalled $pair.Client -TimeoutSec 30
                $pair.Client | Close-Socket
                $result = Wait-SecondPowerShell $job -TimeoutSec 50
            } finally {
                Remove-SecondPowerShell $job
            }
            $result.Error | Should -Not -BeNullOrEmpty
            $result.Error.FullyQualifiedErrorId | Should -Be "InvalidSocketState,$SendId"
            $pair.Peer, $pair.Server | Close-Socket
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }
    }

    Context 'A TLS upgrade fails before its handshake starts' {
        BeforeAll {
            # Receives one line in a second PowerShell; if it is still blocked after -BoundSec, the peer is closed to
            # release it (a blocking receive ignores -TimeoutSec and Ctrl+C), and the result says so.
            function Receive-LineBounded {
                param($Pair, [int] $BoundSec = 8)
                $job = Start-SecondPowerShell -ArgumentList $Pair.Client {
                    param($Socket)
                    $failure = $null; $line = $null
                    try { $line = $Socket | Receive-SocketData -Line -TimeoutSec 2 -ErrorAction Stop } catch { $failure = $_ }
                    [pscustomobject]@{ Line = $line; Error = $failure }
                }
                try {
                    $blocked = -not $job.Handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds($BoundSec))
                    if ($blocked) { $Pair.Peer | Close-Socket }
                    $result = Wait-SecondPowerShell $job -TimeoutSec 30
                    $result | Add-Member -NotePropertyName Blocked -NotePropertyValue $blocked -PassThru
                } finally {
                    Remove-SecondPowerShell $job
                }
            }
        }

        It 'rejects an ALPN name TLS cannot carry with a known error id, and the socket stays as it was' {
            $pair = New-ConnectedPair
            "line1`nline2`n" | Send-SocketData -Socket $pair.Peer -ErrorAction Stop
            $pair.Client | Receive-SocketData -Line -TimeoutSec 10 -ErrorAction Stop | Should -Be 'line1'
            $record = $null
            # A protocol id is at most 255 bytes in TLS.
            try { Protect-Socket -Socket $pair.Client -SkipCertificateCheck -ApplicationProtocol ('x' * 300) -TimeoutSec 5 -ErrorAction SilentlyContinue -ErrorVariable failed } catch { $record = $_ }
            if (-not $record -and $failed) { $record = $failed[0] }
            $blocking = $pair.Client.Socket.Blocking
            $result = Receive-LineBounded $pair
            $record | Should -Not -BeNullOrEmpty
            ($record.FullyQualifiedErrorId -split ',')[0] | Should -BeIn (Get-KnownErrorId) -Because "the error was $($record.FullyQualifiedErrorId), category $($record.CategoryInfo.Category)"
            $record.CategoryInfo.Category | Should -Not -Be 'NotSpecified'
            $blocking | Should -BeFalse -Because 'the engine keeps its sockets non-blocking, or no timeout and no Ctrl+C can end a receive'
            $result.Blocked | Should -BeFalse -Because 'a receive with -TimeoutSec 2 must end by itself'
            $result.Line | Should -Be 'line2' -Because 'the bytes buffered before the failed upgrade are still there to read'
            Get-Socket | Close-Socket
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }

        It 'closes the socket after a handshake that timed out, so nothing is read from a broken stream' {
            # The peer never answers the ClientHello, so Protect-Socket ends with ConnectTimeout. The abandoned
            # handshake would go on reading from the connection, so the module closes it rather than let a later
            # receive race it for the peer's bytes.
            $pair = New-ConnectedPair
            $record = $null
            try { Protect-Socket -Socket $pair.Client -SkipCertificateCheck -TimeoutSec 1 -ErrorAction Stop } catch { $record = $_ }
            $record.FullyQualifiedErrorId | Should -Be 'ConnectTimeout,SocketCmdlets.Commands.ProtectSocketCommand'
            "$record" | Should -Match 'closed'
            $pair.Client.State | Should -Be 'Closed'
            (Get-Socket).Id | Should -Not -Contain $pair.Client.Id
            # The peer sees the connection end: an end of stream or a reset, never a hang.
            $ended = $null
            try { $ended = @($pair.Peer | Receive-SocketData -AsByteStream -ToEnd -TimeoutSec 10 -ErrorAction Stop) } catch { $ended = $_.FullyQualifiedErrorId }
            "$ended" | Should -Not -BeLike 'ReceiveTimeout*'
            Write-StressFigure 'faults' 'TLS handshake timeout' "ConnectTimeout, then the socket closed; the peer saw $(if ($ended -is [string]) { $ended -replace ',.*' } else { 'the ClientHello and an end of stream' })"
            $pair.Peer, $pair.Server | Close-Socket
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }

        It 'reports a connection reset earlier as ConnectionReset, not a file error, and keeps the buffered bytes' {
            $pair = New-ConnectedPair
            "line1`nline2`n" | Send-SocketData -Socket $pair.Peer -ErrorAction Stop
            $pair.Client | Receive-SocketData -Line -TimeoutSec 10 -ErrorAction Stop | Should -Be 'line1'
            $pair.Peer | Set-SocketOption -LingerSec 0
            $pair.Peer | Close-Socket
            # The reset is seen by a send; the line already received stays buffered in the engine.
            Wait-Until -TimeoutSec 10 -Because 'a send to see the reset' {
                try { 'x' | Send-SocketData -Socket $pair.Client -TimeoutSec 2 -ErrorAction Stop; $false } catch { $_.FullyQualifiedErrorId -like 'ConnectionReset,*' }
            }
            $record = $null
            try { Protect-Socket -Socket $pair.Client -SkipCertificateCheck -TimeoutSec 5 -ErrorAction Stop } catch { $record = $_ }
            $blocking = $pair.Client.Socket.Blocking
            $result = Receive-LineBounded $pair
            $record | Should -Not -BeNullOrEmpty
            ($record.FullyQualifiedErrorId -split ',')[0] | Should -BeIn 'ConnectionReset', 'InvalidSocketState', 'TlsHandshakeFailed' -Because "the error was $($record.FullyQualifiedErrorId) [$($record.CategoryInfo.Category)]: $record"
            $blocking | Should -BeFalse -Because 'the engine keeps its sockets non-blocking'
            $result.Line | Should -Be 'line2' -Because 'the bytes received before the reset are intact and still readable'
            Get-Socket | Close-Socket
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }
    }

    Context 'Wait-Socket while one of its sockets is closed from another runspace' {
        It 'goes on waiting for the others and emits the one that becomes readable' {
            $pairs = 1..3 | ForEach-Object { New-ConnectedPair }
            $job = Start-SecondPowerShell -ArgumentList (, [object[]] $pairs.Peer) {
                param([object[]] $Sockets)
                # The closed socket may be reported (InvalidSocketState: left out of the wait); that is not a failure.
                $ready = @(Wait-Socket -Socket $Sockets -Read -TimeoutSec 20 -Verbose -ErrorAction SilentlyContinue -ErrorVariable waitErrors)
                [pscustomobject]@{ Ready = $ready; Errors = @($waitErrors) }
            }
            try {
                Wait-Until -TimeoutSec 20 { $job.PowerShell.Streams.Verbose.Count -gt 0 } -Because 'the wait to start'
                Start-Sleep -Milliseconds 200
                $pairs[0].Peer | Close-Socket
                Start-Sleep -Milliseconds 200
                'wake' | Send-SocketData -Socket $pairs[2].Client -ErrorAction Stop
                $result = Wait-SecondPowerShell $job -TimeoutSec 30
            } finally {
                Remove-SecondPowerShell $job
            }
            @($result.Errors | Where-Object { $_.FullyQualifiedErrorId -ne 'InvalidSocketState,SocketCmdlets.Commands.WaitSocketCommand' }) |
                Should -HaveCount 0 -Because "only the closed socket may be reported: $($result.Errors -join '; ')"
            @($result.Ready).Id | Should -Not -Contain $pairs[0].Peer.Id -Because 'a socket closed during the wait is not ready to read; it is closed'
            @($result.Ready).Id | Should -Be @($pairs[2].Peer.Id)
            $pairs[2].Peer | Receive-SocketData -TimeoutSec 5 | Should -Be 'wake'
            $pairs | Close-ConnectedPair
            Assert-NoSocketLeft -Socket ($pairs.Client + $pairs.Peer + $pairs.Server)
        }
    }

    Context 'A slowloris trickles bytes' {
        It 'assembles a line trickled one byte at a time, multi-byte characters split across reads' {
            $pair = New-TrickledPair
            $text = -join (1..100 | ForEach-Object { ('a', 'é', '€', 'z', "$([char]0xD834)$([char]0xDD1E)")[$_ % 5] })
            $bytes = [System.Text.Encoding]::UTF8.GetBytes($text + "`n")
            $bytes.Length | Should -BeGreaterOrEqual 200
            $job = Start-SecondPowerShell -ScriptBlock $TrickleScript -ArgumentList $pair.Client, $bytes, 3
            try {
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $line = $pair.Peer | Receive-SocketData -Line -TimeoutSec 10 -ErrorAction Stop
                $clock.Stop()
                $trickle = Wait-SecondPowerShell $job -TimeoutSec 60
            } finally {
                Remove-SecondPowerShell $job
            }
            Write-StressFigure 'faults' 'slowloris: bytes trickled into one line' $bytes.Length
            Write-StressFigure 'faults' 'slowloris: seconds for the line' $clock.Elapsed.TotalSeconds
            $trickle.Error | Should -BeNullOrEmpty
            $line | Should -BeExactly $text
            $pair.Close()
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }

        It 'ends a trickle that stops without a newline with ReceiveTimeout, and keeps its bytes' {
            $pair = New-TrickledPair
            $bytes = [System.Text.Encoding]::UTF8.GetBytes('no newline here, ' * 4)
            $job = Start-SecondPowerShell -ScriptBlock $TrickleScript -ArgumentList $pair.Client, $bytes, 3
            try {
                $result = Invoke-Bounded -ArgumentList $pair.Peer -TimeoutSec 60 {
                    param($Socket)
                    $failure = $null
                    try { $null = $Socket | Receive-SocketData -Line -TimeoutSec 2 -ErrorAction Stop } catch { $failure = $_ }
                    [pscustomobject]@{ Error = $failure }
                }
                $trickle = Wait-SecondPowerShell $job -TimeoutSec 60
            } finally {
                Remove-SecondPowerShell $job
            }
            $trickle.Error | Should -BeNullOrEmpty
            $result.Error | Should -Not -BeNullOrEmpty -Because 'a line that never ends must not wait forever'
            $result.Error.FullyQualifiedErrorId | Should -Be "ReceiveTimeout,$ReceiveId"
            $rest = $pair.Peer | Receive-SocketData -ByteCount $bytes.Length -AsByteStream -TimeoutSec 10 -ErrorAction Stop
            Get-Sha256 $rest | Should -Be (Get-Sha256 $bytes)
            $pair.Close()
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }

        It 'ends a trickle that never sends a newline with RecordTooLong at -MaxRecordLength, and keeps its bytes' {
            $pair = New-TrickledPair
            $bytes = [byte[]] (1..200 | ForEach-Object { 0x41 + ($_ % 26) })
            $job = Start-SecondPowerShell -ScriptBlock $TrickleScript -ArgumentList $pair.Client, $bytes, 3
            try {
                $result = Invoke-Bounded -ArgumentList $pair.Peer -TimeoutSec 60 {
                    param($Socket)
                    $failure = $null
                    try { $null = $Socket | Receive-SocketData -Line -MaxRecordLength 64 -TimeoutSec 10 -ErrorAction Stop } catch { $failure = $_ }
                    [pscustomobject]@{ Error = $failure; ReceivedThen = $Socket.BytesReceived }
                }
                $trickle = Wait-SecondPowerShell $job -TimeoutSec 60
            } finally {
                Remove-SecondPowerShell $job
            }
            Write-StressFigure 'faults' 'slowloris: bytes read when RecordTooLong ended it' $result.ReceivedThen
            $trickle.Error | Should -BeNullOrEmpty
            $result.Error | Should -Not -BeNullOrEmpty
            $result.Error.FullyQualifiedErrorId | Should -Be "RecordTooLong,$ReceiveId"
            $result.Error.CategoryInfo.Category | Should -Be 'LimitsExceeded'
            $rest = $pair.Peer | Receive-SocketData -ByteCount $bytes.Length -AsByteStream -TimeoutSec 10 -ErrorAction Stop
            Get-Sha256 $rest | Should -Be (Get-Sha256 $bytes)
            $pair.Close()
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }
    }

    Context 'A line longer than the record limit' {
        It 'is RecordTooLong, its bytes stay readable with -ByteCount, and the next line still reads' {
            $pair = New-ConnectedPair
            $long = [System.Text.Encoding]::UTF8.GetBytes(('0123456789é' * 500) + "`n")
            $pair.Client | Send-SocketData -Data $long -ErrorAction Stop
            'after' | Send-SocketData -Socket $pair.Client -AppendNewLine -ErrorAction Stop
            $result = Invoke-Bounded -ArgumentList $pair.Peer -TimeoutSec 60 {
                param($Socket)
                $failure = $null
                try { $null = $Socket | Receive-SocketData -Line -MaxRecordLength 1000 -TimeoutSec 10 -ErrorAction Stop } catch { $failure = $_ }
                [pscustomobject]@{ Error = $failure }
            }
            $result.Error | Should -Not -BeNullOrEmpty
            $result.Error.FullyQualifiedErrorId | Should -Be "RecordTooLong,$ReceiveId"
            $again = $pair.Peer | Receive-SocketData -ByteCount $long.Length -AsByteStream -TimeoutSec 10 -ErrorAction Stop
            Get-Sha256 $again | Should -Be (Get-Sha256 $long)
            $pair.Peer | Receive-SocketData -Line -MaxRecordLength 1000 -TimeoutSec 10 -ErrorAction Stop | Should -BeExactly 'after'
            $pair.Close()
            Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
        }
    }

    Context 'The network goes away' {
        It 'ends the conversation across a deleted veth link with a timeout or reset error, and the processes survive' {
            $reason = Get-NetnsUnavailableReason
            if ($reason) {
                Set-ItResult -Skipped -Because $reason
                return
            }
            # Two namespaces of this test, joined by a veth pair: 10.231.0.1 (server) and 10.231.0.2 (client). The
            # conversation crosses the veth; nothing touches the host's own network. Deleting one end of the veth
            # removes both, and with them the only path between the two processes.
            $timeoutSec = 3
            $names = @{ Server = "socketcmdlets-stress-$PID-s"; Client = "socketcmdlets-stress-$PID-c" }
            $veth = "scs$PID"
            $work = Join-Path ([System.IO.Path]::GetTempPath()) "socketcmdlets-netns-$PID-$([guid]::NewGuid().ToString('n'))"
            $null = New-Item -ItemType Directory -Path $work
            $children = @{}
            $status = @{}
            try {
                foreach ($ns in $names.Values) { Invoke-Ip netns add $ns }
                Invoke-Ip -n $names.Server link add "$($veth)s" type veth peer name "$($veth)c" netns $names.Client
                Invoke-Ip -n $names.Server addr add 10.231.0.1/24 dev "$($veth)s"
                Invoke-Ip -n $names.Client addr add 10.231.0.2/24 dev "$($veth)c"
                foreach ($role in 'Server', 'Client') {
                    Invoke-Ip -n $names[$role] link set lo up
                    Invoke-Ip -n $names[$role] link set "$($veth)$($role.Substring(0, 1).ToLowerInvariant())" up
                }

                foreach ($role in 'Server', 'Client') {
                    $status[$role] = Join-Path $work "$role.json"
                    $arguments = @('-Role', $role, '-Address', '10.231.0.1', '-Port', '7357', '-ModulePath', $env:SOCKETCMDLETS_MODULE_PATH,
                        '-StatusPath', $status[$role], '-TimeoutSec', $timeoutSec)
                    # Both start at once; the client retries its connect until the server listens.
                    $children[$role] = [pscustomobject]@{
                        Process = Start-ChildPwsh -Namespace $names[$role] -ToolManifest -File (Join-Path $PSScriptRoot 'NetnsPeer.ps1') -ArgumentList $arguments -CacheHome (Join-Path $work "cache-$role")
                    }
                }
                Wait-Until -TimeoutSec 120 -IntervalMs 200 -Because 'both sides to exchange 40 messages across the veth' {
                    $s = Read-PeerStatus $status.Server; $c = Read-PeerStatus $status.Client
                    $children.Server.Process.HasExited -or $children.Client.Process.HasExited -or
                        ($s -and $c -and $s.Exchanged -ge 40 -and $c.Exchanged -ge 40)
                }
                $children.Values.Process.HasExited | Should -Not -Contain $true -Because 'both sides talk until the link goes'

                # The network goes away mid-conversation.
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                Invoke-Ip -n $names.Server link del "$($veth)s"
                foreach ($role in 'Server', 'Client') {
                    # Bounded: the receive or send timeout of each side, plus the start-up slack of a loaded machine.
                    $children[$role].Process.WaitForExit(($timeoutSec + 60) * 1000) | Should -BeTrue -Because "the $role must end after the link is gone"
                }
                $clock.Stop()
            } finally {
                foreach ($child in $children.Values) {
                    if (-not $child.Process.HasExited) { Stop-Process -Id $child.Process.Id -Force -ErrorAction SilentlyContinue }
                }
                foreach ($ns in $names.Values) { & ip netns del $ns 2>&1 | Out-Null }
                $finalStatus = @{}
                foreach ($role in $status.Keys) { $finalStatus[$role] = Read-PeerStatus $status[$role] }
                Remove-Item -Recurse -Force -LiteralPath $work -ErrorAction SilentlyContinue
            }
            $results = @{}
            foreach ($role in 'Server', 'Client') {
                $child = $children[$role]
                $child.Process.ExitCode | Should -Be 0 -Because "the $role process survives the fault (stderr: $($child.Process.StdErr))"
                $results[$role] = $finalStatus[$role]
            }
            & ip netns list 2>&1 | Should -Not -Match "socketcmdlets-stress-$PID-" -Because 'the namespaces are deleted'

            Write-StressFigure 'faults' 'network gone: messages before the link vanished' "$($results.Client.Exchanged) client, $($results.Server.Exchanged) server"
            Write-StressFigure 'faults' 'network gone: errors' "client $($results.Client.ErrorId -replace ',.*'), server $($results.Server.ErrorId -replace ',.*')"
            Write-StressFigure 'faults' 'network gone: seconds from last message to error' "client $($results.Client.SecondsFromLastExchangeToError), server $($results.Server.SecondsFromLastExchangeToError)"
            Write-StressFigure 'faults' 'network gone: seconds until both processes ended' $clock.Elapsed.TotalSeconds
            $expected = 'ReceiveTimeout', 'SendTimeout', 'ConnectionReset', 'NetworkUnreachable'
            foreach ($role in 'Server', 'Client') {
                $r = $results[$role]
                $r.Phase | Should -Be 'done'
                $r.Intact | Should -BeTrue -Because "every message the $role got before the fault was the one expected"
                $r.Exchanged | Should -BeGreaterOrEqual 40
                $r.ErrorId | Should -Not -BeNullOrEmpty -Because "the $role's conversation ends in an error, not a clean end"
                ($r.ErrorId -split ',')[0] | Should -BeIn $expected -Because "the $role ended with '$($r.ErrorId)': $($r.Message)"
                ($r.ErrorId -split ',')[1] | Should -BeLike 'SocketCmdlets.Commands.*'
                $r.OpenSocketsAfterClose | Should -Be 0
            }
            # The two sides agree on what was exchanged: the client at most one ping ahead of the server's count.
            ($results.Server.Exchanged - $results.Client.Exchanged) | Should -BeIn 0, 1
        }
    }
}

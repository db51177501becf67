BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    function Get-SentBytes {
        # Half-closes the client and returns every byte the peer received: exactly what was sent, nothing more.
        param($Pair)
        $Pair.Client | Close-Socket -Direction Send
        Receive-AllBytes $Pair.Peer
    }

    $TempFolder = Join-Path ([System.IO.Path]::GetTempPath()) "socketcmdlets-send-$PID-$([guid]::NewGuid().ToString('N'))"
    $null = New-Item -ItemType Directory -Path $TempFolder
}

AfterAll {
    Get-Socket | Close-Socket
    if (Test-Path -LiteralPath $TempFolder) { Remove-Item -LiteralPath $TempFolder -Recurse -Force }
}

Describe 'Send-SocketData' -Tag 'SendSocketData' {
    BeforeEach {
        $pair = New-ConnectedPair
        $client = $pair.Client
    }

    AfterEach {
        Get-Socket | Close-Socket
    }

    Context 'Strings' {
        It 'sends a string piped in with -Socket named' {
            'hello' | Send-SocketData -Socket $client
            $pair.Peer | Receive-SocketData -ByteCount 5 -TimeoutSec 5 | Should -BeExactly 'hello'
        }

        It 'sends -Data to a socket piped in' {
            $client | Send-SocketData -Data 'hello'
            $pair.Peer | Receive-SocketData -ByteCount 5 -TimeoutSec 5 | Should -BeExactly 'hello'
        }

        It 'sends -Data to each socket piped in' {
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $pair.Port -TimeoutSec 5
            $secondPeer = $pair.Server | Receive-SocketConnection -TimeoutSec 5
            $client, $second | Send-SocketData -Data 'hi' | Should -BeNullOrEmpty
            $pair.Peer | Receive-SocketData -ByteCount 2 -TimeoutSec 5 | Should -BeExactly 'hi'
            $secondPeer | Receive-SocketData -ByteCount 2 -TimeoutSec 5 | Should -BeExactly 'hi'
        }

        It 'takes -Socket and -Data by position' {
            Send-SocketData $client 'positional'
            $pair.Peer | Receive-SocketData -ByteCount 10 -TimeoutSec 5 | Should -BeExactly 'positional'
        }

        It 'sends strings verbatim, one after the other, with nothing added' {
            'one', 'two', 'three' | Send-SocketData -Socket $client
            ConvertTo-Hex (Get-SentBytes $pair) | Should -Be (ConvertTo-Hex ([System.Text.Encoding]::ASCII.GetBytes('onetwothree')))
            $client.BytesSent | Should -Be 11
        }

        It 'sends UTF-8 by default, without a byte-order mark' {
            'é' | Send-SocketData -Socket $client
            ConvertTo-Hex (Get-SentBytes $pair) | Should -Be 'C3 A9'
        }

        It 'sends other objects as their text' {
            42, 1.5 | Send-SocketData -Socket $client
            # A collection given as -Data goes item by item; a [char] is its text; $null sends nothing.
            Send-SocketData -Socket $client -Data @('x', 1, [char]'y')
            $null | Send-SocketData -Socket $client
            [System.Text.Encoding]::ASCII.GetString((Get-SentBytes $pair)) | Should -BeExactly '421.5x1y'
        }

        It 'sends nothing for an empty string' {
            '' | Send-SocketData -Socket $client
            $client.BytesSent | Should -Be 0
            ConvertTo-Hex (Get-SentBytes $pair) | Should -Be ''
        }

        It 'encodes with -Encoding <Label> as <Hex>' -ForEach @(
            @{ Label = 'utf8'; Encoding = 'utf8'; Hex = 'C3 A9' }
            @{ Label = 'utf8BOM (no BOM sent)'; Encoding = 'utf8BOM'; Hex = 'C3 A9' }
            @{ Label = 'utf8NoBOM'; Encoding = 'utf8NoBOM'; Hex = 'C3 A9' }
            @{ Label = 'unicode'; Encoding = 'unicode'; Hex = 'E9 00' }
            @{ Label = 'bigendianunicode'; Encoding = 'bigendianunicode'; Hex = '00 E9' }
            @{ Label = 'utf32'; Encoding = 'utf32'; Hex = 'E9 00 00 00' }
            @{ Label = 'bigendianutf32'; Encoding = 'bigendianutf32'; Hex = '00 00 00 E9' }
            @{ Label = 'latin1'; Encoding = 'latin1'; Hex = 'E9' }
            @{ Label = 'ascii'; Encoding = 'ascii'; Hex = '3F' }
            @{ Label = 'code page 28591 (number)'; Encoding = 28591; Hex = 'E9' }
            @{ Label = 'code page 1200 (number)'; Encoding = 1200; Hex = 'E9 00' }
            @{ Label = "code page '65001' (text)"; Encoding = '65001'; Hex = 'C3 A9' }
            @{ Label = '[Text.Encoding]::Unicode object (no BOM sent)'; Encoding = [System.Text.Encoding]::Unicode; Hex = 'E9 00' }
            @{ Label = 'UTF8Encoding object with BOM (no BOM sent)'; Encoding = [System.Text.UTF8Encoding]::new($true); Hex = 'C3 A9' }
            @{ Label = '[Text.Encoding]::UTF32 object (no BOM sent)'; Encoding = [System.Text.Encoding]::UTF32; Hex = 'E9 00 00 00' }
        ) {
            'é' | Send-SocketData -Socket $client -Encoding $Encoding
            ConvertTo-Hex (Get-SentBytes $pair) | Should -Be $Hex
        }

        It 'rejects an unknown -Encoding name' {
            { 'x' | Send-SocketData -Socket $client -Encoding 'no-such-encoding' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ParameterArgumentTransformationError,SocketCmdlets.Commands.SendSocketDataCommand'
        }

        It 'adds "`n" after each string with -AppendNewLine' {
            'a', 'b' | Send-SocketData -Socket $client -AppendNewLine
            ConvertTo-Hex (Get-SentBytes $pair) | Should -Be '61 0A 62 0A'
        }

        It 'adds -NewLine "`r`n" after each string with -AppendNewLine' {
            'a', 'b' | Send-SocketData -Socket $client -AppendNewLine -NewLine "`r`n"
            ConvertTo-Hex (Get-SentBytes $pair) | Should -Be '61 0D 0A 62 0D 0A'
        }

        It 'encodes the line ending with -Encoding too' {
            'a' | Send-SocketData -Socket $client -AppendNewLine -Encoding unicode
            ConvertTo-Hex (Get-SentBytes $pair) | Should -Be '61 00 0A 00'
        }

        It 'rejects <Arguments> by parameter binding and sends nothing' -ForEach @(
            @{ Arguments = '-TimeoutSec -1'; Parameters = @{ TimeoutSec = -1 } }
            @{ Arguments = "-NewLine ''"; Parameters = @{ NewLine = '' } }
            @{ Arguments = "-Path ''"; Parameters = @{ Path = '' } }
            @{ Arguments = '-Encoding nope'; Parameters = @{ Encoding = 'nope' } }
        ) {
            $err = { Send-SocketData -Socket $client -Data 'x' @Parameters -ErrorAction Stop } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'ParameterArgument*,SocketCmdlets.Commands.SendSocketDataCommand'
            $client.BytesSent | Should -Be 0
        }

        It 'rejects an empty -NewLine' {
            { 'a' | Send-SocketData -Socket $client -AppendNewLine -NewLine '' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.SendSocketDataCommand'
        }
    }

    Context 'Bytes' {
        It 'sends a byte[] passed whole on the pipeline as it is' {
            $bytes = [byte[]](0, 255, 10, 13, 0x80, 0xC3)
            , $bytes | Send-SocketData -Socket $client
            ConvertTo-Hex (Get-SentBytes $pair) | Should -Be '00 FF 0A 0D 80 C3'
        }

        It 'sends a byte[] given as -Data as it is' {
            $client | Send-SocketData -Data ([byte[]](0xDE, 0xAD, 0xBE, 0xEF))
            ConvertTo-Hex (Get-SentBytes $pair) | Should -Be 'DE AD BE EF'
        }

        It 'sends every byte value as it is, given as -Data and piped whole, one after the other' {
            $all = [byte[]](0..255)
            Send-SocketData -Socket $client -Data $all
            , $all | Send-SocketData -Socket $client
            ConvertTo-Hex (Get-SentBytes $pair) | Should -Be (ConvertTo-Hex ([byte[]]($all + $all)))
        }

        It 'gathers single bytes from the pipeline into one send, in order' {
            $bytes = [byte[]](0..999 | ForEach-Object { ($_ * 7) % 256 })
            $records = $bytes | Send-SocketData -Socket $client -Verbose 4>&1
            # One send of 1000 bytes, not 1000 sends of one.
            @($records | Get-VerboseMessage | Where-Object { $_ -match '^Sent \d+ bytes' }) | Should -Be "Sent 1000 bytes to 127.0.0.1:$($pair.Port) (socket $($client.Id))."
            # (What arrives first may leave before the rest is gathered: the bytes are read whole.)
            $received = $pair.Peer | Receive-SocketData -AsByteStream -ByteCount 1000 -TimeoutSec 5
            $received.GetType() | Should -Be ([byte[]])
            $received.Length | Should -Be 1000
            ConvertTo-Hex $received | Should -Be (ConvertTo-Hex $bytes)
        }

        It 'sends each input at once with -Unbuffered' {
            $records = 'a', 'b', 'c' | Send-SocketData -Socket $client -Unbuffered -Verbose 4>&1
            $sent = @($records | Get-VerboseMessage | Where-Object { $_ -match '^Sent \d+ bytes' })
            $sent | Should -HaveCount 3
            $sent | ForEach-Object { $_ | Should -Match '^Sent 1 bytes' }
            ConvertTo-Hex (Get-SentBytes $pair) | Should -Be '61 62 63'
        }

        It 'counts the bytes sent in BytesSent and the peer counts them in BytesReceived' {
            , [byte[]](1..100) | Send-SocketData -Socket $client
            $client.BytesSent | Should -Be 100
            $null = $pair.Peer | Receive-SocketData -ByteCount 100 -AsByteStream -TimeoutSec 5
            $pair.Peer.BytesReceived | Should -Be 100
        }
    }

    Context '-Path' {
        It 'streams a file with -Socket' {
            $file = Join-Path $TempFolder 'small.bin'
            [System.IO.File]::WriteAllBytes($file, (New-RandomBytes 70000))
            Send-SocketData -Socket $client -Path $file
            Get-Sha256 (Get-SentBytes $pair) | Should -Be (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash
        }

        It 'streams a 3 MiB file and shows a progress bar about it, completed at the end' {
            $file = Join-Path $TempFolder 'progress.bin'
            [System.IO.File]::WriteAllBytes($file, (New-RandomBytes (3MB + 3)))
            # Progress records cannot be redirected: a second PowerShell collects them in its Streams.Progress.
            $job = Start-SecondPowerShell -ArgumentList $client, $file { param($s, $f) Send-SocketData -Socket $s -Path $f -Verbose }
            try {
                # Read while it sends: 3 MiB is more than the socket buffers hold.
                $stream = [System.IO.MemoryStream]::new()
                foreach ($chunk in @($pair.Peer | Receive-SocketData -AsByteStream -ByteCount (3MB + 3) -TimeoutSec 30)) { $stream.Write($chunk, 0, $chunk.Length) }
                $null = Wait-SecondPowerShell $job -TimeoutSec 30
                Get-Sha256 $stream.ToArray() | Should -Be (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash
                @($job.PowerShell.Streams.Verbose | Where-Object { $_.Message -match "Sent $(3MB + 3) bytes" -and $_.Message -match 'progress\.bin' }) | Should -HaveCount 1
                $progress = @($job.PowerShell.Streams.Progress)
                $progress | Should -Not -BeNullOrEmpty
                $progress | ForEach-Object { $_.Activity | Should -Match 'progress\.bin' }
                $progress[-1].RecordType | Should -Be 'Completed'
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'streams a file to a socket piped in' {
            $file = Join-Path $TempFolder 'piped.txt'
            Set-Content -LiteralPath $file -Value 'file content' -NoNewline
            $client | Send-SocketData -Path $file
            [System.Text.Encoding]::UTF8.GetString((Get-SentBytes $pair)) | Should -BeExactly 'file content'
        }

        It 'takes a PowerShell path (TestDrive:)' {
            Set-Content -LiteralPath (Join-Path $TestDrive 'drive.txt') -Value 'from the drive' -NoNewline
            Send-SocketData -Socket $client -Path 'TestDrive:/drive.txt'
            [System.Text.Encoding]::UTF8.GetString((Get-SentBytes $pair)) | Should -BeExactly 'from the drive'
        }

        It 'reports FileNotFound for a missing -Path before any socket call' {
            # The socket is not even connected: the file check must come first.
            $unconnected = New-Socket
            $missing = Join-Path $TempFolder 'missing.bin'
            $err = { Send-SocketData -Socket $unconnected -Path $missing -ErrorAction Stop } |
                Should -Throw -ErrorId 'FileNotFound,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.TargetObject | Should -Be $missing
            $err.ToString() | Should -Match 'missing\.bin'
            $unconnected.BytesSent | Should -Be 0
        }

        It 'rejects -Path with -Data as ConflictingParameters' {
            $file = Join-Path $TempFolder 'conflict.txt'
            Set-Content -LiteralPath $file -Value 'x'
            $err = { Send-SocketData -Socket $client -Data 'x' -Path $file -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $client.BytesSent | Should -Be 0
        }
    }

    Context '-Path edges: growing, shrinking, FIFOs, directories' {
        BeforeAll {
            function Write-FileBytes {
                # Appends to or truncates a file another call has open (shared for reading and writing).
                param([string] $Path, [byte[]] $Append, [long] $Length = -1)
                $stream = [System.IO.FileStream]::new($Path, 'Open', 'Write', 'ReadWrite')
                try {
                    if ($Length -ge 0) { $stream.SetLength($Length) }
                    if ($Append) { $null = $stream.Seek(0, 'End'); $stream.Write($Append, 0, $Append.Length) }
                } finally {
                    $stream.Dispose()
                }
            }

            function Receive-Paced {
                # Receives $Length bytes one receive at a time with a short pause between them, so a send that follows
                # lasts several progress intervals (bounded in count and by -TimeoutSec per receive).
                param($Socket, [long] $Length)
                $stream = [System.IO.MemoryStream]::new()
                for ($i = 0; $i -lt 20000 -and $stream.Length -lt $Length; $i++) {
                    foreach ($chunk in @($Socket | Receive-SocketData -AsByteStream -TimeoutSec 10 -ErrorAction Stop)) { $stream.Write($chunk, 0, $chunk.Length) }
                    Start-Sleep -Milliseconds 5
                }
                , $stream.ToArray()
            }
        }

        BeforeEach {
            $job = $null
            $writer = $null
            $fifo = $null
            $Small = @{ SendBufferSize = 65536 }
            $client | Set-SocketOption @Small
            $pair.Peer | Set-SocketOption -ReceiveBufferSize 65536
        }

        AfterEach {
            # The writer first: its end releases a read that would otherwise hold the second PowerShell; and a send
            # still blocked opening a FIFO (as before the fix) is released by a writer that opens and closes it.
            $writer | Stop-TestProcess
            if ($fifo -and $job -and -not $job.Handle.IsCompleted) { & timeout 2 sh -c ": > '$fifo'" }
            Remove-SecondPowerShell $job
        }

        It 'reports PathIsDirectory (not FileNotFound) for a directory, before any socket call' {
            $unconnected = New-Socket
            $err = { Send-SocketData -Socket $unconnected -Path $TempFolder -ErrorAction Stop } |
                Should -Throw -ErrorId 'PathIsDirectory,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.ToString() | Should -Match 'is a directory'
        }

        It 'sends a file that grows during the send to its end, without a progress error' {
            $file = Join-Path $TempFolder 'grows.bin'
            $first = New-RandomBytes 8MB
            $more = New-RandomBytes 8MB
            [System.IO.File]::WriteAllBytes($file, $first)
            $job = Start-SecondPowerShell -ArgumentList $client, $file {
                param($s, $f)
                $ProgressPreference = 'Continue'
                Send-SocketData -Socket $s -Path $f -Verbose
            }
            Wait-SendStalled $client -TimeoutSec 30
            Write-FileBytes -Path $file -Append $more
            $received = Receive-Paced $pair.Peer ($first.Length + $more.Length)
            $null = Wait-SecondPowerShell $job -TimeoutSec 60
            @($job.PowerShell.Streams.Error) | Should -BeNullOrEmpty
            $received.Length | Should -Be ($first.Length + $more.Length)
            Get-Sha256 $received | Should -Be (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash
            @($job.PowerShell.Streams.Verbose | Where-Object Message -Match 'grew while it was sent') | Should -HaveCount 1
            @($job.PowerShell.Streams.Progress | Where-Object PercentComplete -GT 100) | Should -BeNullOrEmpty
        }

        It 'warns with the bytes sent and the length at the start when the file is cut short during the send' {
            $file = Join-Path $TempFolder 'shrinks.bin'
            $original = New-RandomBytes 8MB
            [System.IO.File]::WriteAllBytes($file, $original)
            $job = Start-SecondPowerShell -ArgumentList $client, $file {
                param($s, $f)
                Send-SocketData -Socket $s -Path $f
                $s | Close-Socket -Direction Send
            }
            Wait-SendStalled $client -TimeoutSec 30
            Write-FileBytes -Path $file -Length 2MB
            $received = Receive-AllBytes $pair.Peer -TimeoutSec 20
            $null = Wait-SecondPowerShell $job -TimeoutSec 60
            @($job.PowerShell.Streams.Error) | Should -BeNullOrEmpty
            $warnings = @($job.PowerShell.Streams.Warning | ForEach-Object Message)
            $warnings | Should -HaveCount 1
            $warnings[0] | Should -Match "(\d+) bytes were sent .* of the $($original.Length) it held at the start"
            $sent = [long] ([regex]::Match($warnings[0], '(\d+) bytes were sent').Groups[1].Value)
            $received.Length | Should -Be $sent
            $sent | Should -BeLessThan $original.Length
            Get-Sha256 $received | Should -Be (Get-Sha256 ([byte[]] $original[0..($sent - 1)]))
        }

        It 'ends on Ctrl+C while a FIFO without a writer blocks the open, with no error and no reader left behind' -Skip:(-not (Get-Command mkfifo -CommandType Application -ErrorAction Ignore)) {
            # Skipped where mkfifo (coreutils) is missing, as on Windows.
            $fifo = Join-Path $TempFolder "nowriter-$([guid]::NewGuid().ToString('N')).fifo"
            & mkfifo $fifo
            $job = Start-SecondPowerShell -ArgumentList $client, $fifo { param($s, $f) Send-SocketData -Socket $s -Path $f -Verbose }
            try {
                Wait-Until -TimeoutSec 10 -Because 'the send to open the FIFO' { @($job.PowerShell.Streams.Verbose | Where-Object Message -Match '^Opening').Count -gt 0 }
                Start-Sleep -Milliseconds 200
                $job.PowerShell.InvocationStateInfo.State | Should -Be 'Running' -Because 'open() waits for a writer'
                Stop-SecondPowerShell $job | Should -BeTrue
                $job.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
                Get-StopError $job | Should -BeNullOrEmpty
                Get-ErrorVariable $job | Should -BeNullOrEmpty
                # No reader is left blocked in open(): a writer now waits for one in turn, until timeout(1) ends it (124).
                $writer = Start-TestProcess timeout @('1', 'sh', '-c', "echo x > '$fifo'")
                Wait-TestProcess $writer -TimeoutSec 10
                $writer.ExitCode | Should -Be 124
                $client.BytesSent | Should -Be 0
            } finally {
                # Were the open still blocked (the old behaviour), a writer releases it so the runspace can go.
                if (-not $job.Handle.IsCompleted) { & timeout 2 sh -c ": > '$fifo'" }
            }
        }

        It 'sends what a FIFO writer writes, up to its end, without a length' -Skip:(-not (Get-Command mkfifo -CommandType Application -ErrorAction Ignore)) {
            $fifo = Join-Path $TempFolder "writer-$([guid]::NewGuid().ToString('N')).fifo"
            & mkfifo $fifo
            $job = Start-SecondPowerShell -ArgumentList $client, $fifo {
                param($s, $f)
                Send-SocketData -Socket $s -Path $f -Verbose
                $s | Close-Socket -Direction Send
            }
            Wait-Until -TimeoutSec 10 -Because 'the send to open the FIFO' { @($job.PowerShell.Streams.Verbose | Where-Object Message -Match '^Opening').Count -gt 0 }
            $writer = Start-TestProcess sh @('-c', "printf 'through the fifo' > '$fifo'")
            Wait-TestProcess $writer -TimeoutSec 10
            $received = Receive-AllBytes $pair.Peer -TimeoutSec 10
            $null = Wait-SecondPowerShell $job -TimeoutSec 20
            @($job.PowerShell.Streams.Error) | Should -BeNullOrEmpty
            [System.Text.Encoding]::UTF8.GetString($received) | Should -BeExactly 'through the fifo'
            @($job.PowerShell.Streams.Verbose | Where-Object Message -Match 'no length') | Should -HaveCount 1
        }

        It 'ends on Ctrl+C while a FIFO writer stays silent, with no error' -Skip:(-not (Get-Command mkfifo -CommandType Application -ErrorAction Ignore)) {
            $fifo = Join-Path $TempFolder "silent-$([guid]::NewGuid().ToString('N')).fifo"
            & mkfifo $fifo
            $job = Start-SecondPowerShell -ArgumentList $client, $fifo { param($s, $f) Send-SocketData -Socket $s -Path $f -Verbose }
            # The writer opens the FIFO and holds it open without writing (stopped by its id in AfterEach).
            $writer = Start-TestProcess sh @('-c', "exec 3>'$fifo'; exec sleep 60")
            Wait-Until -TimeoutSec 10 -Because 'the send to read the FIFO' { @($job.PowerShell.Streams.Verbose | Where-Object Message -Match '^Sending').Count -gt 0 }
            Start-Sleep -Milliseconds 200
            $job.PowerShell.InvocationStateInfo.State | Should -Be 'Running' -Because 'read() waits for the writer'
            Stop-SecondPowerShell $job | Should -BeTrue
            $job.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            Get-StopError $job | Should -BeNullOrEmpty
            Get-ErrorVariable $job | Should -BeNullOrEmpty
            $client.BytesSent | Should -Be 0
        }
    }

    Context 'A line ending the encoding cannot carry' {
        It "refuses -AppendNewLine -NewLine '€' -Encoding ascii with DelimiterNotEncodable, before any socket call" {
            $unconnected = New-Socket
            $err = { 'x' | Send-SocketData -Socket $unconnected -AppendNewLine -NewLine '€' -Encoding ascii -ErrorAction Stop } |
                Should -Throw -ErrorId 'DelimiterNotEncodable,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            $err.ToString() | Should -Match "would become '\?'"
        }

        It 'does not check -NewLine without -AppendNewLine, which does not use it' {
            'x' | Send-SocketData -Socket $client -NewLine '€' -Encoding ascii -ErrorAction Stop
            ConvertTo-Hex (Get-SentBytes $pair) | Should -Be '78'
        }
    }

    Context 'Parameter sets and -PassThru' {
        It 'sends to the socket with that -Id' {
            'by id' | Send-SocketData -Id $client.Id
            $pair.Peer | Receive-SocketData -ByteCount 5 -TimeoutSec 5 | Should -BeExactly 'by id'
        }

        It 'sends every piped string to the socket with that -Id and emits it once with -PassThru' {
            $out = @('x', 'y' | Send-SocketData -Id $client.Id -PassThru)
            $out.Count | Should -Be 1
            [object]::ReferenceEquals($out[0], $client) | Should -BeTrue
            [System.Text.Encoding]::UTF8.GetString((Get-SentBytes $pair)) | Should -BeExactly 'xy'
        }

        It 'sends -Data to the socket with that -Id' {
            Send-SocketData -Id $client.Id -Data 'by id'
            $pair.Peer | Receive-SocketData -ByteCount 5 -TimeoutSec 5 | Should -BeExactly 'by id'
        }

        It 'reports SocketNotFound for an -Id that names no open socket' {
            $gone = New-Socket
            $id = $gone.Id
            $gone | Close-Socket
            { Send-SocketData -Id $id -Data 'x' -ErrorAction Stop } | Should -Throw -ErrorId 'SocketNotFound,SocketCmdlets.Commands.SendSocketDataCommand'
        }

        It 'refuses with SocketOrDataRequired when neither -Socket nor -Data is named' {
            $err = { 'x' | Send-SocketData -ErrorAction Stop } | Should -Throw -ErrorId 'SocketOrDataRequired,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            { $client | Send-SocketData -ErrorAction Stop } | Should -Throw -ErrorId 'SocketOrDataRequired,SocketCmdlets.Commands.SendSocketDataCommand'
            $client.BytesSent | Should -Be 0
        }

        It 'reports DataIsSocket when sockets are piped in as data' {
            $other = New-Socket
            $err = { $other | Send-SocketData -Socket $client -ErrorAction Stop } | Should -Throw -ErrorId 'DataIsSocket,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            { $client | Send-SocketData -Socket $client -ErrorAction Stop } | Should -Throw -ErrorId 'DataIsSocket,SocketCmdlets.Commands.SendSocketDataCommand'
            $client.BytesSent | Should -Be 0
        }

        It 'emits the socket once with -PassThru when data is piped' {
            $out = @('a', 'b' | Send-SocketData -Socket $client -PassThru)
            $out.Count | Should -Be 1
            [object]::ReferenceEquals($out[0], $client) | Should -BeTrue
            $client.BytesSent | Should -Be 2
        }

        It 'emits each socket with -PassThru when sockets are piped' {
            $out = @($client | Send-SocketData -Data 'a' -PassThru)
            $out.Count | Should -Be 1
            [object]::ReferenceEquals($out[0], $client) | Should -BeTrue
            [System.Text.Encoding]::UTF8.GetString((Get-SentBytes $pair)) | Should -BeExactly 'a'
        }

        It 'emits every piped socket with -PassThru, in order' {
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $pair.Port -TimeoutSec 5
            $out = @($client, $second | Send-SocketData -Data 'c' -PassThru)
            $out.Count | Should -Be 2
            [object]::ReferenceEquals($out[0], $client) | Should -BeTrue
            [object]::ReferenceEquals($out[1], $second) | Should -BeTrue
        }

        It 'emits the socket with -PassThru in the Id set' {
            $out = @(Send-SocketData -Id $client.Id -Data 'a' -PassThru)
            $out.Count | Should -Be 1
            $out[0].Id | Should -Be $client.Id
        }

        It 'emits nothing without -PassThru' {
            'a' | Send-SocketData -Socket $client | Should -BeNullOrEmpty
        }

        It 'chains with -PassThru into Close-Socket -Direction Send' {
            'last words' | Send-SocketData -Socket $client -PassThru | Close-Socket -Direction Send
            $client.State | Should -Be 'HalfClosed'
            (Receive-SocketData -Socket $pair.Peer -ToEnd -TimeoutSec 5) -join '' | Should -BeExactly 'last words'
        }
    }

    Context 'Wrong state' {
        It 'reports InvalidSocketState, naming the state, when sending before connecting' {
            $s = New-Socket
            $err = { 'x' | Send-SocketData -Socket $s -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $err.TargetObject.Id | Should -Be $s.Id
            $err.ToString() | Should -Match '\bCreated\b'
            $err.ErrorDetails.Message | Should -Match 'connect'
            # Two inputs, one error: the call gives up on the socket at the first.
            'a', 'b' | Send-SocketData -Socket $s -ErrorVariable twoInputs -ErrorAction SilentlyContinue
            $twoInputs.Count | Should -Be 1
            $twoInputs[0].FullyQualifiedErrorId | Should -Be 'InvalidSocketState,SocketCmdlets.Commands.SendSocketDataCommand'
        }

        It 'reports InvalidSocketState, naming the state, when sending on a listener' {
            $err = { 'x' | Send-SocketData -Socket $pair.Server -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            $err.ToString() | Should -Match '\bListening\b'
        }

        It 'reports InvalidSocketState, naming the state, when sending after close' {
            $client | Close-Socket
            $err = { 'x' | Send-SocketData -Socket $client -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            $err.ToString() | Should -Match '\bClosed\b'
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $err.TargetObject.Id | Should -Be $client.Id
            $err.ErrorDetails.Message | Should -Match 'closed'
            { $client | Send-SocketData -Data 'a' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.SendSocketDataCommand'
        }

        It 'reports InvalidSocketState, naming the state, when sending after a half-close' {
            $client | Close-Socket -Direction Send
            $err = { 'x' | Send-SocketData -Socket $client -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            $err.ToString() | Should -Match '\bHalfClosed\b'
        }
    }

    Context 'A peer that resets' {
        It 'reports ConnectionReset when the peer has reset the connection' {
            $pair.Peer.Socket.LingerState = [System.Net.Sockets.LingerOption]::new($true, 0)
            $pair.Peer | Close-Socket
            $err = { 'x' | Send-SocketData -Socket $client -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionReset,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ConnectionError'
            $err.TargetObject.Id | Should -Be $client.Id
        }
    }

    Context 'A peer that does not read' {
        It 'reports SendTimeout when the peer does not read within -TimeoutSec' {
            $big = [byte[]]::new(64MB)
            $err = { Send-SocketData -Socket $client -Data $big -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'SendTimeout,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err.TargetObject.Id | Should -Be $client.Id
            $client.BytesSent | Should -BeLessThan $big.Length
        }

        It 'ends a send blocked by a peer that does not read on Ctrl+C with no error' {
            $big = [byte[]]::new(64MB)
            $job = Start-SecondPowerShell -ArgumentList $client, $big { param($s, $data) Send-SocketData -Socket $s -Data $data -Verbose }
            try {
                Wait-SendStalled $client -TimeoutSec 30
                $job.PowerShell.InvocationStateInfo.State | Should -Be 'Running'
                $job.PowerShell.BeginStop($null, $null).AsyncWaitHandle.WaitOne(10000) | Should -BeTrue
                $job.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
                Get-StopError $job | Should -BeNullOrEmpty
                Get-ErrorVariable $job | Should -BeNullOrEmpty
            } finally {
                Remove-SecondPowerShell $job
            }
            $client.BytesSent | Should -BeLessThan $big.Length
            $client.State | Should -Be 'Connected'
        }
    }

    It 'says on the verbose stream how many bytes it sent and to whom' {
        $verbose = @('hello' | Send-SocketData -Socket $client -Verbose 4>&1 | Get-VerboseMessage)
        $verbose | Should -Contain "Sent 5 bytes to 127.0.0.1:$($pair.Port) (socket $($client.Id))."
    }

    It 'says on the verbose stream which file it sends' {
        $file = Join-Path $TempFolder 'verbose.txt'
        Set-Content -LiteralPath $file -Value 'abc' -NoNewline
        $verbose = @(Send-SocketData -Socket $client -Path $file -Verbose 4>&1 | Get-VerboseMessage)
        ($verbose -match 'verbose\.txt.*3 bytes') | Should -Not -BeNullOrEmpty
        ($verbose -match "^Sent 3 bytes from '.*verbose\.txt'") | Should -Not -BeNullOrEmpty
    }
}

Describe 'Large transfers (10 MiB)' -Tag 'SendSocketData', 'LargeTransfer' {
    BeforeAll {
        $Size = 10MB
        $Payload = New-RandomBytes $Size
        $PayloadHash = Get-Sha256 $Payload
        $PayloadFile = Join-Path $TempFolder 'payload.bin'
        [System.IO.File]::WriteAllBytes($PayloadFile, $Payload)
    }

    BeforeEach {
        $pair = New-ConnectedPair
        $job = $null
    }

    AfterEach {
        Remove-SecondPowerShell $job
        Get-Socket | Close-Socket
    }

    It 'arrives intact from memory to memory, client to server' {
        # The sender runs in a second runspace: one thread cannot send and receive 10 MiB past the kernel buffers.
        $job = Start-SecondPowerShell -ArgumentList $pair.Client, $Payload {
            param($s, $data)
            Send-SocketData -Socket $s -Data $data -TimeoutSec 30 -ErrorAction Stop
            $s | Close-Socket -Direction Send
        }
        $received = $pair.Peer | Receive-SocketData -ByteCount $Size -AsByteStream -TimeoutSec 30
        $null = Wait-SecondPowerShell $job -TimeoutSec 60
        $job.PowerShell.Streams.Error | Should -BeNullOrEmpty
        $received.Length | Should -Be $Size
        Get-Sha256 $received | Should -Be $PayloadHash
        $pair.Client.BytesSent | Should -Be $Size
        $pair.Peer.BytesReceived | Should -Be $Size
    }

    It 'arrives intact from memory to memory, server to client' {
        $job = Start-SecondPowerShell -ArgumentList $pair.Client {
            param($s)
            Receive-SocketData -Socket $s -ByteCount 10MB -AsByteStream -TimeoutSec 30 -ErrorAction Stop
        }
        Send-SocketData -Socket $pair.Peer -Data $Payload -TimeoutSec 30
        $received = @(Wait-SecondPowerShell $job -TimeoutSec 60)
        $job.PowerShell.Streams.Error | Should -BeNullOrEmpty
        $received.Count | Should -Be 1 -Because 'a byte[] is written as one object'
        $received[0].Length | Should -Be $Size
        Get-Sha256 $received[0] | Should -Be $PayloadHash
    }

    It 'arrives intact from -Path to -OutFile, client to server' {
        $out = Join-Path $TempFolder 'received-c2s.bin'
        $job = Start-SecondPowerShell -ArgumentList $pair.Peer, $out {
            param($s, $file)
            Receive-SocketData -Socket $s -OutFile $file -TimeoutSec 30 -ErrorAction Stop
        }
        Send-SocketData -Socket $pair.Client -Path $PayloadFile -TimeoutSec 30
        $pair.Client | Close-Socket -Direction Send
        $null = Wait-SecondPowerShell $job -TimeoutSec 60
        $job.PowerShell.Streams.Error | Should -BeNullOrEmpty
        (Get-Item -LiteralPath $out).Length | Should -Be $Size
        (Get-FileHash -LiteralPath $out -Algorithm SHA256).Hash | Should -Be $PayloadHash
    }

    It 'arrives intact from -Path to -OutFile, server to client' {
        $out = Join-Path $TempFolder 'received-s2c.bin'
        $job = Start-SecondPowerShell -ArgumentList $pair.Peer, $PayloadFile {
            param($s, $file)
            Send-SocketData -Socket $s -Path $file -TimeoutSec 30 -ErrorAction Stop
            $s | Close-Socket -Direction Send
        }
        $pair.Client | Receive-SocketData -OutFile $out -TimeoutSec 30
        $null = Wait-SecondPowerShell $job -TimeoutSec 60
        $job.PowerShell.Streams.Error | Should -BeNullOrEmpty
        (Get-FileHash -LiteralPath $out -Algorithm SHA256).Hash | Should -Be $PayloadHash
    }

    It 'arrives intact from memory to -OutFile and from -Path to memory' {
        $out = Join-Path $TempFolder 'received-mixed.bin'
        $job = Start-SecondPowerShell -ArgumentList $pair.Client, $Payload, $PayloadFile {
            param($s, $data, $file)
            Send-SocketData -Socket $s -Data $data -TimeoutSec 30 -ErrorAction Stop
            Send-SocketData -Socket $s -Path $file -TimeoutSec 30 -ErrorAction Stop
            $s | Close-Socket -Direction Send
        }
        $pair.Peer | Receive-SocketData -OutFile $out -ByteCount $Size -TimeoutSec 30
        $rest = Receive-AllBytes $pair.Peer -TimeoutSec 30
        $null = Wait-SecondPowerShell $job -TimeoutSec 60
        $job.PowerShell.Streams.Error | Should -BeNullOrEmpty
        (Get-FileHash -LiteralPath $out -Algorithm SHA256).Hash | Should -Be $PayloadHash
        $rest.Length | Should -Be $Size
        Get-Sha256 $rest | Should -Be $PayloadHash
    }
}

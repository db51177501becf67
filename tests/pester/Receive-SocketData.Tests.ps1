BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    function Send-Bytes {
        # Sends raw bytes, whole.
        param($Socket, [byte[]] $Bytes)
        , $Bytes | Send-SocketData -Socket $Socket -ErrorAction Stop
    }

    $Utf8 = [System.Text.UTF8Encoding]::new($false)
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Receive-SocketData' -Tag 'ReceiveSocketData' {
    BeforeEach {
        $pair = New-ConnectedPair
        $client = $pair.Client
        $peer = $pair.Peer
        $job = $null
    }

    AfterEach {
        Remove-SecondPowerShell $job
        Get-Socket | Close-Socket
    }

    Context 'Default: one receive, as text' {
        It 'returns what one receive yields, as a string' {
            'hello' | Send-SocketData -Socket $client
            $text = $peer | Receive-SocketData -TimeoutSec 5
            $text | Should -BeOfType ([string])
            $text | Should -BeExactly 'hello'
        }

        It 'decodes UTF-8 by default' {
            Send-Bytes $client ([byte[]](0x63, 0x61, 0x66, 0xC3, 0xA9))
            $peer | Receive-SocketData -TimeoutSec 5 | Should -BeExactly 'café'
        }

        It 'decodes with -Encoding <Encoding>' -ForEach @(
            @{ Encoding = 'unicode'; Bytes = [byte[]](0xE9, 0x00, 0x41, 0x00) }
            @{ Encoding = 'latin1'; Bytes = [byte[]](0xE9, 0x41) }
            @{ Encoding = 'bigendianunicode'; Bytes = [byte[]](0x00, 0xE9, 0x00, 0x41) }
            @{ Encoding = 28591; Bytes = [byte[]](0xE9, 0x41) }
        ) {
            Send-Bytes $client $Bytes
            $peer | Receive-SocketData -Encoding $Encoding -TimeoutSec 5 | Should -BeExactly 'éA'
        }

        It 'leaves data that arrives later for the next call' {
            'first' | Send-SocketData -Socket $client
            $peer | Receive-SocketData -TimeoutSec 5 | Should -BeExactly 'first'
            'second' | Send-SocketData -Socket $client
            $peer | Receive-SocketData -TimeoutSec 5 | Should -BeExactly 'second'
        }

        It 'returns -Count receives, each as it arrives' {
            $job = Start-SecondPowerShell -ArgumentList $peer { param($s) $s | Receive-SocketData -Count 2 -TimeoutSec 10 -ErrorAction Stop }
            'first' | Send-SocketData -Socket $client
            # The second piece is sent only once the first has been received, so they are two receives.
            Wait-Until -TimeoutSec 10 { $peer.BytesReceived -ge 5 }
            'second' | Send-SocketData -Socket $client
            $out = @(Wait-SecondPowerShell $job -TimeoutSec 20)
            $job.PowerShell.Streams.Error | Should -BeNullOrEmpty
            $out | Should -Be 'first', 'second'
        }

        It 'receives by -Id' {
            'by id' | Send-SocketData -Socket $client
            Receive-SocketData -Id $peer.Id -TimeoutSec 5 | Should -BeExactly 'by id'
        }

        It 'takes -Socket by position' {
            'positional' | Send-SocketData -Socket $client
            Receive-SocketData $peer -TimeoutSec 5 | Should -BeExactly 'positional'
        }

        It 'takes Socket from the pipeline by property name' {
            'by property' | Send-SocketData -Socket $client
            [pscustomobject]@{ Socket = $peer } | Receive-SocketData -TimeoutSec 5 | Should -BeExactly 'by property'
        }

        It 'takes Id from the pipeline by property name' {
            'by id property' | Send-SocketData -Socket $client
            [pscustomobject]@{ Id = $peer.Id } | Receive-SocketData -TimeoutSec 5 | Should -BeExactly 'by id property'
        }

        It 'reports SocketNotFound for an -Id that names no open socket' {
            $gone = New-Socket
            $id = $gone.Id
            $gone | Close-Socket
            { Receive-SocketData -Id $id -TimeoutSec 1 -ErrorAction Stop } | Should -Throw -ErrorId 'SocketNotFound,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }

        It 'ends its output without an error at end of stream' {
            $client | Close-Socket
            $out = @($peer | Receive-SocketData -TimeoutSec 5 -ErrorVariable receiveErrors)
            $out | Should -HaveCount 0
            @($receiveErrors) | Should -HaveCount 0
            $peer.EndOfStream | Should -BeTrue
        }
    }

    Context '-AsByteStream and -ByteCount' {
        It 'returns one byte[] with -AsByteStream' {
            Send-Bytes $client ([byte[]](0, 1, 2, 0xFF))
            $out = @($peer | Receive-SocketData -AsByteStream -TimeoutSec 5)
            $out.Count | Should -Be 1
            $out[0].GetType() | Should -Be ([byte[]])
            ConvertTo-Hex $out[0] | Should -Be '00 01 02 FF'
        }

        It 'returns exactly -ByteCount bytes and leaves the rest' {
            'abcdef' | Send-SocketData -Socket $client
            $peer | Receive-SocketData -ByteCount 4 -TimeoutSec 5 | Should -BeExactly 'abcd'
            $peer | Receive-SocketData -ByteCount 2 -TimeoutSec 5 | Should -BeExactly 'ef'
        }

        It 'waits for all -ByteCount bytes across several sends' {
            $job = Start-SecondPowerShell -ArgumentList $peer { param($s) $s | Receive-SocketData -ByteCount 6 -AsByteStream -TimeoutSec 10 -ErrorAction Stop }
            Send-Bytes $client ([byte[]](1, 2, 3))
            Wait-Until -TimeoutSec 10 { $peer.BytesReceived -ge 3 }
            Send-Bytes $client ([byte[]](4, 5, 6))
            $out = @(Wait-SecondPowerShell $job -TimeoutSec 20)
            $out.Count | Should -Be 1
            ConvertTo-Hex $out[0] | Should -Be '01 02 03 04 05 06'
        }

        It 'returns fewer bytes than -ByteCount, with a warning, when the peer closes first' {
            'abc' | Send-SocketData -Socket $client
            $client | Close-Socket -Direction Send
            $out = $peer | Receive-SocketData -ByteCount 10 -AsByteStream -TimeoutSec 5 -WarningVariable warnings -WarningAction SilentlyContinue
            ConvertTo-Hex $out | Should -Be '61 62 63'
            @($warnings).Count | Should -Be 1
            "$($warnings[0])" | Should -Match '3 of 10 bytes'
        }

        It 'rejects -ByteCount 0' {
            { $peer | Receive-SocketData -ByteCount 0 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }

        It 'rejects -ByteCount with -Line as ConflictingParameters' {
            { $peer | Receive-SocketData -ByteCount 4 -Line -ErrorAction Stop } | Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }
    }

    Context 'Records: -Line and -Delimiter' {
        It 'returns one line without its terminator, for both "`n" and "`r`n"' {
            "one`r`ntwo`nthree`n" | Send-SocketData -Socket $client
            $lines = @($peer | Receive-SocketData -Line -Count 3 -TimeoutSec 5)
            $lines | Should -BeExactly 'one', 'two', 'three'
        }

        It 'returns one line by default and keeps the rest' {
            "one`ntwo`n" | Send-SocketData -Socket $client
            @($peer | Receive-SocketData -Line -TimeoutSec 5) | Should -BeExactly @('one')
            @($peer | Receive-SocketData -Line -TimeoutSec 5) | Should -BeExactly @('two')
        }

        It 'returns an empty string for an empty line' {
            "`n`r`nx`n" | Send-SocketData -Socket $client
            $lines = @($peer | Receive-SocketData -Line -Count 3 -TimeoutSec 5)
            $lines.Count | Should -Be 3
            $lines | Should -BeExactly '', '', 'x'
        }

        It 'waits for the end of a line that arrives in pieces' {
            $job = Start-SecondPowerShell -ArgumentList $peer { param($s) $s | Receive-SocketData -Line -TimeoutSec 10 -ErrorAction Stop }
            'hel' | Send-SocketData -Socket $client
            Wait-Until -TimeoutSec 10 { $peer.BytesReceived -ge 3 }
            "lo`r`n" | Send-SocketData -Socket $client
            @(Wait-SecondPowerShell $job -TimeoutSec 20) | Should -BeExactly @('hello')
        }

        It 'splits records at -Delimiter' {
            'a;b;c;' | Send-SocketData -Socket $client
            @($peer | Receive-SocketData -Delimiter ';' -Count 3 -TimeoutSec 5) | Should -BeExactly 'a', 'b', 'c'
        }

        It 'splits records at a multi-character -Delimiter' {
            'alpha||beta||' | Send-SocketData -Socket $client
            @($peer | Receive-SocketData -Delimiter '||' -Count 2 -TimeoutSec 5) | Should -BeExactly 'alpha', 'beta'
        }

        It 'returns records as byte arrays with -AsByteStream' {
            'ab;cd;' | Send-SocketData -Socket $client
            $records = @($peer | Receive-SocketData -Delimiter ';' -Count 2 -AsByteStream -TimeoutSec 5)
            $records.Count | Should -Be 2
            ConvertTo-Hex $records[0] | Should -Be '61 62'
            ConvertTo-Hex $records[1] | Should -Be '63 64'
        }

        It 'returns the last record without a terminator at end of stream' {
            "one`ntwo" | Send-SocketData -Socket $client
            $client | Close-Socket -Direction Send
            @($peer | Receive-SocketData -Line -ToEnd -TimeoutSec 5) | Should -BeExactly 'one', 'two'
        }

        It 'decodes records with -Encoding' {
            Send-Bytes $client ([byte[]](0xE9, 0x00, 0x0A, 0x00, 0x41, 0x00, 0x0A, 0x00))
            @($peer | Receive-SocketData -Line -Count 2 -Encoding unicode -TimeoutSec 5) | Should -BeExactly 'é', 'A'
        }

        It 'rejects -Line with -Delimiter as ConflictingParameters' {
            { $peer | Receive-SocketData -Line -Delimiter ';' -ErrorAction Stop } | Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }

        It 'rejects an empty -Delimiter' {
            { $peer | Receive-SocketData -Delimiter '' -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }

        It 'leaves what follows a line for the next receive' {
            "one`ntwo" | Send-SocketData -Socket $client
            $peer | Receive-SocketData -Line -TimeoutSec 5 | Should -BeExactly 'one'
            $peer | Receive-SocketData -TimeoutSec 5 | Should -BeExactly 'two'
        }

        It 'finds a -Delimiter split across two sends' {
            $job = Start-SecondPowerShell -ArgumentList $peer { param($s) $s | Receive-SocketData -Delimiter '||' -Count 2 -TimeoutSec 10 -ErrorAction Stop }
            'alpha|' | Send-SocketData -Socket $client
            Wait-Until -TimeoutSec 10 { $peer.BytesReceived -ge 6 }
            Start-Sleep -Milliseconds 100
            '|beta||' | Send-SocketData -Socket $client
            @(Wait-SecondPowerShell $job -TimeoutSec 20) | Should -BeExactly 'alpha', 'beta'
        }

        It 'finds a "`r`n" split across two sends with -Line' {
            $job = Start-SecondPowerShell -ArgumentList $peer { param($s) $s | Receive-SocketData -Line -Count 2 -TimeoutSec 10 -ErrorAction Stop }
            "one`r" | Send-SocketData -Socket $client
            Wait-Until -TimeoutSec 10 { $peer.BytesReceived -ge 4 }
            Start-Sleep -Milliseconds 100
            "`ntwo`n" | Send-SocketData -Socket $client
            @(Wait-SecondPowerShell $job -TimeoutSec 20) | Should -BeExactly 'one', 'two'
        }

        It 'does not take the bytes of two UTF-16 characters for a line end with -Line -Encoding unicode' {
            # U+0A05 U+0100 is 05 0A 00 01 in UTF-16LE: its middle bytes look like "`n" (0A 00) but are no character.
            $line = [string]::new([char[]](0x0A05, 0x0100))
            "$line`n" | Send-SocketData -Socket $client -Encoding unicode
            $received = $peer | Receive-SocketData -Line -Encoding unicode -TimeoutSec 5
            ([int[]][char[]]"$received") | Should -Be 0x0A05, 0x0100
        }

        It 'reports RecordTooLong past -MaxRecordLength, and the data stays readable with -ByteCount' {
            'abcdefghij' | Send-SocketData -Socket $client
            $err = { $peer | Receive-SocketData -Line -MaxRecordLength 4 -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'RecordTooLong,SocketCmdlets.Commands.ReceiveSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'LimitsExceeded'
            $err.ToString() | Should -Match 'MaxRecordLength'
            $peer | Receive-SocketData -ByteCount 10 -TimeoutSec 5 | Should -BeExactly 'abcdefghij'
        }

        It 'reports RecordTooLong for a terminated record past -MaxRecordLength, and keeps it' {
            "abcdefghij`nnext`n" | Send-SocketData -Socket $client
            { $peer | Receive-SocketData -Line -MaxRecordLength 4 -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'RecordTooLong,SocketCmdlets.Commands.ReceiveSocketDataCommand'
            $peer | Receive-SocketData -ByteCount 11 -TimeoutSec 5 | Should -BeExactly "abcdefghij`n"
            $peer | Receive-SocketData -Line -MaxRecordLength 4 -TimeoutSec 5 | Should -BeExactly 'next'
        }

        It 'rejects -MaxRecordLength 0' {
            { $peer | Receive-SocketData -Line -MaxRecordLength 0 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }
    }

    Context '-ToEnd' {
        It 'receives everything until the sender half-closes' {
            'one', 'two', 'three' | Send-SocketData -Socket $client -AppendNewLine
            $client | Close-Socket -Direction Send
            (@($peer | Receive-SocketData -ToEnd -TimeoutSec 5) -join '') | Should -BeExactly "one`ntwo`nthree`n"
            $peer.EndOfStream | Should -BeTrue
        }

        It 'returns lines until the sender half-closes with -Line' {
            'one', 'two', 'three' | Send-SocketData -Socket $client -AppendNewLine -NewLine "`r`n"
            $client | Close-Socket -Direction Send
            @($peer | Receive-SocketData -Line -ToEnd -TimeoutSec 5) | Should -BeExactly 'one', 'two', 'three'
        }

        It 'streams each record as it arrives' {
            # The client waits for each echo before it sends the next line, so the receiver must emit line by line.
            $job = Start-SecondPowerShell -ArgumentList $client {
                param($s)
                foreach ($word in 'ping', 'pong', 'done') {
                    $word | Send-SocketData -Socket $s -AppendNewLine -ErrorAction Stop
                    $s | Receive-SocketData -Line -TimeoutSec 10 -ErrorAction Stop
                }
                $s | Close-Socket -Direction Send
            }
            $seen = @($peer | Receive-SocketData -Line -ToEnd -TimeoutSec 10 | ForEach-Object {
                    "echo $_" | Send-SocketData -Socket $peer -AppendNewLine
                    $_
                })
            $echoes = @(Wait-SecondPowerShell $job -TimeoutSec 30)
            $job.PowerShell.Streams.Error | Should -BeNullOrEmpty
            $seen | Should -BeExactly 'ping', 'pong', 'done'
            $echoes | Should -BeExactly 'echo ping', 'echo pong', 'echo done'
        }

        It 'returns nothing and no error when the stream has already ended' {
            $client | Close-Socket -Direction Send
            @($peer | Receive-SocketData -ToEnd -TimeoutSec 5 -ErrorVariable receiveErrors) | Should -HaveCount 0
            @($receiveErrors) | Should -HaveCount 0
        }

        It 'rejects -ToEnd with -Count as ConflictingParameters' {
            { $peer | Receive-SocketData -ToEnd -Count 2 -ErrorAction Stop } | Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }
    }

    Context 'Characters split across receives' {
        It 'decodes a 2-byte UTF-8 character split across two sends with -ToEnd' {
            $job = Start-SecondPowerShell -ArgumentList $peer { param($s) $s | Receive-SocketData -ToEnd -TimeoutSec 10 -ErrorAction Stop }
            Send-Bytes $client ([byte[]](0x61, 0xC3))
            Wait-Until -TimeoutSec 10 { $peer.BytesReceived -ge 2 }
            Start-Sleep -Milliseconds 100
            Send-Bytes $client ([byte[]](0xA9, 0x62))
            $client | Close-Socket -Direction Send
            $out = @(Wait-SecondPowerShell $job -TimeoutSec 20)
            $job.PowerShell.Streams.Error | Should -BeNullOrEmpty
            ($out -join '') | Should -BeExactly 'aéb'
            ($out -join '') | Should -Not -Match ([char] 0xFFFD)
        }

        It 'decodes a 2-byte UTF-8 character split across two sends with -Count 2' {
            $job = Start-SecondPowerShell -ArgumentList $peer { param($s) $s | Receive-SocketData -Count 2 -TimeoutSec 10 -ErrorAction Stop }
            Send-Bytes $client ([byte[]](0x61, 0xC3))
            Wait-Until -TimeoutSec 10 { $peer.BytesReceived -ge 2 }
            Start-Sleep -Milliseconds 100
            Send-Bytes $client ([byte[]](0xA9, 0x62))
            $out = @(Wait-SecondPowerShell $job -TimeoutSec 20)
            $job.PowerShell.Streams.Error | Should -BeNullOrEmpty
            ($out -join '') | Should -BeExactly 'aéb'
            ($out -join '') | Should -Not -Match ([char] 0xFFFD)
        }

        It 'decodes a 4-byte UTF-8 character split 1 + 3 with -ToEnd' {
            $job = Start-SecondPowerShell -ArgumentList $peer { param($s) $s | Receive-SocketData -ToEnd -TimeoutSec 10 -ErrorAction Stop }
            $emoji = $Utf8.GetBytes([char]::ConvertFromUtf32(0x1F600))
            Send-Bytes $client $emoji[0..0]
            Wait-Until -TimeoutSec 10 { $peer.BytesReceived -ge 1 }
            Start-Sleep -Milliseconds 100
            Send-Bytes $client $emoji[1..3]
            $client | Close-Socket -Direction Send
            $out = @(Wait-SecondPowerShell $job -TimeoutSec 20)
            ($out -join '') | Should -BeExactly ([char]::ConvertFromUtf32(0x1F600))
        }

        It 'decodes a UTF-16 character split across two sends with -Encoding unicode' {
            $job = Start-SecondPowerShell -ArgumentList $peer { param($s) $s | Receive-SocketData -ToEnd -Encoding unicode -TimeoutSec 10 -ErrorAction Stop }
            Send-Bytes $client ([byte[]](0x41, 0x00, 0xE9))
            Wait-Until -TimeoutSec 10 { $peer.BytesReceived -ge 3 }
            Start-Sleep -Milliseconds 100
            Send-Bytes $client ([byte[]](0x00))
            $client | Close-Socket -Direction Send
            $out = @(Wait-SecondPowerShell $job -TimeoutSec 20)
            ($out -join '') | Should -BeExactly 'Aé'
        }
    }

    Context 'Bytes that can never become a character' {
        It 'returns a lone trailing 0xFF at once, as a replacement character, instead of holding it back' {
            Send-Bytes $client ([byte[]](0x41, 0xFF))
            Wait-Until -TimeoutSec 10 { $peer.Socket.Available -ge 2 }
            $text = $peer | Receive-SocketData -TimeoutSec 5 -ErrorAction Stop
            $text | Should -BeExactly "A$([char] 0xFFFD)"
            $peer.Socket.Available | Should -Be 0
        }

        It 'returns a lone 0xFF on its own (Wait-Socket says readable, so the receive must have it)' {
            Send-Bytes $client ([byte[]](0xFF))
            @(Wait-Socket -Socket $peer -Read -TimeoutSec 5) | Should -HaveCount 1
            $peer | Receive-SocketData -TimeoutSec 5 -ErrorAction Stop | Should -BeExactly ([string] [char] 0xFFFD)
        }

        It 'returns a lead byte followed by one it cannot take (E0 80) at once' {
            Send-Bytes $client ([byte[]](0x41, 0xE0, 0x80))
            Wait-Until -TimeoutSec 10 { $peer.Socket.Available -ge 3 }
            $text = $peer | Receive-SocketData -TimeoutSec 5 -ErrorAction Stop
            $text | Should -Match '^A\uFFFD+$'
        }

        It 'still holds back the start of a valid character (E2 82) until the rest comes' {
            Send-Bytes $client ([byte[]](0x41, 0xE2, 0x82))
            Wait-Until -TimeoutSec 10 { $peer.Socket.Available -ge 3 }
            $peer | Receive-SocketData -TimeoutSec 5 -ErrorAction Stop | Should -BeExactly 'A'
            Send-Bytes $client ([byte[]](0xAC))
            $peer | Receive-SocketData -TimeoutSec 5 -ErrorAction Stop | Should -BeExactly '€'
        }
    }

    Context 'A delimiter the encoding cannot carry' {
        It "refuses -Delimiter '€' -Encoding ascii with DelimiterNotEncodable, before any socket call" {
            # Created, not connected: a check made after the socket call would report InvalidSocketState.
            $s = New-Socket
            $err = { $s | Receive-SocketData -Delimiter '€' -Encoding ascii -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'DelimiterNotEncodable,SocketCmdlets.Commands.ReceiveSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.ToString() | Should -Match "would become '\?'"
        }

        It 'leaves the data for the next call when it refuses' {
            'a?b?' | Send-SocketData -Socket $client
            { $peer | Receive-SocketData -Delimiter '€' -Encoding ascii -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'DelimiterNotEncodable,SocketCmdlets.Commands.ReceiveSocketDataCommand'
            @($peer | Receive-SocketData -Delimiter '?' -Encoding ascii -Count 2 -TimeoutSec 5) | Should -BeExactly 'a', 'b'
        }

        It "splits at '€' with the default UTF-8 and with -Encoding unicode" {
            'x€y€' | Send-SocketData -Socket $client
            @($peer | Receive-SocketData -Delimiter '€' -Count 2 -TimeoutSec 5) | Should -BeExactly 'x', 'y'
            'p€q€' | Send-SocketData -Socket $client -Encoding unicode
            @($peer | Receive-SocketData -Delimiter '€' -Encoding unicode -Count 2 -TimeoutSec 5) | Should -BeExactly 'p', 'q'
        }
    }

    Context '-OutFile' {
        It 'writes what arrives until end of stream to the file, byte for byte' {
            $bytes = New-RandomBytes 300000
            $out = Join-Path $TestDrive 'received.bin'
            $job = Start-SecondPowerShell -ArgumentList $client, $bytes {
                param($s, $data)
                Send-SocketData -Socket $s -Data $data -TimeoutSec 10 -ErrorAction Stop
                $s | Close-Socket -Direction Send
            }
            $peer | Receive-SocketData -OutFile $out -TimeoutSec 10 | Should -BeNullOrEmpty
            $null = Wait-SecondPowerShell $job -TimeoutSec 20
            (Get-FileHash -LiteralPath $out -Algorithm SHA256).Hash | Should -Be (Get-Sha256 $bytes)
        }

        It 'takes a PowerShell path (TestDrive:)' {
            'drive' | Send-SocketData -Socket $client
            $client | Close-Socket -Direction Send
            $peer | Receive-SocketData -OutFile 'TestDrive:/drive.txt' -TimeoutSec 5
            Get-Content -LiteralPath (Join-Path $TestDrive 'drive.txt') -Raw | Should -BeExactly 'drive'
        }

        It 'writes exactly -ByteCount bytes and leaves the rest' {
            'abcdef' | Send-SocketData -Socket $client
            $out = Join-Path $TestDrive 'four.bin'
            $peer | Receive-SocketData -OutFile $out -ByteCount 4 -TimeoutSec 5
            [System.IO.File]::ReadAllText($out) | Should -BeExactly 'abcd'
            $peer | Receive-SocketData -ByteCount 2 -TimeoutSec 5 | Should -BeExactly 'ef'
        }

        It 'reports FileNotFound for a folder that does not exist, before receiving' {
            'kept' | Send-SocketData -Socket $client
            $out = Join-Path $TestDrive 'no-such-folder/file.bin'
            { $peer | Receive-SocketData -OutFile $out -TimeoutSec 5 -ErrorAction Stop } | Should -Throw -ErrorId 'FileNotFound,SocketCmdlets.Commands.ReceiveSocketDataCommand'
            $peer | Receive-SocketData -TimeoutSec 5 | Should -BeExactly 'kept'
        }

        It 'rejects -OutFile with -Line as ConflictingParameters' {
            { $peer | Receive-SocketData -OutFile (Join-Path $TestDrive 'x.bin') -Line -ErrorAction Stop } | Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }
    }

    Context 'Timeouts and Ctrl+C' {
        It 'reports ReceiveTimeout when nothing arrives within -TimeoutSec' {
            $err = { $peer | Receive-SocketData -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err.TargetObject.Id | Should -Be $peer.Id
        }

        It 'reports ReceiveTimeout for a line that does not end within -TimeoutSec' {
            'no end' | Send-SocketData -Socket $client
            { $peer | Receive-SocketData -Line -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }

        It 'ends a blocked receive (<Mode>) on Ctrl+C with no error, and the socket stays usable' -ForEach @(
            @{ Mode = 'default' }
            @{ Mode = 'Line' }
            @{ Mode = 'ToEnd' }
            @{ Mode = 'ByteCount' }
        ) {
            $job = Start-SecondPowerShell -ArgumentList $peer, $Mode {
                param($s, $mode)
                $extra = @{}
                switch ($mode) {
                    'Line' { $extra.Line = $true }
                    'ToEnd' { $extra.ToEnd = $true }
                    'ByteCount' { $extra.ByteCount = 10 }
                }
                $s | Receive-SocketData -Verbose @extra
            }
            Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
            $job.PowerShell.Streams.Verbose[0].Message | Should -Match 'Waiting for data'
            $job.PowerShell.BeginStop($null, $null).AsyncWaitHandle.WaitOne(10000) | Should -BeTrue
            $job.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            Get-StopError $job | Should -BeNullOrEmpty
            Get-ErrorVariable $job | Should -BeNullOrEmpty
            'after' | Send-SocketData -Socket $client
            $peer | Receive-SocketData -TimeoutSec 5 | Should -BeExactly 'after'
        }

        It 'rejects a negative -TimeoutSec' {
            { $peer | Receive-SocketData -TimeoutSec -1 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }

        It 'rejects -Count -1' {
            { $peer | Receive-SocketData -Count -1 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }
    }

    Context 'Connection reset and IPv6' {
        It 'reports ConnectionReset when the peer resets the connection' {
            # Linger 0 makes close() send a reset instead of an orderly end of stream.
            $client.Socket.LingerState = [System.Net.Sockets.LingerOption]::new($true, 0)
            $client | Close-Socket
            $err = { $peer | Receive-SocketData -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionReset,SocketCmdlets.Commands.ReceiveSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ConnectionError'
            $err.TargetObject.Id | Should -Be $peer.Id
        }

        It 'exchanges data over IPv6 on ::1' {
            $v6 = New-ConnectedPair -Address ::1
            $v6.Client.RemoteEndPoint.Address.ToString() | Should -Be '::1'
            $v6.Peer.RemoteEndPoint.Address.ToString() | Should -Be '::1'
            'over IPv6' | Send-SocketData -Socket $v6.Client -AppendNewLine
            $v6.Peer | Receive-SocketData -Line -TimeoutSec 5 | Should -BeExactly 'over IPv6'
            'reply' | Send-SocketData -Socket $v6.Peer
            $v6.Peer | Close-Socket -Direction Send
            (@($v6.Client | Receive-SocketData -ToEnd -TimeoutSec 5) -join '') | Should -BeExactly 'reply'
        }
    }

    Context 'Wrong state' {
        It 'reports InvalidSocketState, naming the state, when receiving before connecting' {
            $s = New-Socket
            $err = { $s | Receive-SocketData -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ReceiveSocketDataCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $err.TargetObject.Id | Should -Be $s.Id
            $err.ToString() | Should -Match '\bCreated\b'
        }

        It 'names the cmdlets that make a connected socket when receiving before connecting' {
            $s = New-Socket
            $err = { $s | Receive-SocketData -TimeoutSec 1 -ErrorAction Stop } | Should -Throw -PassThru
            $err.ToString() | Should -BeLike '*receiving needs a connected socket (Connect-Socket or Receive-SocketConnection).'
        }

        It 'reports InvalidSocketState, naming the state, when receiving on a listener' {
            $err = { $pair.Server | Receive-SocketData -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ReceiveSocketDataCommand' -PassThru
            $err.ToString() | Should -Match '\bListening\b'
        }

        It 'reports InvalidSocketState, naming the state, when receiving after close' {
            $peer | Close-Socket
            $err = { $peer | Receive-SocketData -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ReceiveSocketDataCommand' -PassThru
            $err.ToString() | Should -Match '\bClosed\b'
        }
    }

    It 'says on the verbose stream that it waits and how many bytes it received' {
        'hello' | Send-SocketData -Socket $client
        $records = @($peer | Receive-SocketData -TimeoutSec 5 -Verbose 4>&1)
        $verbose = @($records | Get-VerboseMessage)
        $from = "127.0.0.1:$($client.LocalEndPoint.Port) (socket $($peer.Id))"
        $verbose[0] | Should -BeLike "Waiting for data from $from*"
        $verbose[-1] | Should -BeLike "Received 5 bytes from $from*"
    }

    It 'says on the verbose stream when the peer has closed its side' {
        'bye' | Send-SocketData -Socket $client
        $client | Close-Socket -Direction Send
        $verbose = @($peer | Receive-SocketData -ToEnd -TimeoutSec 5 -Verbose 4>&1 | Get-VerboseMessage)
        $verbose[-1] | Should -Match 'Received 3 bytes.*end of stream'
    }
}

BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    $CommandName = 'SocketCmdlets.Commands.InvokeSocketRequestCommand'

    function Start-Server {
        <#
        .SYNOPSIS
            Serves the accepted peer of a pair from a second PowerShell, concurrently with the client call. The script
            block gets the peer socket; it should end when the client half-closes (every receive is bounded).
        #>
        param([Parameter(Mandatory)] $Peer, [Parameter(Mandatory)] [scriptblock] $ScriptBlock)
        Start-SecondPowerShell -ArgumentList $Peer $ScriptBlock
    }

    # Answers each line with the line in upper case, until the client half-closes.
    $UpperLineServer = {
        param($s)
        $s | Receive-SocketData -Line -ToEnd -TimeoutSec 20 -ErrorAction Stop |
            ForEach-Object { $_.ToUpperInvariant() } |
            Send-SocketData -Socket $s -AppendNewLine -Unbuffered -ErrorAction Stop
        $s | Close-Socket -Direction Send
    }

    # Returns every chunk it receives as it is, until the client half-closes.
    $EchoServer = {
        param($s)
        $s | Receive-SocketData -AsByteStream -ToEnd -TimeoutSec 20 -ErrorAction Stop |
            Send-SocketData -Socket $s -Unbuffered -ErrorAction Stop
        $s | Close-Socket -Direction Send
    }

    function Stop-Conversation {
        # Half-closes the client, waits (bounded) for the server to end and checks that it had no error.
        param($Client, $Job)
        $Client | Close-Socket -Direction Send
        $null = Wait-SecondPowerShell $Job -TimeoutSec 20
        @($Job.PowerShell.Streams.Error) | Should -BeNullOrEmpty -Because 'the server ends cleanly when the client half-closes'
    }

    function Get-ReceivedText {
        # Half-closes the client and returns everything the (unanswering) peer received, as text.
        param($Pair)
        $Pair.Client | Close-Socket -Direction Send
        [System.Text.Encoding]::UTF8.GetString((Receive-AllBytes $Pair.Peer -TimeoutSec 5))
    }
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Invoke-SocketRequest' -Tag 'InvokeSocketRequest' {
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

    Context 'Line replies' {
        It 'writes the reply to each line, in request order, with -AppendNewLine -Line' {
            $job = Start-Server $peer $UpperLineServer
            $replies = @('alpha', 'beta', 'gamma', 'delta' | Invoke-SocketRequest -Socket $client -AppendNewLine -Line -TimeoutSec 10)
            Stop-Conversation $client $job
            $replies | Should -BeExactly 'ALPHA', 'BETA', 'GAMMA', 'DELTA'
            $replies[0] | Should -BeOfType ([string])
            $client.BytesSent | Should -Be ('alpha', 'beta', 'gamma', 'delta' | ForEach-Object { $_.Length + 1 } | Measure-Object -Sum).Sum
        }

        It 'sends -NewLine "`r`n" after each request and removes "`r`n" from each reply' {
            # The server splits at "`n" only, so a "`r" in a request stays visible (as <CR>) in its reply.
            $job = Start-Server $peer {
                param($s)
                $s | Receive-SocketData -Delimiter "`n" -ToEnd -TimeoutSec 20 -ErrorAction Stop |
                    ForEach-Object { ($_ -replace "`r", '<CR>').ToUpperInvariant() } |
                    Send-SocketData -Socket $s -AppendNewLine -NewLine "`r`n" -Unbuffered -ErrorAction Stop
                $s | Close-Socket -Direction Send
            }
            $replies = @('ehlo', 'quit' | Invoke-SocketRequest -Socket $client -AppendNewLine -NewLine "`r`n" -Line -TimeoutSec 10)
            Stop-Conversation $client $job
            $replies | Should -BeExactly 'EHLO<CR>', 'QUIT<CR>'
            foreach ($reply in $replies) { $reply | Should -Not -Match "[`r`n]" }
        }

        It 'reads -Count 2 lines per request with -Line' {
            $job = Start-Server $peer {
                param($s)
                $s | Receive-SocketData -Line -ToEnd -TimeoutSec 20 -ErrorAction Stop |
                    ForEach-Object { "+OK $_"; "length $($_.Length)" } |
                    Send-SocketData -Socket $s -AppendNewLine -NewLine "`r`n" -Unbuffered -ErrorAction Stop
                $s | Close-Socket -Direction Send
            }
            $replies = @('PING', 'HELLO' | Invoke-SocketRequest -Socket $client -AppendNewLine -NewLine "`r`n" -Line -Count 2 -TimeoutSec 10)
            Stop-Conversation $client $job
            $replies | Should -BeExactly '+OK PING', 'length 4', '+OK HELLO', 'length 5'
        }

        It 'reads records ended by -Delimiter' {
            $job = Start-Server $peer {
                param($s)
                $s | Receive-SocketData -Delimiter ';' -ToEnd -TimeoutSec 20 -ErrorAction Stop |
                    ForEach-Object { "<$_>;" } |
                    Send-SocketData -Socket $s -Unbuffered -ErrorAction Stop
                $s | Close-Socket -Direction Send
            }
            $replies = @('abc;', 'de;', ';' | Invoke-SocketRequest -Socket $client -Delimiter ';' -TimeoutSec 10)
            Stop-Conversation $client $job
            $replies | Should -BeExactly '<abc>', '<de>', '<>'
        }

        It 'encodes requests and decodes replies with -Encoding' {
            $job = Start-Server $peer {
                param($s)
                $s | Receive-SocketData -Line -ToEnd -Encoding latin1 -TimeoutSec 20 -ErrorAction Stop |
                    ForEach-Object { $_.ToUpperInvariant() } |
                    Send-SocketData -Socket $s -AppendNewLine -Encoding latin1 -Unbuffered -ErrorAction Stop
                $s | Close-Socket -Direction Send
            }
            $reply = 'café' | Invoke-SocketRequest -Socket $client -AppendNewLine -Line -Encoding latin1 -TimeoutSec 10
            Stop-Conversation $client $job
            $reply | Should -BeExactly 'CAFÉ'
            $client.BytesSent | Should -Be 5 -Because 'latin1 takes one byte per character, and "`n" one more'
        }
    }

    Context 'Binary replies' {
        It 'echoes 200 random 64-byte requests byte for byte with -ByteCount 64 -AsByteStream' {
            $job = Start-Server $peer $EchoServer
            $requests = [System.Collections.Generic.List[byte[]]]::new()
            $replies = @(1..200 | ForEach-Object {
                    $bytes = New-RandomBytes 64
                    $requests.Add($bytes)
                    , $bytes
                } | Invoke-SocketRequest -Socket $client -ByteCount 64 -AsByteStream -TimeoutSec 10)
            Stop-Conversation $client $job
            $replies.Count | Should -Be 200
            $client.BytesSent | Should -Be (200 * 64)
            $client.BytesReceived | Should -Be (200 * 64)
            for ($i = 0; $i -lt 200; $i++) {
                $replies[$i].GetType() | Should -Be ([byte[]])
                $replies[$i].Length | Should -Be 64
                [System.Convert]::ToHexString($replies[$i]) | Should -Be ([System.Convert]::ToHexString($requests[$i])) -Because "reply $i answers request $i"
            }
        }

        It 'writes a -ByteCount reply as a string without -AsByteStream' {
            $job = Start-Server $peer $EchoServer
            $replies = @('abcd', 'efgh' | Invoke-SocketRequest -Socket $client -ByteCount 4 -TimeoutSec 10)
            Stop-Conversation $client $job
            $replies | Should -BeExactly 'abcd', 'efgh'
            $replies[0] | Should -BeOfType ([string])
        }
    }

    Context 'No framing option' {
        It 'writes what one receive brings as the reply, as a string' {
            $job = Start-Server $peer $EchoServer
            $replies = @('hello', 'wide world' | Invoke-SocketRequest -Socket $client -TimeoutSec 10)
            Stop-Conversation $client $job
            $replies | Should -BeExactly 'hello', 'wide world'
            $replies[0] | Should -BeOfType ([string])
        }

        It 'writes what one receive brings as the reply, as bytes with -AsByteStream' {
            $job = Start-Server $peer $EchoServer
            # The array of two byte arrays is unrolled one level: each byte array is one request.
            $replies = @([byte[]](1, 2, 3), [byte[]](0xFF, 0x00) | Invoke-SocketRequest -Socket $client -AsByteStream -TimeoutSec 10)
            Stop-Conversation $client $job
            $replies.Count | Should -Be 2
            $replies[0].GetType() | Should -Be ([byte[]])
            ConvertTo-Hex $replies[0] | Should -Be '01 02 03'
            ConvertTo-Hex $replies[1] | Should -Be 'FF 00'
        }
    }

    Context 'What is sent' {
        It 'sends a byte[] request as it is, without -NewLine' {
            $job = Start-Server $peer $EchoServer
            $bytes = [byte[]](0x00, 0xFF, 0x0D, 0x0A, 0xC3)
            $reply = , $bytes | Invoke-SocketRequest -Socket $client -AppendNewLine -ByteCount 5 -AsByteStream -TimeoutSec 10
            Stop-Conversation $client $job
            ConvertTo-Hex $reply | Should -Be '00 FF 0D 0A C3'
            $client.BytesSent | Should -Be 5 -Because '-AppendNewLine adds a line ending to strings only'
        }

        It 'sends a non-string object as its string form' {
            $job = Start-Server $peer $UpperLineServer
            $replies = @(42, [guid]'6f1c8a3e-0000-4000-8000-00000000abcd' | Invoke-SocketRequest -Socket $client -AppendNewLine -Line -TimeoutSec 10)
            Stop-Conversation $client $job
            $replies | Should -BeExactly '42', '6F1C8A3E-0000-4000-8000-00000000ABCD'
            $client.BytesSent | Should -Be (3 + 37)
        }

        It 'sends the items of an array piped whole as one request' {
            $job = Start-Server $peer $UpperLineServer
            $records = @(, ('one', 'two') | Invoke-SocketRequest -Socket $client -AppendNewLine -Line -Count 2 -TimeoutSec 10 -Verbose 4>&1)
            Stop-Conversation $client $job
            @($records | Where-Object { $_ -is [string] }) | Should -BeExactly 'ONE', 'TWO'
            @($records | Get-VerboseMessage | Where-Object { $_ -match '^Request \d+:' }) | Should -HaveCount 1
        }
    }

    Context 'Parameter sets' {
        It 'converses on the socket named by -Id' {
            $job = Start-Server $peer $UpperLineServer
            $replies = @('by', 'id' | Invoke-SocketRequest -Id $client.Id -AppendNewLine -Line -TimeoutSec 10)
            Stop-Conversation $client $job
            $replies | Should -BeExactly 'BY', 'ID'
        }

        It 'takes -Socket and -Data by position' {
            $job = Start-Server $peer $UpperLineServer
            $reply = Invoke-SocketRequest $client 'positional' -AppendNewLine -Line -TimeoutSec 10
            Stop-Conversation $client $job
            $reply | Should -BeExactly 'POSITIONAL'
        }

        It 'reports SocketNotFound for an -Id that names no open socket, and sends nothing' {
            $gone = New-Socket
            $id = $gone.Id
            $gone | Close-Socket
            { 'x' | Invoke-SocketRequest -Id $id -AppendNewLine -Line -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId "SocketNotFound,$CommandName"
            $out = @('x', 'y' | Invoke-SocketRequest -Id $id -AppendNewLine -Line -TimeoutSec 1 -ErrorAction SilentlyContinue -ErrorVariable notFound)
            $out | Should -HaveCount 0
            @($notFound) | Should -HaveCount 1 -Because 'the id is reported once, not once per request'
            $notFound[0].FullyQualifiedErrorId | Should -Be "SocketNotFound,$CommandName"
            foreach ($s in Get-Socket) { $s.BytesSent | Should -Be 0 -Because "socket $($s.Id) must not have sent anything" }
        }

        It 'reports DataIsSocket for a socket piped as a request, and sends nothing for it' {
            $other = New-Socket
            $err = { $other | Invoke-SocketRequest -Socket $client -AppendNewLine -Line -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId "DataIsSocket,$CommandName" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $client.BytesSent | Should -Be 0
            $other.BytesSent | Should -Be 0
        }

        It 'skips a socket piped as a request with a non-terminating DataIsSocket and answers the other requests' {
            $other = New-Socket
            $job = Start-Server $peer $UpperLineServer
            $replies = @('a', $other, 'b' | Invoke-SocketRequest -Socket $client -AppendNewLine -Line -TimeoutSec 10 -ErrorAction SilentlyContinue -ErrorVariable requestErrors)
            Stop-Conversation $client $job
            $replies | Should -BeExactly 'A', 'B'
            @($requestErrors) | Should -HaveCount 1
            $requestErrors[0].FullyQualifiedErrorId | Should -Be "DataIsSocket,$CommandName"
        }

        It 'rejects <Label> as ConflictingParameters, before sending' -ForEach @(
            @{ Label = '-Line with -Delimiter'; Extra = @{ Line = $true; Delimiter = ';' } }
            @{ Label = '-ByteCount with -Line'; Extra = @{ ByteCount = 4; Line = $true } }
            @{ Label = '-ByteCount with -Delimiter'; Extra = @{ ByteCount = 4; Delimiter = ';' } }
            @{ Label = '-ByteCount with -Count'; Extra = @{ ByteCount = 4; Count = 2 } }
            @{ Label = '-Count without -Line or -Delimiter'; Extra = @{ Count = 2 } }
        ) {
            $err = { 'x' | Invoke-SocketRequest -Socket $client -TimeoutSec 1 @Extra -ErrorAction Stop } |
                Should -Throw -ErrorId "ConflictingParameters,$CommandName" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $client.BytesSent | Should -Be 0
        }

        It 'rejects a UDP socket as ConflictingParameters' {
            $udp = New-Socket -Protocol Udp
            $err = { 'x' | Invoke-SocketRequest -Socket $udp -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId "ConflictingParameters,$CommandName" -PassThru
            $err.ToString() | Should -Match 'UDP'
            $udp.BytesSent | Should -Be 0
        }

        It 'rejects -ByteCount 0 and -Count 0' {
            { 'x' | Invoke-SocketRequest -Socket $client -ByteCount 0 -ErrorAction Stop } | Should -Throw -ErrorId "ParameterArgumentValidationError,$CommandName"
            { 'x' | Invoke-SocketRequest -Socket $client -Line -Count 0 -ErrorAction Stop } | Should -Throw -ErrorId "ParameterArgumentValidationError,$CommandName"
            $client.BytesSent | Should -Be 0
        }
    }

    Context 'A failed exchange ends the call' {
        It 'reports NoReply when the server half-closes without replying, and sends no later request' {
            $peer | Close-Socket -Direction Send
            $err = { 'first', 'second', 'third' | Invoke-SocketRequest -Socket $client -AppendNewLine -Line -TimeoutSec 5 -ErrorAction SilentlyContinue } |
                Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'NoReply*'
            $err.FullyQualifiedErrorId | Should -Be "NoReply,$CommandName"
            $err.CategoryInfo.Category | Should -Be 'ReadError'
            $err.ToString() | Should -Match 'Request 1'
            Get-ReceivedText $pair | Should -BeExactly "first`n" -Because 'only the first request may reach the server'
        }

        It 'reports NoReply when the server closes without replying, and sends no later request' {
            $peer | Close-Socket
            $err = { 'QUIT', 'AGAIN' | Invoke-SocketRequest -Socket $client -AppendNewLine -Line -TimeoutSec 5 } |
                Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -Be "NoReply,$CommandName"
            $client.BytesSent | Should -Be 5 -Because 'only "QUIT`n" was sent'
        }

        It 'reports NoReply when the server closes after part of a -ByteCount reply, and writes no partial reply' {
            'abc' | Send-SocketData -Socket $peer
            $peer | Close-Socket -Direction Send
            $got = [System.Collections.Generic.List[object]]::new()
            $err = { 'q', 'r' | Invoke-SocketRequest -Socket $client -ByteCount 10 -TimeoutSec 5 | ForEach-Object { $got.Add($_) } } |
                Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -Be "NoReply,$CommandName"
            $err.ToString() | Should -Match '3 bytes'
            $got.Count | Should -Be 0
            Get-ReceivedText $pair | Should -BeExactly 'q'
        }

        It 'writes the lines that came, then reports NoReply, when the server closes during a -Count 2 reply' {
            "one`n" | Send-SocketData -Socket $peer
            $peer | Close-Socket -Direction Send
            $got = [System.Collections.Generic.List[object]]::new()
            $err = { 'q', 'r' | Invoke-SocketRequest -Socket $client -AppendNewLine -Line -Count 2 -TimeoutSec 5 | ForEach-Object { $got.Add($_) } } |
                Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -Be "NoReply,$CommandName"
            $got.Count | Should -Be 1
            $got[0] | Should -BeExactly 'one'
            Get-ReceivedText $pair | Should -BeExactly "q`n"
        }

        It 'reports NoReply for a last <Label> without its terminator, does not write it, and sends no later request' -ForEach @(
            @{ Label = 'line'; Framing = @{ Line = $true } }
            @{ Label = 'record'; Framing = @{ Delimiter = ';' } }
        ) {
            'partial' | Send-SocketData -Socket $peer
            $peer | Close-Socket -Direction Send
            $got = [System.Collections.Generic.List[object]]::new()
            $err = { 'q', 'r', 's' | Invoke-SocketRequest -Socket $client -AppendNewLine -TimeoutSec 3 @Framing | ForEach-Object { $got.Add($_) } } |
                Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -Be "NoReply,$CommandName"
            $err.ToString() | Should -Match 'Request 1:'
            $got.Count | Should -Be 0 -Because 'a record without its terminator is not a whole reply'
            Get-ReceivedText $pair | Should -BeExactly "q`n" -Because 'no request may follow a missing reply'
        }

        It 'reports ReceiveTimeout within a bounded time when the server never replies, and sends no later request' {
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $err = { 'first', 'second' | Invoke-SocketRequest -Socket $client -AppendNewLine -Line -TimeoutSec 1 -ErrorAction SilentlyContinue } |
                Should -Throw -PassThru
            $clock.Stop()
            $err.FullyQualifiedErrorId | Should -Be "ReceiveTimeout,$CommandName"
            $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
            $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.9
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
            Get-ReceivedText $pair | Should -BeExactly "first`n" -Because 'the second request must not be sent after a timeout'
        }

        It 'reports RecordTooLong for a reply line past -MaxRecordLength, and sends no later request' {
            "far too long a reply`n" | Send-SocketData -Socket $peer
            $err = { 'q', 'r' | Invoke-SocketRequest -Socket $client -AppendNewLine -Line -MaxRecordLength 4 -TimeoutSec 5 } |
                Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -Be "RecordTooLong,$CommandName"
            Get-ReceivedText $pair | Should -BeExactly "q`n"
        }

        It 'reports InvalidSocketState for a socket that is not connected' {
            $unconnected = New-Socket
            $err = { 'x' | Invoke-SocketRequest -Socket $unconnected -TimeoutSec 1 } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -Be "InvalidSocketState,$CommandName"
            $err.ToString() | Should -Match '\bCreated\b'
        }
    }

    Context 'Replies of several lines: -ReplyPattern and -ReplyUntil' {
        BeforeAll {
            # A scripted SMTP peer: EHLO gets three lines ("250-" twice, then "250 "), NOOP one, anything else "502 ".
            $SmtpServer = {
                param($s)
                $s | Receive-SocketData -Line -ToEnd -TimeoutSec 20 -ErrorAction Stop | ForEach-Object {
                    switch -Regex ($_) {
                        '^EHLO' { '250-localhost'; '250-SIZE 1000'; '250 HELP' }
                        '^NOOP' { '250 OK' }
                        default { '502 no' }
                    }
                } | Send-SocketData -Socket $s -AppendNewLine -NewLine "`r`n" -Unbuffered -ErrorAction Stop
                $s | Close-Socket -Direction Send
            }
            $RedisBulkDone = { param($lines) $lines[0] -notmatch '^\$\d' -or $lines.Count -eq 2 }
        }

        It 'pairs each SMTP reply of several lines with its request, as one string[] each, with -ReplyPattern' {
            $job = Start-Server $peer $SmtpServer
            $replies = @('EHLO me', 'NOOP', 'EHLO again', 'VRFY x' |
                    Invoke-SocketRequest -Socket $client -AppendNewLine -NewLine "`r`n" -ReplyPattern '^\d{3} ' -TimeoutSec 10)
            Stop-Conversation $client $job
            $replies.Count | Should -Be 4
            $replies[0].GetType() | Should -Be ([string[]])
            $replies[0] | Should -BeExactly '250-localhost', '250-SIZE 1000', '250 HELP'
            , $replies[1] | Should -BeExactly @('250 OK')
            $replies[2] | Should -BeExactly '250-localhost', '250-SIZE 1000', '250 HELP'
            , $replies[3] | Should -BeExactly @('502 no')
        }

        It 'reads Redis bulk strings (two lines) and simple replies (one) with -ReplyUntil' {
            # The replies are all there before the first request: only the framing keeps them apart.
            "+PONG`r`n`$5`r`nhello`r`n`$-1`r`n:7`r`n" | Send-SocketData -Socket $peer
            $replies = @('PING', 'GET a', 'GET b', 'INCR c' |
                    Invoke-SocketRequest -Socket $client -AppendNewLine -NewLine "`r`n" -ReplyUntil $RedisBulkDone -TimeoutSec 10)
            $replies.Count | Should -Be 4
            , $replies[0] | Should -BeExactly @('+PONG')
            $replies[1] | Should -BeExactly '$5', 'hello'
            , $replies[2] | Should -BeExactly @('$-1')
            , $replies[3] | Should -BeExactly @(':7')
            Get-ReceivedText $pair | Should -BeExactly "PING`r`nGET a`r`nGET b`r`nINCR c`r`n"
        }

        It 'gives -ReplyUntil the lines so far as $_ too' {
            "a`nb`nc`n" | Send-SocketData -Socket $peer
            $reply = 'x' | Invoke-SocketRequest -Socket $client -AppendNewLine -ReplyUntil { $_.Count -eq 3 } -TimeoutSec 10
            , $reply | Should -BeExactly @(, [string[]] ('a', 'b', 'c'))
        }

        It 'splits at -Delimiter instead of lines when it is given' {
            'one;two;END;' | Send-SocketData -Socket $peer
            $reply = 'q' | Invoke-SocketRequest -Socket $client -Delimiter ';' -ReplyPattern '^END$' -TimeoutSec 10
            $reply | Should -BeExactly 'one', 'two', 'END'
        }

        It 'ends the call with NoReply when the peer closes in the middle of a reply, and sends no later request' {
            "250-a`r`n250-b`r`n" | Send-SocketData -Socket $peer
            $peer | Close-Socket -Direction Send
            $err = { 'EHLO', 'NOOP' | Invoke-SocketRequest -Socket $client -AppendNewLine -ReplyPattern '^\d{3} ' -TimeoutSec 10 -ErrorAction Stop } |
                Should -Throw -ErrorId "NoReply,$CommandName" -PassThru
            $err.ToString() | Should -Match '2 whole line'
            Get-ReceivedText $pair | Should -BeExactly "EHLO`n"
        }

        It 'ends the call with ReplyTooLong after -MaxReplyLines lines, with the lines as its TargetObject' {
            "1`n2`n3`n4`n" | Send-SocketData -Socket $peer
            $err = { 'q', 'never' | Invoke-SocketRequest -Socket $client -AppendNewLine -ReplyPattern '^done$' -MaxReplyLines 3 -TimeoutSec 10 -ErrorAction Stop } |
                Should -Throw -ErrorId "ReplyTooLong,$CommandName" -PassThru
            $err.TargetObject | Should -BeExactly '1', '2', '3'
            Get-ReceivedText $pair | Should -BeExactly "q`n"
        }

        It 'ends the call with ReplyUntilFailed when the script block throws' {
            "a`n" | Send-SocketData -Socket $peer
            $err = { 'q' | Invoke-SocketRequest -Socket $client -AppendNewLine -ReplyUntil { throw 'broken' } -TimeoutSec 10 -ErrorAction Stop } |
                Should -Throw -ErrorId "ReplyUntilFailed,$CommandName" -PassThru
            $err.ToString() | Should -Match 'broken'
        }

        It 'ends the call with ReceiveTimeout when the rest of a reply does not come' {
            "250-a`r`n" | Send-SocketData -Socket $peer
            { 'EHLO' | Invoke-SocketRequest -Socket $client -AppendNewLine -ReplyPattern '^\d{3} ' -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId "ReceiveTimeout,$CommandName"
        }

        It 'stops without an error on Ctrl+C while it waits for the rest of a reply' {
            "250-a`r`n" | Send-SocketData -Socket $peer
            $job = Start-SecondPowerShell -ArgumentList $client {
                param($s)
                'EHLO' | Invoke-SocketRequest -Socket $s -AppendNewLine -ReplyPattern '^\d{3} ' -TimeoutSec 60
            }
            Wait-Until -TimeoutSec 10 -Because 'the request to arrive' { $peer.Socket.Available -ge 5 }
            Wait-Until -TimeoutSec 10 -Because 'the first line of the reply to be taken' { $client.BytesReceived -ge 7 }
            Stop-SecondPowerShell $job -TimeoutSec 10 | Should -BeTrue
            $job.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            Get-StopError $job | Should -BeNullOrEmpty
            Get-ErrorVariable $job | Should -BeNullOrEmpty
        }

        It 'reports with -Verbose how many lines a reply had' {
            "250-a`r`n250 b`r`n" | Send-SocketData -Socket $peer
            $records = @('EHLO' | Invoke-SocketRequest -Socket $client -AppendNewLine -ReplyPattern '^\d{3} ' -TimeoutSec 10 -Verbose 4>&1)
            @($records | Get-VerboseMessage) | Should -Contain 'Request 1: a reply of 2 line(s) is complete.'
        }

        It 'refuses <Case> before anything is sent' -ForEach @(
            @{ Case = '-ReplyPattern with -ReplyUntil'; Extra = @{ ReplyPattern = 'x'; ReplyUntil = { $true } }; Id = 'ConflictingParameters' }
            @{ Case = '-ReplyPattern with -Count'; Extra = @{ ReplyPattern = 'x'; Count = 2; Line = $true }; Id = 'ConflictingParameters' }
            @{ Case = '-ReplyUntil with -ByteCount'; Extra = @{ ReplyUntil = { $true }; ByteCount = 4 }; Id = 'ConflictingParameters' }
            @{ Case = '-ReplyPattern with -AsByteStream'; Extra = @{ ReplyPattern = 'x'; AsByteStream = $true }; Id = 'ConflictingParameters' }
            @{ Case = '-MaxReplyLines alone'; Extra = @{ MaxReplyLines = 5; Line = $true }; Id = 'ConflictingParameters' }
            @{ Case = 'a -ReplyPattern that is not a regular expression'; Extra = @{ ReplyPattern = '(' }; Id = 'InvalidReplyPattern' }
        ) {
            { 'q' | Invoke-SocketRequest -Socket $client @Extra -TimeoutSec 5 -ErrorAction Stop } | Should -Throw -ErrorId "$Id,$CommandName"
            $client.BytesSent | Should -Be 0
        }

        It 'declares string[] output' {
            @((Get-Command Invoke-SocketRequest).OutputType.Type) | Should -Contain ([string[]])
        }
    }

    Context 'A delimiter the encoding cannot carry' {
        It 'refuses <Case> with DelimiterNotEncodable before any socket call' -ForEach @(
            @{ Case = "-Delimiter '€' -Encoding ascii"; Extra = @{ Delimiter = '€'; Encoding = 'ascii' }; Became = '\?' }
            # latin1 has no 'ā' and writes its best fit, 'a', instead.
            @{ Case = "-Delimiter 'ā' -Encoding latin1"; Extra = @{ Delimiter = 'ā'; Encoding = 'latin1' }; Became = 'a' }
            @{ Case = "-AppendNewLine -NewLine '€' -Encoding ascii"; Extra = @{ AppendNewLine = $true; NewLine = '€'; Encoding = 'ascii'; Line = $true }; Became = '\?' }
        ) {
            # An unconnected socket: a check made after the first socket call would report InvalidSocketState.
            $unconnected = New-Socket
            $err = { 'q' | Invoke-SocketRequest -Socket $unconnected @Extra -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId "DelimiterNotEncodable,$CommandName" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.ToString() | Should -Match "would become '$Became'"
        }

        It 'takes a delimiter the encoding carries: -Delimiter "é" -Encoding latin1' {
            , [byte[]] (0x61, 0xE9, 0x62, 0xE9) | Send-SocketData -Socket $peer
            $reply = 'q' | Invoke-SocketRequest -Socket $client -Delimiter 'é' -Encoding latin1 -Count 2 -TimeoutSec 10
            $reply | Should -BeExactly 'a', 'b'
        }
    }

    Context 'Verbose and Ctrl+C' {
        It 'writes the verbose message of a request that timed out, before the error' {
            $records = [System.Collections.Generic.List[object]]::new()
            $err = { 'q' | Invoke-SocketRequest -Socket $client -AppendNewLine -Line -TimeoutSec 1 -Verbose 4>&1 | ForEach-Object { $records.Add($_) } } |
                Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -Be "ReceiveTimeout,$CommandName"
            $verbose = @($records | Get-VerboseMessage | Where-Object { $_ -match '^Request \d+:' })
            $verbose | Should -BeExactly @("Request 1: sent 2 bytes to 127.0.0.1:$($pair.Port) (socket $($client.Id)); received 0 bytes, and no whole reply.")
        }

        It 'writes one verbose message per request with the bytes sent and received' {
            $job = Start-Server $peer $UpperLineServer
            $records = @('a', 'bb', 'ccc' | Invoke-SocketRequest -Socket $client -AppendNewLine -Line -TimeoutSec 10 -Verbose 4>&1)
            Stop-Conversation $client $job
            @($records | Where-Object { $_ -is [string] }) | Should -BeExactly 'A', 'BB', 'CCC'
            $to = "127.0.0.1:$($pair.Port) (socket $($client.Id))"
            $verbose = @($records | Get-VerboseMessage | Where-Object { $_ -match '^Request \d+:' })
            $verbose | Should -BeExactly @(
                "Request 1: sent 2 bytes to $to; received 2 bytes."
                "Request 2: sent 3 bytes to $to; received 3 bytes."
                "Request 3: sent 4 bytes to $to; received 4 bytes."
            )
        }

        It 'stops promptly and without an error on Ctrl+C while it waits for a reply, and sends no later request' {
            $job = Start-SecondPowerShell -ArgumentList $client {
                param($s)
                'wait', 'never' | Invoke-SocketRequest -Socket $s -AppendNewLine -Line -TimeoutSec 60
            }
            # Nobody receives on the peer: the request waits in its kernel buffer.
            Wait-Until -TimeoutSec 10 -Because 'the first request to arrive' { $peer.Socket.Available -ge 5 }
            Start-Sleep -Milliseconds 200
            $job.PowerShell.InvocationStateInfo.State | Should -Be 'Running' -Because 'it waits for the reply'
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            Stop-SecondPowerShell $job -TimeoutSec 10 | Should -BeTrue
            $clock.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
            $job.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            Get-StopError $job | Should -BeNullOrEmpty
            Get-ErrorVariable $job | Should -BeNullOrEmpty
            $client.State | Should -Be 'Connected'
            Get-ReceivedText $pair | Should -BeExactly "wait`n"
        }
    }

    Context 'Command and help' {
        It 'is a cmdlet of the module that declares string and byte[] output' {
            $command = Get-Command Invoke-SocketRequest -Module SocketCmdlets -ErrorAction Stop
            $command.CommandType | Should -Be 'Cmdlet'
            $types = @($command.OutputType.Type)
            $types | Should -Contain ([string])
            $types | Should -Contain ([byte[]])
        }

        It 'has help with examples that use it' {
            $examples = @((Get-Help Invoke-SocketRequest -Examples).examples.example)
            $examples.Count | Should -BeGreaterOrEqual 1
            foreach ($example in $examples) { [string] $example.code | Should -Match 'Invoke-SocketRequest' }
        }
    }
}

Describe 'Invoke-SocketRequest over IPv6' -Tag 'InvokeSocketRequest' {
    BeforeEach {
        $job = $null
    }

    AfterEach {
        Remove-SecondPowerShell $job
        Get-Socket | Close-Socket
    }

    It 'converses on ::1' {
        $pair = New-ConnectedPair -Address ::1
        $job = Start-Server $pair.Peer $UpperLineServer
        $replies = @('six', 'over' | Invoke-SocketRequest -Socket $pair.Client -AppendNewLine -Line -TimeoutSec 10)
        Stop-Conversation $pair.Client $job
        $replies | Should -BeExactly 'SIX', 'OVER'
    }
}

Describe 'Invoke-SocketRequest -ReplyUntil against redis-server' -Tag 'InvokeSocketRequest', 'Interop' {
    BeforeAll {
    }

    It 'pairs bulk-string replies with their requests' -Skip:(-not (Get-Command redis-server -CommandType Application -ErrorAction Ignore)) {
        # Skipped where redis-server (Debian package redis-server) is not installed; build.ps1 installs it.
        $folder = Join-Path ([System.IO.Path]::GetTempPath()) "sc-isr-redis-$PID"
        $null = New-Item -ItemType Directory -Force -Path $folder
        $port = Get-FreePort
        $redis = Start-TestProcess redis-server @('--port', "$port", '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', $folder)
        try {
            Wait-Listening $port -Process $redis
            $socket = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
            $bulkDone = { param($lines) $lines[0] -notmatch '^\$\d' -or $lines.Count -eq 2 }
            $replies = @('SET socketcmdlets:isr hello', 'GET socketcmdlets:isr', 'GET socketcmdlets:missing', 'PING' |
                    Invoke-SocketRequest -Socket $socket -AppendNewLine -NewLine "`r`n" -ReplyUntil $bulkDone -TimeoutSec 10)
            $replies.Count | Should -Be 4
            , $replies[0] | Should -BeExactly @('+OK')
            $replies[1] | Should -BeExactly '$5', 'hello'
            , $replies[2] | Should -BeExactly @('$-1')
            , $replies[3] | Should -BeExactly @('+PONG')
        } finally {
            Get-Socket | Close-Socket
            $redis | Stop-TestProcess
            Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction Ignore
        }
    }
}

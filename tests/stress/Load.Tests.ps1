BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Stress.Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    # The server: one -Continuous accept loop whose connections are served in parallel, one runspace each. It runs in
    # a second PowerShell so the clients can run from the test. Its parameters are variables of that runspace, which
    # is what $using: reaches from the -Parallel block (one level out, not the test's runspace).
    $ServerScript = {
        param($Listener, $Connections, $WaitSec)
        $served = [hashtable]::Synchronized(@{ Active = 0; Max = 0 })
        $Listener | Receive-SocketConnection -Continuous -TimeoutSec $WaitSec -ErrorAction Stop |
            Select-Object -First $Connections |
            ForEach-Object -ThrottleLimit $Connections -Parallel {
                Import-Module $env:SOCKETCMDLETS_MODULE_PATH
                $connection = $_
                $state = $using:served
                $wait = $using:WaitSec
                [System.Threading.Monitor]::Enter($state.SyncRoot)
                try { $state.Active++; if ($state.Active -gt $state.Max) { $state.Max = $state.Active } } finally { [System.Threading.Monitor]::Exit($state.SyncRoot) }
                $utf8 = [System.Text.UTF8Encoding]::new($false)
                $in = [System.Security.Cryptography.IncrementalHash]::CreateHash('SHA256')
                $out = [System.Security.Cryptography.IncrementalHash]::CreateHash('SHA256')
                $tally = @{ InBytes = 0L; OutBytes = 0L; Messages = 0 }
                $failure = $null
                try {
                    # Every line is echoed the moment it arrives (-Unbuffered), until the client half-closes.
                    $connection | Receive-SocketData -Line -ToEnd -TimeoutSec $wait -ErrorAction Stop |
                        ForEach-Object {
                            $bytes = $utf8.GetBytes($_ + "`n")
                            $in.AppendData($bytes); $tally.InBytes += $bytes.Length; $tally.Messages++
                            $out.AppendData($bytes); $tally.OutBytes += $bytes.Length
                            $_
                        } |
                        Send-SocketData -Socket $connection -AppendNewLine -Unbuffered -TimeoutSec $wait -ErrorAction Stop
                } catch {
                    $failure = $_.FullyQualifiedErrorId
                } finally {
                    [System.Threading.Monitor]::Enter($state.SyncRoot)
                    try { $state.Active-- } finally { [System.Threading.Monitor]::Exit($state.SyncRoot) }
                }
                $connection | Close-Socket
                [pscustomobject]@{
                    Side = 'server'; Port = $connection.RemoteEndPoint.Port; Messages = $tally.Messages
                    ReceivedBytes = $tally.InBytes; ReceivedSha = [System.Convert]::ToHexString($in.GetHashAndReset())
                    SentBytes = $tally.OutBytes; SentSha = [System.Convert]::ToHexString($out.GetHashAndReset())
                    CounterReceived = $connection.BytesReceived; CounterSent = $connection.BytesSent; Failure = $failure
                }
            }
        [pscustomobject]@{ Side = 'summary'; MaxConcurrent = $served.Max }
    }

    function Invoke-LoadRun {
        <#
        .SYNOPSIS
            Runs the server and -Clients clients at once, each in its own runspace, each sending -Messages lines of
            varied sizes (empty to 16 KiB, multi-byte characters included) and checking every echo. With
            -AbortEvery n, every n-th client resets its connection (SO_LINGER 0, close) after a random number of
            messages instead of half-closing at the end. Returns the clients', the server's and the run's figures.
        #>
        param([int] $Clients, [int] $Messages, [int] $AbortEvery = 0, [int] $WaitSec = 120, [int] $BoundSec = 300)
        $listener = Start-SocketListen -Port 0 -Address 127.0.0.1 -Name 'load'
        $port = $listener.LocalEndPoint.Port
        $server = $null
        $clientJob = $null
        try {
            $server = Start-SecondPowerShell -ScriptBlock $ServerScript -ArgumentList $listener, $Clients, $WaitSec
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $clientJob = 1..$Clients | ForEach-Object -ThrottleLimit $Clients -AsJob -Parallel {
                Import-Module $env:SOCKETCMDLETS_MODULE_PATH
                $index = $_
                $wait = $using:WaitSec
                $utf8 = [System.Text.UTF8Encoding]::new($false)
                $random = [System.Random]::new(7919 * $index)
                $abortAfter = if ($using:AbortEvery -gt 0 -and $index % $using:AbortEvery -eq 0) { $random.Next(0, $using:Messages) } else { -1 }
                # A corpus of whole characters (1 to 4 UTF-8 bytes, surrogate pairs included); messages are slices
                # of it that never split a surrogate pair.
                $alphabet = @('a', 'b', 'Z', '0', '7', ' ', '-', '_', '~', '{', '}', 'é', 'ß', 'ж', '€', '中', '文', "$([char]0xD834)$([char]0xDD1E)", "$([char]0xD83D)$([char]0xDE00)")
                $tokens = [System.Text.StringBuilder]::new()
                for ($t = 0; $t -lt 3000; $t++) { $null = $tokens.Append($alphabet[$random.Next($alphabet.Count)]) }
                # Repeated to 40,000+ characters: a script loop over every character would cost more than the test.
                $corpus = [System.Text.StringBuilder]::new().Insert(0, $tokens.ToString(), 12).ToString()
                $sent = [System.Security.Cryptography.IncrementalHash]::CreateHash('SHA256')
                $received = [System.Security.Cryptography.IncrementalHash]::CreateHash('SHA256')
                $tally = @{ SentBytes = 0L; ReceivedBytes = 0L; Messages = 0; Mismatches = 0 }
                $failure = $null
                $socket = $null
                try {
                    $socket = Connect-Socket -ComputerName 127.0.0.1 -Port $using:port -TimeoutSec $wait -ErrorAction Stop
                    for ($m = 0; $m -lt $using:Messages; $m++) {
                        if ($m -eq $abortAfter) { break }
                        $roll = $random.Next(100)
                        $length = if ($roll -lt 5) { 0 } elseif ($roll -lt 65) { $random.Next(1, 65) } elseif ($roll -lt 95) { $random.Next(65, 2049) } else { $random.Next(2049, 16385) }
                        $start = $random.Next(0, $corpus.Length - $length)
                        if ($length -gt 0 -and [char]::IsLowSurrogate($corpus[$start])) { $start++ }
                        if ($length -gt 0 -and [char]::IsHighSurrogate($corpus[$start + $length - 1])) { $length-- }
                        $message = $corpus.Substring($start, $length)
                        $message | Send-SocketData -Socket $socket -AppendNewLine -TimeoutSec $wait -ErrorAction Stop
                        $bytes = $utf8.GetBytes($message + "`n")
                        $sent.AppendData($bytes); $tally.SentBytes += $bytes.Length
                        $echo = $socket | Receive-SocketData -Line -TimeoutSec $wait -ErrorAction Stop
                        if ($null -eq $echo) { throw "the server ended the stream after $m messages" }
                        $bytes = $utf8.GetBytes($echo + "`n")
                        $received.AppendData($bytes); $tally.ReceivedBytes += $bytes.Length
                        if ($echo -cne $message) { $tally.Mismatches++ }
                        $tally.Messages++
                    }
                    if ($abortAfter -ge 0) {
                        # Reset: RST instead of FIN, while the server waits for the next line.
                        $socket | Set-SocketOption -LingerSec 0
                    } else {
                        # Half-close: the server sees the end of the stream, echoes nothing more and closes.
                        $socket | Close-Socket -Direction Send
                        $rest = @($socket | Receive-SocketData -AsByteStream -ToEnd -TimeoutSec $wait -ErrorAction Stop)
                        if ($rest.Count -gt 0) { throw "$($rest.Count) unexpected chunks after the last echo" }
                    }
                } catch {
                    $failure = "$($_.FullyQualifiedErrorId): $_"
                } finally {
                    if ($socket) { $socket | Close-Socket }
                }
                [pscustomobject]@{
                    Side = 'client'; Port = if ($socket) { $socket.LocalEndPoint.Port } else { 0 }; Messages = $tally.Messages
                    Aborted = $abortAfter -ge 0; Mismatches = $tally.Mismatches
                    SentBytes = $tally.SentBytes; SentSha = [System.Convert]::ToHexString($sent.GetHashAndReset())
                    ReceivedBytes = $tally.ReceivedBytes; ReceivedSha = [System.Convert]::ToHexString($received.GetHashAndReset())
                    CounterSent = if ($socket) { $socket.BytesSent } else { 0 }; CounterReceived = if ($socket) { $socket.BytesReceived } else { 0 }
                    Failure = $failure
                }
            }
            $null = $clientJob | Wait-Job -Timeout $BoundSec
            $clientState = [string] $clientJob.State
            $clientResults = @($clientJob | Receive-Job)
            $clock.Stop()
            $serverOutput = @(Wait-SecondPowerShell $server -TimeoutSec 60)
            $serverErrors = @($server.PowerShell.Streams.Error)
        } finally {
            if ($clientJob) { $clientJob | Stop-Job -PassThru | Remove-Job -Force }
            Remove-SecondPowerShell $server
            $listener | Close-Socket
        }
        $summary = @($serverOutput | Where-Object Side -EQ 'summary')
        [pscustomobject]@{
            ClientState = $clientState; Clients = $clientResults; Server = @($serverOutput | Where-Object Side -EQ 'server')
            ServerErrors = $serverErrors; MaxConcurrent = $(if ($summary) { $summary[0].MaxConcurrent } else { 'n/a' })
            Seconds = $clock.Elapsed.TotalSeconds; Listener = $listener
        }
    }

    function Assert-Accounted {
        # Every byte of every connection accounted for: what the client sent is what the server received and
        # echoed, and what the client received; the sockets' own counters agree with the scripts' counts.
        param($Client, $Server, [string] $Because)
        $Server | Should -Not -BeNullOrEmpty -Because "the server served client port $($Client.Port)"
        $Client.Mismatches | Should -Be 0 -Because "client $($Client.Port) got each message back as sent"
        $Server.Messages | Should -Be $Client.Messages -Because $Because
        $Server.ReceivedBytes | Should -Be $Client.SentBytes -Because $Because
        $Server.ReceivedSha | Should -Be $Client.SentSha -Because $Because
        $Server.SentBytes | Should -Be $Client.SentBytes -Because $Because
        $Server.SentSha | Should -Be $Client.SentSha -Because $Because
        $Client.ReceivedBytes | Should -Be $Client.SentBytes -Because $Because
        $Client.ReceivedSha | Should -Be $Client.SentSha -Because $Because
        $Client.CounterSent | Should -Be $Client.SentBytes -Because $Because
        $Client.CounterReceived | Should -Be $Client.ReceivedBytes -Because $Because
        $Server.CounterReceived | Should -Be $Server.ReceivedBytes -Because $Because
        $Server.CounterSent | Should -Be $Server.SentBytes -Because $Because
    }
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Load: many clients against one -Continuous server served in parallel' -Tag 'Stress', 'Load' {
    AfterEach {
        Get-Socket | Close-Socket
    }

    It 'echoes every message of every client, every byte accounted for on both sides' {
        $clientCount = Select-StressSize -Full 200 -Quick 20
        $messageCount = Select-StressSize -Full 1000 -Quick 50
        $run = Invoke-LoadRun -Clients $clientCount -Messages $messageCount -BoundSec (Select-StressSize -Full 3600 -Quick 300)

        $messages = ($run.Clients | Measure-Object -Property Messages -Sum).Sum
        $bytesUp = ($run.Clients | Measure-Object -Property SentBytes -Sum).Sum
        $bytesDown = ($run.Clients | Measure-Object -Property ReceivedBytes -Sum).Sum
        Write-StressFigure 'load' 'clients x messages' "$clientCount x $messageCount"
        Write-StressFigure 'load' 'messages echoed' $messages
        Write-StressFigure 'load' 'messages/s (round trips)' ($messages / $run.Seconds)
        Write-StressFigure 'load' 'bytes client->server' $bytesUp
        Write-StressFigure 'load' 'bytes server->client' $bytesDown
        Write-StressFigure 'load' 'throughput both ways' ((($bytesUp + $bytesDown) / 1MB) / $run.Seconds) 'MiB/s'
        Write-StressFigure 'load' 'most connections served at once' $run.MaxConcurrent
        Write-StressFigure 'load' 'seconds' $run.Seconds

        $run.ClientState | Should -Be 'Completed' -Because 'the clients must finish within the bound'
        $run.ServerErrors | Should -HaveCount 0 -Because "the server reported: $($run.ServerErrors -join '; ')"
        $run.Clients | Should -HaveCount $clientCount
        $run.Server | Should -HaveCount $clientCount
        @($run.Clients | Where-Object Failure | ForEach-Object { "client $($_.Port): $($_.Failure)" }) | Should -HaveCount 0
        @($run.Server | Where-Object Failure | ForEach-Object { "server for $($_.Port): $($_.Failure)" }) | Should -HaveCount 0
        $byPort = @{}
        foreach ($s in $run.Server) { $byPort[$s.Port] = $s }
        foreach ($c in $run.Clients) {
            $c.Messages | Should -Be $messageCount
            Assert-Accounted -Client $c -Server $byPort[$c.Port] -Because "client port $($c.Port)"
        }
        Assert-NoSocketLeft -Socket $run.Listener
    }

    It 'serves the other clients untouched while every fourth one resets its connection mid-conversation' {
        $clientCount = Select-StressSize -Full 200 -Quick 20
        $messageCount = Select-StressSize -Full 100 -Quick 20
        $run = Invoke-LoadRun -Clients $clientCount -Messages $messageCount -AbortEvery 4 -BoundSec (Select-StressSize -Full 1800 -Quick 300)

        $aborted = @($run.Clients | Where-Object Aborted)
        $byPort = @{}
        foreach ($s in $run.Server) { $byPort[$s.Port] = $s }
        $resetSeen = @($aborted | Where-Object { $byPort[$_.Port] -and $byPort[$_.Port].Failure -like 'ConnectionReset,*' }).Count
        Write-StressFigure 'load' 'with resets: clients x messages' "$clientCount x $messageCount"
        Write-StressFigure 'load' 'with resets: clients that reset' $aborted.Count
        Write-StressFigure 'load' 'with resets: server connections ended by ConnectionReset' $resetSeen
        Write-StressFigure 'load' 'with resets: seconds' $run.Seconds

        $run.ClientState | Should -Be 'Completed' -Because 'the clients must finish within the bound'
        $run.ServerErrors | Should -HaveCount 0 -Because "the server reported: $($run.ServerErrors -join '; ')"
        $run.Clients | Should -HaveCount $clientCount
        $run.Server | Should -HaveCount $clientCount
        @($run.Clients | Where-Object Failure | ForEach-Object { "client $($_.Port): $($_.Failure)" }) | Should -HaveCount 0
        foreach ($c in $run.Clients) {
            $s = $byPort[$c.Port]
            if ($c.Aborted) {
                # The reset ends that connection's receive with a known error, never with a hang; nothing it
                # received before the reset is lost or changed.
                $s.Failure | Should -BeLike 'ConnectionReset,*' -Because "the server's receive from client port $($c.Port) ends when the client resets"
            } else {
                $c.Messages | Should -Be $messageCount
                $s.Failure | Should -BeNullOrEmpty -Because "client port $($c.Port) did not reset"
            }
            Assert-Accounted -Client $c -Server $s -Because "client port $($c.Port)"
        }
        Assert-NoSocketLeft -Socket $run.Listener
    }

    It 'reads lines without allocating a buffer of -MaxRecordLength for every call' {
        # Under load every line read counts: a receive of a short line should cost about what a plain receive does,
        # whatever -MaxRecordLength allows. Allocations are counted on this thread, where the cmdlets run, so the
        # figure does not depend on the machine's load.
        $pair = New-ConnectedPair
        try {
            $calls = 200
            $measure = {
                param([hashtable] $Limit)
                for ($i = 0; $i -lt 10; $i++) { 'warm' | Send-SocketData -Socket $pair.Client -AppendNewLine; $null = $pair.Peer | Receive-SocketData -Line -TimeoutSec 10 @Limit }
                $start = [System.GC]::GetAllocatedBytesForCurrentThread()
                for ($i = 0; $i -lt $calls; $i++) {
                    'a short line' | Send-SocketData -Socket $pair.Client -AppendNewLine
                    $null = $pair.Peer | Receive-SocketData -Line -TimeoutSec 10 -ErrorAction Stop @Limit
                }
                ([System.GC]::GetAllocatedBytesForCurrentThread() - $start) / $calls
            }
            $small = & $measure @{ MaxRecordLength = 4096 }
            $default = & $measure @{}
        } finally {
            $pair.Close()
        }
        Write-StressFigure 'load' 'bytes allocated per -Line receive (-MaxRecordLength 4096)' ([math]::Round($small))
        Write-StressFigure 'load' 'bytes allocated per -Line receive (default -MaxRecordLength 1 MiB)' ([math]::Round($default))
        ($default - $small) | Should -BeLessThan 64KB -Because "a short line with the default limit cost $([math]::Round($default)) bytes, with a 4 KiB limit $([math]::Round($small))"
    }
}

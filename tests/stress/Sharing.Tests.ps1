# One socket shared by several runspaces at once: four ForEach-Object -Parallel workers run request/response exchanges
# through Invoke-SocketRequest on one connection (plain and TLS) while bystander connections stream files, whose
# SHA-256 must come out unchanged. Every reply must match its own request. Loopback only; every wait bounded.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Stress.Common.ps1')
    . (Join-Path $PSScriptRoot '../pester/Certificates.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    $ProgressPreference = 'SilentlyContinue'
    $script:Folder = Join-Path ([System.IO.Path]::GetTempPath()) "sc-sharing-$PID"
    $null = New-Item -ItemType Directory -Force -Path $Folder
    $script:Requests = Select-StressSize -Full 5000 -Quick 150
    $script:BystanderBytes = Select-StressSize -Full (256MB) -Quick (16MB)
    $script:Cert = New-TestCertificate

    # The echo peer: every line back the moment it arrives (a reply flows through the pipeline), until end of stream.
    $script:EchoScript = {
        param($s, $cert)
        if ($cert) { $null = $s | Protect-Socket -Certificate $cert -TimeoutSec 10 -ErrorAction Stop }
        $s | Receive-SocketData -Line -ToEnd -TimeoutSec 60 -ErrorAction Stop | Send-SocketData -Socket $s -AppendNewLine -ErrorAction Stop
        $s | Close-Socket
    }

    # A bystander: a file streamed with -Path into -OutFile on another connection, checked by SHA-256.
    $script:BystanderScript = {
        param($source, $target, $peer)
        $peer | Receive-SocketData -OutFile $target -TimeoutSec 60 -ErrorAction Stop
        (Get-FileHash -LiteralPath $target -Algorithm SHA256).Hash
    }

    function Invoke-SharedConversation {
        param([switch] $Tls)
        $pair = New-ConnectedPair
        $bystander = New-ConnectedPair
        $source = Join-Path $Folder "bystander-$([guid]::NewGuid().ToString('n')).bin"
        $target = "$source.out"
        $bytes = [byte[]]::new($BystanderBytes)
        [System.Random]::new(11).NextBytes($bytes)
        [System.IO.File]::WriteAllBytes($source, $bytes)
        $expected = (Get-FileHash -LiteralPath $source -Algorithm SHA256).Hash
        $echo = Start-SecondPowerShell -ScriptBlock $EchoScript -ArgumentList $pair.Peer, $(if ($Tls) { $Cert } else { $null })
        $sink = Start-SecondPowerShell -ScriptBlock $BystanderScript -ArgumentList $source, $target, $bystander.Peer
        try {
            if ($Tls) { $null = $pair.Client | Protect-Socket -SkipCertificateCheck -TimeoutSec 10 -ErrorAction Stop }
            $sender = Start-SecondPowerShell -ArgumentList $source, $bystander.Client {
                param($path, $s)
                $s | Send-SocketData -Path $path -TimeoutSec 60 -ErrorAction Stop
                $s | Close-Socket -Direction Send
            }
            $client = $pair.Client
            $count = $Requests
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $results = 1..4 | ForEach-Object -ThrottleLimit 4 -Parallel {
                Import-Module $env:SOCKETCMDLETS_MODULE_PATH
                $worker = $_
                $wrong = 0; $done = 0; $failure = $null
                try {
                    $requests = 1..$using:count | ForEach-Object { "worker $worker request $_ $([guid]::NewGuid())" }
                    $replies = @($requests | Invoke-SocketRequest -Socket $using:client -Line -AppendNewLine -TimeoutSec 30 -ErrorAction Stop)
                    for ($i = 0; $i -lt $requests.Count; $i++) {
                        if ($i -ge $replies.Count -or $replies[$i] -ne $requests[$i]) { $wrong++ } else { $done++ }
                    }
                } catch {
                    $failure = $_.FullyQualifiedErrorId + ': ' + $_.Exception.Message
                }
                [pscustomobject]@{ Worker = $worker; Matched = $done; Wrong = $wrong; Failure = $failure }
            }
            $clock.Stop()
            $null = Wait-SecondPowerShell $sender -TimeoutSec 120
            Remove-SecondPowerShell $sender
            $hash = Wait-SecondPowerShell $sink -TimeoutSec 120
            [pscustomobject]@{
                Results = @($results); BystanderHash = "$hash"; Expected = $expected; Seconds = $clock.Elapsed.TotalSeconds
                SinkErrors = @($sink.PowerShell.Streams.Error)
            }
        } finally {
            $pair.Client | Close-Socket
            $null = $echo.Handle.AsyncWaitHandle.WaitOne(10000)
            Remove-SecondPowerShell $echo
            Remove-SecondPowerShell $sink
            $pair.Close()
            $bystander.Close()
            Remove-Item -LiteralPath $source, $target -ErrorAction Ignore
        }
    }
}

AfterAll {
    Get-Socket | Close-Socket
    Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction Ignore
}

Describe 'One socket shared by four runspaces' -Tag 'Stress', 'Sharing' {
    It 'pairs every reply with its own request (plain) and leaves a bystander transfer whole' {
        $run = Invoke-SharedConversation
        $run.Results | ForEach-Object { $_.Failure | Should -BeNullOrEmpty -Because "worker $($_.Worker)" }
        ($run.Results | Measure-Object Matched -Sum).Sum | Should -Be (4 * $Requests)
        ($run.Results | Measure-Object Wrong -Sum).Sum | Should -Be 0
        $run.SinkErrors | Should -BeNullOrEmpty
        $run.BystanderHash | Should -Be $run.Expected
        Write-StressFigure -Scenario 'Sharing' -Figure 'plain: exchanges by 4 runspaces on one socket' -Value (4 * $Requests)
        Write-StressFigure -Scenario 'Sharing' -Figure 'plain: exchanges per second' -Value (4 * $Requests / $run.Seconds)
    }

    It 'pairs every reply with its own request over TLS and leaves a bystander transfer whole' {
        $run = Invoke-SharedConversation -Tls
        $run.Results | ForEach-Object { $_.Failure | Should -BeNullOrEmpty -Because "worker $($_.Worker)" }
        ($run.Results | Measure-Object Matched -Sum).Sum | Should -Be (4 * $Requests)
        ($run.Results | Measure-Object Wrong -Sum).Sum | Should -Be 0
        $run.BystanderHash | Should -Be $run.Expected
        Write-StressFigure -Scenario 'Sharing' -Figure 'TLS: exchanges by 4 runspaces on one socket' -Value (4 * $Requests)
    }

    It 'serves two runspaces receiving on one socket at once without corrupting any byte' {
        $pair = New-ConnectedPair
        try {
            $blocks = Select-StressSize -Full 20000 -Quick 2000
            $feeder = Start-SecondPowerShell -ArgumentList $pair.Client, $blocks {
                param($s, $n)
                $block = [byte[]]::new(1024)
                for ($i = 0; $i -lt $n; $i++) {
                    [System.Array]::Fill($block, [byte]($i % 251))
                    [System.BitConverter]::GetBytes([int]$i).CopyTo($block, 0)
                    , $block | Send-SocketData -Socket $s -ErrorAction Stop
                }
                $s | Close-Socket -Direction Send
            }
            $peer = $pair.Peer
            $seen = 1..2 | ForEach-Object -ThrottleLimit 2 -Parallel {
                Import-Module $env:SOCKETCMDLETS_MODULE_PATH
                $bad = 0; $numbers = [System.Collections.Generic.List[int]]::new()
                while ($true) {
                    $b = Receive-SocketData -Socket $using:peer -ByteCount 1024 -AsByteStream -TimeoutSec 30 -ErrorAction Stop -WarningAction SilentlyContinue
                    if ($null -eq $b -or $b.Length -eq 0) { break }
                    $n = [System.BitConverter]::ToInt32($b, 0)
                    for ($k = 4; $k -lt 1024; $k++) { if ($b[$k] -ne [byte]($n % 251)) { $bad++; break } }
                    $numbers.Add($n)
                }
                [pscustomobject]@{ Bad = $bad; Numbers = $numbers.ToArray() }
            }
            $null = Wait-SecondPowerShell $feeder -TimeoutSec 120
            Remove-SecondPowerShell $feeder
            ($seen | Measure-Object Bad -Sum).Sum | Should -Be 0
            $all = @($seen | ForEach-Object { $_.Numbers }) | Sort-Object
            $all.Count | Should -Be $blocks
            ($all | Select-Object -Unique).Count | Should -Be $blocks
        } finally {
            $pair.Close()
        }
    }
}

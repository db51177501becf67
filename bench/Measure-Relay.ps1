<#
.SYNOPSIS
    The relay scenario of bench/Invoke-Benchmark.ps1, which dot-sources this file (it uses that script's $Config,
    $TimeoutMs, Invoke-Alternating, Add-Row and Add-ErrorRow).
.DESCRIPTION
    relay bulk      $Config.RelayBytes (1 GiB) one way from an iperf3 client (-l 1M) through a forwarder on loopback
                    to an iperf3 server, the server's figure: Start-SocketRelay (in this session, so the untimed
                    warm-up pass warms the very relay code that is timed) and Join-Socket (a Start-SocketServer
                    handler per connection) against socat TCP-LISTEN,fork (its default buffer and -b 1048576; the
                    better one is the baseline), target 1.0x; iperf3 without a forwarder is shown for context (the
                    ceiling).
    relay latency   64-byte ping-pongs from a raw .NET client (a C# loop) through Start-SocketRelay, running in a pwsh
                    of its own as socat runs in its own process, to a raw .NET echo server, against the same through
                    socat: microseconds per round trip, target 1.0x (no slower than socat).
#>

function Start-Socat {
    # socat forwarding one loopback port to another; returns the process and the port it listens on.
    param([string] $Exe, [int] $TargetPort, [string[]] $Options = @())
    $port = [SocketBench.Loopback]::FreePort()
    $info = [System.Diagnostics.ProcessStartInfo]::new($Exe)
    foreach ($a in @($Options) + @("TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork", "TCP:127.0.0.1:$TargetPort")) { $info.ArgumentList.Add($a) }
    $info.UseShellExecute = $false
    $info.RedirectStandardError = $true
    $process = [System.Diagnostics.Process]::Start($info)
    $null = $process.StandardError.ReadToEndAsync()
    $socat = [pscustomobject]@{ Process = $process; Port = $port }
    try { Wait-Listening $port -Process $process -TimeoutSec 10 } catch { Stop-Socat $socat; throw }
    $socat
}

function Start-RelayProcess {
    # Start-SocketRelay in a pwsh of its own, as socat runs in a process of its own and as a relay runs in use (a
    # PowerShell session between two other programs), so that neither forwarder shares a process with the client
    # loop and the echo server. Returns the process and the port it listens on; closing its input ends it.
    param([int] $TargetPort)
    $port = [SocketBench.Loopback]::FreePort()
    $script = "Import-Module '$Manifest' -ErrorAction Stop; `$null = Start-SocketRelay -ListenPort $port -ListenAddress Loopback -ComputerName 127.0.0.1 -Port $TargetPort -Name bench-relay; `$null = [Console]::In.ReadLine()"
    $process = Start-ChildPwsh -ArgumentList '-Command', $script -CacheHome (Join-Path $OutDir 'cache/relay') -RedirectInput
    try { Wait-Listening $port -Process $process -TimeoutSec 60 } catch { Stop-TestProcess $process; throw }
    [pscustomobject]@{ Process = $process; Port = $port }
}

function Stop-Socat {
    param($Socat)
    if ($null -eq $Socat) { return }
    if (-not $Socat.Process.HasExited) { $Socat.Process.Kill($true); $null = $Socat.Process.WaitForExit(5000) }
    $Socat.Process.Dispose()
}

function Measure-Relay {
    $bytes = $Config.RelayBytes
    $socat = Get-Command socat -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    $iperf = Get-Command iperf3 -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    Write-Host "== Relay: $($bytes / 1MB) MiB one way, $($Config.RelayRoundTrips) round trips; $($Config.Runs) runs"

    $missing = if (-not $socat) { 'socat is not installed (Debian package socat; build.ps1 -Task Bench installs it).' }
    elseif (-not $iperf) { 'iperf3 is not installed (Debian package iperf3; build.ps1 -Task Bench installs it).' }
    if ($missing) {
        foreach ($row in @('relay-bulk', 'join-bulk', 'relay-ceiling', 'relay-latency', 'relay-memory')) {
            Add-ErrorRow $row '' $missing
        }
        return
    }

    # iperf3 client -> forwarder -> iperf3 server (one control and one data connection through the forwarder), the
    # receiving iperf3's own figure. Each forwarder is given the server's port and returns its own port, and how to
    # stop it (Invoke-Iperf3 calls Stop with State).
    $stopJob = { param($Job) $Job | Stop-Job; $Job | Remove-Job -Force }
    $relayTo = {
        param([int] $TargetPort)
        $job = Start-SocketRelay -ListenPort 0 -ListenAddress Loopback -ComputerName 127.0.0.1 -Port $TargetPort -Name bench-relay
        [pscustomobject]@{ Port = $job.LocalPort; State = $job; Stop = $stopJob }
    }
    # Join-Socket as users forward with it: a server whose handler joins each accepted socket to the target (two at
    # once here: iperf3's control and data connections).
    $joinTo = {
        param([int] $TargetPort)
        $job = Start-SocketServer -Port 0 -Address Loopback -ThrottleLimit 4 -Name bench-join -ArgumentList $TargetPort -ScriptBlock {
            param($Client, $TargetPort)
            $null = Join-Socket -Socket $Client -ComputerName 127.0.0.1 -Port $TargetPort -TimeoutSec 10
        }
        [pscustomobject]@{ Port = $job.LocalEndPoint.Port; State = $job; Stop = $stopJob }
    }
    $socatTo = {
        param([int] $TargetPort, [string[]] $Options = @())
        $forwarder = Start-Socat -Exe $socat.Source -TargetPort $TargetPort -Options $Options
        [pscustomobject]@{ Port = $forwarder.Port; State = $forwarder; Stop = { param($Socat) Stop-Socat $Socat } }
    }
    $socatBigTo = { param([int] $TargetPort) & $socatTo $TargetPort @('-b', '1048576') }
    $measure = [ordered]@{
        Relay = { Invoke-Iperf3 $iperf.Source $bytes -Forward $relayTo }
        Join = { Invoke-Iperf3 $iperf.Source $bytes -Forward $joinTo }
        Socat = { Invoke-Iperf3 $iperf.Source $bytes -Forward $socatTo }
        SocatBig = { Invoke-Iperf3 $iperf.Source $bytes -Forward $socatBigTo }
        Direct = { Invoke-Iperf3 $iperf.Source $bytes }
    }
    # One small untimed pass through every contender first, so that the first timed run of none of them pays for
    # compiling the relay's code (JIT) or loading socat from disk.
    $full = $bytes
    $bytes = [Math]::Min($full, 64MB)
    try { foreach ($name in $measure.Keys) { $null = & $measure[$name] } } finally { $bytes = $full }
    $f = Invoke-Alternating $measure 'Relay bulk'
    # The better socat run is the baseline.
    $better = if ((Get-Stat $f.SocatBig).Median -gt (Get-Stat $f.Socat).Median) { 'SocatBig' } else { 'Socat' }
    $socatName = if ($better -eq 'SocatBig') { 'socat -b 1048576 (C)' } else { 'socat, default buffer (C)' }
    Add-Row -Id 'relay-bulk' -Scenario 'Relay: 1 GiB through Start-SocketRelay vs socat' -Unit 'MiB/s' -Better Higher `
        -Module $f.Relay -Baseline $f[$better] -BaselineName $socatName -Target 1.0
    Add-Row -Id 'join-bulk' -Scenario 'Relay: 1 GiB through Join-Socket vs socat' -Unit 'MiB/s' -Better Higher `
        -Module $f.Join -Baseline $f[$better] -BaselineName $socatName -Target 1.0
    Add-Row -Id 'relay-ceiling' -Scenario 'Relay: Start-SocketRelay vs no forwarder (the ceiling)' -Unit 'MiB/s' -Better Higher `
        -Module $f.Relay -Baseline $f.Direct -BaselineName 'iperf3 -l 1M direct (C, no forwarder)' -Info

    # Round trips through each forwarder to the raw echo server.
    $echo = [SocketBench.EchoServer]::Start()
    # The client's loop is C# (Loopback.PingPong): a PowerShell loop would add its own tens of microseconds to both
    # contenders and hide the forwarders' difference.
    # The untimed round trips first (as many as the timed ones, at least 2,000) let the relay process's JIT promote
    # its forwarding path to optimised code (tiered compilation), as the module's own scenarios warm up; socat is
    # native code and takes the same number.
    $pingPong = {
        param([int] $Port)
        [SocketBench.Loopback]::PingPong($Port, 64, [Math]::Max(2000, $Config.RelayRoundTrips), $Config.RelayRoundTrips, $TimeoutMs)
    }
    try {
        $latency = [ordered]@{
            Relay = {
                $forwarder = Start-RelayProcess -TargetPort $echo.Port
                try { & $pingPong $forwarder.Port } finally { Stop-TestProcess $forwarder.Process -GraceSec 5 }
            }
            Socat = {
                $forwarder = Start-Socat -Exe $socat.Source -TargetPort $echo.Port -Options @('-b', '1048576')
                try { & $pingPong $forwarder.Port } finally { Stop-Socat $forwarder }
            }
        }
        $l = Invoke-Alternating $latency 'Relay latency'
        Add-Row -Id 'relay-latency' -Scenario 'Relay: 64-byte round trip through Start-SocketRelay vs socat' -Unit 'us' -Better Lower `
            -Module $l.Relay -Baseline $l.Socat -BaselineName 'socat (C)' -Target 1.0

        # Managed memory per relayed connection, 200 at once, each after one exchange: under 2x its two 64 KiB buffers.
        $job = Start-SocketRelay -ListenPort 0 -ListenAddress Loopback -ComputerName 127.0.0.1 -Port $echo.Port -Name bench-relay
        $clients = [System.Collections.Generic.List[object]]::new()
        try {
            Invoke-FullGC
            $before = [GC]::GetTotalMemory($true)
            $request = [byte[]]::new(64)
            $buffer = [byte[]]::new(64)
            for ($i = 0; $i -lt 200; $i++) {
                $c = [SocketBench.Loopback]::Connect($job.LocalPort, $TimeoutMs)
                $clients.Add($c)
                $null = $c.Send($request)
                $got = 0
                while ($got -lt 64) { $more = $c.Receive($buffer, $got, 64 - $got, [System.Net.Sockets.SocketFlags]::None); if ($more -eq 0) { throw 'The relay closed.' }; $got += $more }
            }
            if ($job.ActiveConnections -ne 200) { throw "The relay holds $($job.ActiveConnections) connections, not 200." }
            Invoke-FullGC
            $perConnection = ([GC]::GetTotalMemory($true) - $before) / 200 / 1KB
        } finally {
            $clients | ForEach-Object { $_.Dispose() }
            $job | Stop-Job; $job | Remove-Job -Force
        }
        # Two buffers of 64 KiB (RelayConnection.DefaultBufferSize), one per direction.
        $buffers = 2 * 64
        Add-Row -Id 'relay-memory' -Scenario 'Relay: managed memory per connection (200 held), vs its two buffers' -Unit 'KiB' -Better Lower `
            -Module @($perConnection) -Baseline @($buffers) -BaselineName 'two relay buffers (64 KiB each)' -Limit (2 * $buffers)
    } finally {
        $echo.Dispose()
    }
}

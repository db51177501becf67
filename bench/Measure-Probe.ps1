<#
.SYNOPSIS
    The Test-SocketConnection scenario of bench/Invoke-Benchmark.ps1, which dot-sources this file (it uses that
    script's $Config, Invoke-Alternating, Add-Row and Add-ErrorRow).
.DESCRIPTION
    probe scan     every port of 127.0.0.1 from 1 to $Config.ProbePorts (65,535 in the full mode: a few open, the rest
                   refused) with Test-SocketConnection (default -ThrottleLimit 100, -TimeoutSec 2), against
                   nmap -sT -n -Pn (a connect scan, no root tricks) over the same ports; ports per second, target 1.0x.
    probe dropped  $Config.DroppedProbes probes (2,000) of a loopback port whose SYNs the kernel drops (a listener with a
                   full backlog) with -TimeoutSec 0.5, against the ideal (probes / ThrottleLimit) x timeout; target:
                   within 1.2x of it. Afterwards the process must hold no more sockets than before.
#>

function New-DroppingListener {
    # A listener with a backlog of 1 whose queue is full: the kernel drops further SYNs (no firewall rule needed).
    $listener = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
    $listener.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
    $listener.Listen(1)
    $port = ([System.Net.IPEndPoint] $listener.LocalEndPoint).Port
    $fillers = @(foreach ($i in 1..6) { [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp') })
    $attempts = @($fillers | ForEach-Object { $_.ConnectAsync([System.Net.IPAddress]::Loopback, $port) })
    # Settled when the count of completed connects stays put twice in a row, some done and some not.
    $done = -1; $stable = 0
    for ($round = 0; $round -lt 60 -and $stable -lt 2; $round++) {
        Start-Sleep -Milliseconds 300
        $now = @($attempts | Where-Object IsCompleted).Count
        if ($now -eq $done -and $now -gt 0) { $stable++ } else { $stable = 0 }
        $done = $now
    }
    if ($stable -lt 2 -or $done -eq $attempts.Count) {
        @($listener) + $fillers | ForEach-Object { $_.Dispose() }
        throw 'The listener''s queue never filled, so no SYN is dropped on this machine.'
    }
    [pscustomobject]@{ Port = $port; Sockets = @($listener) + $fillers }
}

function Get-OpenSocketCount {
    # Sockets this process holds (entries of /proc/self/fd that link to socket:[...]); -1 where /proc is missing.
    if (-not (Test-Path -LiteralPath '/proc/self/fd')) { return -1 }
    @([System.IO.Directory]::GetFileSystemEntries('/proc/self/fd') | Where-Object {
            try { ([System.IO.FileInfo]::new($_).LinkTarget) -like 'socket:*' } catch { $false }
        }).Count
}

function Measure-Probe {
    $last = $Config.ProbePorts
    $ports = [int[]] (1..$last)
    $nmap = Get-Command nmap -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    $measure = [ordered]@{
        Module = {
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $results = Test-SocketConnection -ComputerName 127.0.0.1 -Port $ports
            $seconds = $clock.Elapsed.TotalSeconds
            if (@($results).Count -ne $last) { throw "Test-SocketConnection wrote $(@($results).Count) results for $last ports." }
            $last / $seconds
        }
    }
    if ($nmap) {
        $measure.Nmap = {
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $out = & $nmap.Source -sT -n -Pn -p "1-$last" -oG - 127.0.0.1 2>&1
            $seconds = $clock.Elapsed.TotalSeconds
            if ($LASTEXITCODE -ne 0) { throw "nmap failed (exit code $LASTEXITCODE): $out" }
            $last / $seconds
        }
    }
    $f = Invoke-Alternating $measure 'Probe scan'
    if ($nmap) {
        Add-Row -Id 'probe-scan' -Unit 'ports/s' -Better Higher `
            -Module $f.Module -Baseline $f.Nmap -BaselineName 'nmap -sT -n -Pn (C, connect scan)' -Target 1.0 -Note "ports 1-$last"
    } else {
        Add-ErrorRow 'probe-scan' '' 'nmap is not installed (Debian package nmap; build.ps1 -Task Test installs it).'
    }

    $dropping = New-DroppingListener
    try {
        $count = $Config.DroppedProbes
        $throttle = 100
        $timeoutSec = 0.5
        $ideal = [math]::Ceiling($count / $throttle) * $timeoutSec
        $before = Get-OpenSocketCount
        $dropped = Invoke-Alternating ([ordered]@{
                Module = {
                    $clock = [System.Diagnostics.Stopwatch]::StartNew()
                    $results = Test-SocketConnection -ComputerName 127.0.0.1 -Port (@($dropping.Port) * $count) -TimeoutSec $timeoutSec -ThrottleLimit $throttle
                    $seconds = $clock.Elapsed.TotalSeconds
                    $timedOut = @($results | Where-Object Status -EQ 'TimedOut').Count
                    if ($timedOut -ne $count) { throw "$timedOut of $count probes of the dropping port timed out." }
                    $seconds
                }
            }) 'Probe dropped'
        $after = Get-OpenSocketCount
        if ($after -gt $before) { throw "Test-SocketConnection left $($after - $before) sockets open after the dropped probes." }
        Add-Row -Id 'probe-dropped' -Unit 's' -Better Lower `
            -Module $dropped.Module -Baseline @($dropped.Module | ForEach-Object { $ideal }) -BaselineName "the ideal $ideal s ($count probes, 100 at once)" `
            -Target (1 / 1.2) -Note "$count probes; sockets before $before, after $after"
    } finally {
        $dropping.Sockets | ForEach-Object { $_.Dispose() }
    }
}

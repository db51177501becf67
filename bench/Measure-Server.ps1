<#
.SYNOPSIS
    The server scenario of bench/Invoke-Benchmark.ps1 (dot-sourced there; it uses that script's $Config, $Manifest,
    Add-Row, Invoke-Alternating, New-ModuleRunspace, Start-InRunspace and Wait-InRunspace).
.DESCRIPTION
    Connections served per second by an echo handler (connect, one line, reply, close), driven by raw .NET clients
    16 at a time: Start-SocketServer against the same handler behind
    Receive-SocketConnection -Continuous | ForEach-Object -Parallel (both with a throttle of 8), and against a raw
    .NET accept loop in one runspace. Then the managed memory per idle connection while $Config.IdleConnections are
    held by one Start-SocketServer (throttle 8: the connections beyond it wait for a runspace without costing one),
    against Socket.Accept() holding as many.
#>

function Measure-Server {
    $n = $Config.ServerConnections
    $throttle = 8
    $batch = 16
    Write-Host "== Server: $n echo connections ($batch clients at a time), $($Config.Runs) runs; $($Config.IdleConnections) idle connections held by one server"
    $limit = [timespan]::FromSeconds($Config.OperationTimeoutSec)

    # The clients are raw .NET in every case, so only the server side differs.
    $drive = {
        param([int] $Port, [int] $Count)
        $payload = [System.Text.Encoding]::ASCII.GetBytes("ping`n")
        $buffer = [byte[]]::new(64)
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        for ($done = 0; $done -lt $Count; $done += $batch) {
            $k = [math]::Min($batch, $Count - $done)
            $clients = for ($i = 0; $i -lt $k; $i++) { [SocketBench.Loopback]::Connect($Port, 30000) }
            try {
                foreach ($c in $clients) { $null = $c.Send($payload) }
                foreach ($c in $clients) {
                    $got = 0
                    while ($got -lt $payload.Length) {
                        $r = $c.Receive($buffer, $got, $buffer.Length - $got, [System.Net.Sockets.SocketFlags]::None)
                        if ($r -eq 0) { throw 'The server closed a connection before its reply.' }
                        $got += $r
                    }
                }
            } finally {
                foreach ($c in $clients) { $c.Dispose() }
            }
            if ($clock.Elapsed -gt $limit) { throw "The clients went over $limit." }
        }
        $clock.Stop()
        $Count / $clock.Elapsed.TotalSeconds
    }

    $job = Start-SocketServer -Port 0 -Address 127.0.0.1 -ThrottleLimit $throttle -ScriptBlock {
        $_ | Receive-SocketData -Line -TimeoutSec 30 | Send-SocketData -Socket $_ -AppendNewLine
    }
    $parallelListener = Start-SocketListen -Port 0 -Address 127.0.0.1 -Backlog 512
    $parallel = New-ModuleRunspace
    $parallelHandle = Start-InRunspace $parallel -Script {
        param($Listener, $Module, $Throttle)
        $Listener | Receive-SocketConnection -Continuous | ForEach-Object -ThrottleLimit $Throttle -Parallel {
            Import-Module $using:Module
            $_ | Receive-SocketData -Line -TimeoutSec 30 | Send-SocketData -Socket $_ -AppendNewLine
            $_ | Close-Socket
        }
    } -ArgumentList $parallelListener, $Manifest, $throttle
    $rawListener = [SocketBench.Loopback]::Listen(512)
    $raw = [powershell]::Create()
    $rawHandle = Start-InRunspace $raw -Script {
        param($Listener)
        $buffer = [byte[]]::new(64)
        while ($true) {
            try { $a = $Listener.Accept() } catch { break }
            try {
                $a.ReceiveTimeout = 30000
                $got = 0
                do {
                    $r = $a.Receive($buffer, $got, $buffer.Length - $got, [System.Net.Sockets.SocketFlags]::None)
                    $got += $r
                } while ($r -gt 0 -and $buffer[$got - 1] -ne 10 -and $got -lt $buffer.Length)
                $null = $a.Send($buffer, 0, $got, [System.Net.Sockets.SocketFlags]::None)
            } catch {
                # A client that went away: next.
            } finally {
                $a.Dispose()
            }
        }
    } -ArgumentList $rawListener
    try {
        $ports = @{ Module = $job.LocalEndPoint.Port; Parallel = $parallelListener.LocalEndPoint.Port; Raw = [SocketBench.Loopback]::PortOf($rawListener) }
        foreach ($p in $ports.Values) { $null = & $drive $p $Config.ServerWarmup }
        $f = Invoke-Alternating ([ordered]@{
                Module = { & $drive $ports.Module $n }
                Parallel = { & $drive $ports.Parallel $n }
                Raw = { & $drive $ports.Raw $n }
            }) 'The server scenario'
        Add-Row -Id 'server-vs-parallel' -Unit 'conn/s' -Better Higher -Module $f.Module -Baseline $f.Parallel `
            -BaselineName "Receive-SocketConnection -Continuous | ForEach-Object -Parallel, throttle $throttle" -Target 2.0
        Add-Row -Id 'server-vs-raw' -Unit 'conn/s' -Better Higher -Module $f.Module -Baseline $f.Raw `
            -BaselineName 'Socket.Accept/Receive/Send/Dispose loop in one runspace' -Info
        if ($job.Error.Count -gt 0) { throw "The server's handlers failed: $($job.Error[0])" }
    } finally {
        $job | Remove-Job -Force
        Close-Socket -Socket $parallelListener
        $rawListener.Dispose()
        try { Wait-InRunspace $parallel $parallelHandle 30 } finally { $parallel.Dispose() }
        try { Wait-InRunspace $raw $rawHandle 30 } catch { } finally { $raw.Dispose() }
    }

    $count = $Config.IdleConnections
    $idleRun = {
        param([bool] $UseModule)
        $clients = [System.Collections.Generic.List[System.Net.Sockets.Socket]]::new($count)
        $held = [System.Collections.Generic.List[object]]::new($count)
        $server = $null; $listener = $null
        try {
            if ($UseModule) {
                $server = Start-SocketServer -Port 0 -Address 127.0.0.1 -ThrottleLimit $throttle -ScriptBlock { $null = $_ | Receive-SocketData -Line -TimeoutSec 600 }
                $port = $server.LocalEndPoint.Port
            } else {
                $listener = [SocketBench.Loopback]::Listen($count + 64)
                $port = [SocketBench.Loopback]::PortOf($listener)
            }
            $before = [GC]::GetTotalMemory($true)
            for ($i = 0; $i -lt $count; $i++) { $clients.Add([SocketBench.Loopback]::Connect($port, 10000)) }
            if ($UseModule) {
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                while ($server.TotalConnections -lt $count) {
                    if ($clock.Elapsed -gt $limit) { throw "The server accepted $($server.TotalConnections) of $count connections within $limit." }
                    Start-Sleep -Milliseconds 20
                }
            } else {
                for ($i = 0; $i -lt $count; $i++) { $held.Add([SocketBench.Loopback]::Accept($listener, 10000)) }
            }
            $after = [GC]::GetTotalMemory($true)
            ($after - $before) / $count / 1KB
        } finally {
            if ($server) { $server | Remove-Job -Force }
            foreach ($h in $held) { $h.Dispose() }
            foreach ($c in $clients) { $c.Dispose() }
            if ($listener) { $listener.Dispose() }
        }
    }
    $null = & $idleRun $true; $null = & $idleRun $false
    $f = Invoke-Alternating ([ordered]@{ Module = { & $idleRun $true }; Raw = { & $idleRun $false } }) 'The idle server scenario'
    Add-Row -Id 'server-idle-memory' -Unit 'KiB' -Better Lower -Module $f.Module -Baseline $f.Raw `
        -BaselineName 'Socket.Accept() holding as many, with their clients' -Info -Note "throttle $throttle"
}

#requires -Version 7.0
<#
.SYNOPSIS
    Measures SocketCmdlets against raw .NET (and iperf3) doing the same work on 127.0.0.1, and prints a table.
.DESCRIPTION
    Every scenario runs the module and its baseline alternately, several times, in this one run; each figure is the
    median of the runs, shown with its minimum and maximum, and the ratio is computed from the two medians:
    module/baseline for rates (higher is better), baseline/module for times and sizes, so a ratio of 1 or more
    always means the module is as good as the baseline. Scenarios (the sizes are those of the full mode; -Quick
    shrinks them to a CI-sized run that asserts nothing):

      bulk socket   1 GiB from memory: one 1 MiB byte[] piped 1,024 times into Send-SocketData in a second runspace
                    (iperf3 -l 1M -n 1G likewise writes one 1 MiB buffer 1,024 times), to
                    Receive-SocketData -AsByteStream -ToEnd | Out-Null (Out-Null is the sink), against iperf3 and a raw
                    .NET socket pair sending the same buffer with 1 MiB writes and receiving into a 1 MiB buffer.
      bulk file     Send-SocketData -Path -> Receive-SocketData -OutFile, a 1 GiB file, against FileStream -> socket ->
                    socket -> FileStream in raw .NET with 1 MiB buffers.
      round trip    64 bytes to a raw .NET echo server and back, 10,000 times: the 10,000 requests piped into one
                    Invoke-SocketRequest -ByteCount 64 (the target row), and Send-SocketData + Receive-SocketData called
                    in a PowerShell loop (context), against $s.Send/$s.Receive called from the same kind of loop.
      churn         connect + accept + close 2,000 times from a PowerShell loop: the cmdlets against raw .NET calls.
      lines         1,000,000 short lines; send side: Get-Content | Send-SocketData -AppendNewLine against
                    Get-Content | ForEach-Object { $w.WriteLine($_) } (a StreamWriter over a NetworkStream), received by
                    a raw .NET sink in both; receive side: Receive-SocketData -Line -ToEnd -ReadCount 0 (the target row:
                    string arrays of the lines that have arrived) and Receive-SocketData -Line -ToEnd (one object per
                    line: context) against a StreamReader.ReadLine loop, fed by a raw .NET sender in all. All collect
                    the lines into a variable.
      memory        peak working-set growth of a fresh pwsh receiving 1 GiB with -OutFile (raw .NET socket -> FileStream
                    as the baseline); managed memory per idle connection while 1,000 are open (accepted end and
                    connected end), from GC.GetTotalMemory($true) before and after.
      import        Import-Module of the staged manifest, timed inside fresh pwsh processes, against an empty manifest
                    module.
      server        2,000 echo connections (connect, one line, reply, close; raw .NET clients 16 at a time) served by
                    Start-SocketServer against Receive-SocketConnection -Continuous | ForEach-Object -Parallel (target
                    2x) and a raw .NET accept loop (context); memory per idle connection while 1,000 are held by one
                    server (bench/Measure-Server.ps1).
      relay         1 GiB one way through Start-SocketRelay and Join-Socket against socat (default buffer and
                    -b 1048576; the better is the baseline, target 1.0x), the same without a forwarder for context, and
                    64-byte round trips through the relay against socat (target 1.0x) (bench/Measure-Relay.ps1).
      probe         Test-SocketConnection: ports 1-65,535 of 127.0.0.1 against nmap -sT, and 2,000 probes of a port that
                    drops SYNs at -TimeoutSec 0.5 against the ideal time (bench/Measure-Probe.ps1).

    The console table is also written to <OutDir>/results.md, and every run's figure to <OutDir>/results.json. The
    exit code is 0 when every scenario ran (met or not) and 1 when one could not run.
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Bench -Quick
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Invoke-Benchmark.ps1 -ModulePath out/SocketCmdlets -Scenario RoundTrip, Churn
#>
[CmdletBinding()]
param(
    # The staged module folder (out/SocketCmdlets).
    [Parameter(Mandatory)]
    [string] $ModulePath,

    # CI-sized: 64 MiB instead of 1 GiB, 1,000 round trips, 200 churn cycles, 50,000 lines, 2 runs.
    [switch] $Quick,

    # Where results.md, results.json and scratch files go.
    [string] $OutDir = (Join-Path $PSScriptRoot '../out/bench'),

    # RawPeers.dll, built by build.ps1 -Task Bench; built here into <OutDir>/RawPeers when not given.
    [string] $RawPeersPath,

    # Runs per figure (5 by default, 2 with -Quick).
    [ValidateRange(1, 50)]
    [int] $Runs,

    # Only these scenarios (names from bench/Scenarios.psd1; all by default; pwsh -File passes "a,b").
    [string[]] $Scenario
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
# Progress bars would be drawn on whatever the console is; the data path is what is measured.
$ProgressPreference = 'SilentlyContinue'
$Invariant = [System.Globalization.CultureInfo]::InvariantCulture

Import-Module (Join-Path $PSScriptRoot '../tools/DevTools.psm1')
. (Join-Path $PSScriptRoot 'ReadyToRunPwsh.ps1')
# The scenarios, their scripts and their rows are declared once, in Scenarios.psd1.
$Declared = @((Import-PowerShellDataFile (Join-Path $PSScriptRoot 'Scenarios.psd1')).Scenarios)
$known = @($Declared.Name)
$Scenario = @($Scenario -split ',' | ForEach-Object Trim | Where-Object { $_ })
if ($Scenario.Count -eq 0) { $Scenario = $known }
foreach ($s in $Scenario) { if ($s -notin $known) { throw "Unknown scenario '$s'; the scenarios are $($known -join ', ')." } }

# Warm-ups are generous: PowerShell's and the module's code runs unoptimised (tier-0 JIT) for the first ~15,000 cmdlet
# calls of a process, at 3-5 times the steady-state cost; the figures are for the steady state.
$Config = if ($Quick) {
    [ordered]@{
        Mode = 'quick'; Runs = 2; BulkBytes = 64MB; BulkWarmup = 16MB; FileBytes = 64MB; RoundTrips = 1000; RoundTripWarmup = 2000
        ChurnCycles = 200; ChurnWarmup = 200; Lines = 50000; LinesWarmup = 2000; MemoryBytes = 64MB; IdleConnections = 200
        ImportProcesses = 2; OperationTimeoutSec = 60; ScenarioBudgetSec = 120
        ServerConnections = 200; ServerWarmup = 50
        ProbePorts = 8192; DroppedProbes = 400
        RelayBytes = 64MB; RelayRoundTrips = 1000
    }
} else {
    [ordered]@{
        Mode = 'full'; Runs = 5; BulkBytes = 1GB; BulkWarmup = 512MB; FileBytes = 1GB; RoundTrips = 10000; RoundTripWarmup = 20000
        ChurnCycles = 2000; ChurnWarmup = 2000; Lines = 1000000; LinesWarmup = 20000; MemoryBytes = 1GB; IdleConnections = 1000
        ImportProcesses = 7; OperationTimeoutSec = 300; ScenarioBudgetSec = 1200
        ServerConnections = 2000; ServerWarmup = 200
        ProbePorts = 65535; DroppedProbes = 2000
        RelayBytes = 1GB; RelayRoundTrips = 10000
    }
}
if ($PSBoundParameters.ContainsKey('Runs')) { $Config.Runs = $Runs }
$TimeoutMs = $Config.OperationTimeoutSec * 1000

$OutDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutDir)
$null = New-Item -ItemType Directory -Force -Path $OutDir
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$Manifest = Join-Path $ModulePath 'SocketCmdlets.psd1'
if (-not (Test-Path -LiteralPath $Manifest)) { throw "'$ModulePath' is not a staged SocketCmdlets module: run build.ps1 -Task Build first." }

#region helpers

function Format-Size([double] $Bytes) {
    if ($Bytes -ge 1GB -and $Bytes % 1GB -eq 0) { return '{0} GiB' -f ($Bytes / 1GB) }
    '{0} MiB' -f ($Bytes / 1MB)
}

function Invoke-FreshPwsh {
    # Runs a script in a new pwsh process with its own start-up cache (tools/DevTools.psm1), bounded by -TimeoutSec;
    # returns its standard output, and throws when it fails.
    # -PwshDll: another PowerShell (the import scenario's copy compiled ahead of time).
    param([string] $File, [string[]] $Arguments, [string] $CacheName, [int] $TimeoutSec, [string] $PwshDll)
    $run = Start-ChildPwsh -Wait -File $File -ArgumentList $Arguments -CacheHome (Join-Path $OutDir "cache/$CacheName") -TimeoutSec $TimeoutSec -PwshDll $PwshDll
    if ($run.ExitCode -ne 0) { throw "The child pwsh ($File) exited with $($run.ExitCode): $($run.Errors) $($run.Output -join "`n")" }
    $run.Output -join "`n"
}

function Get-RawPeers {
    if ($RawPeersPath) { return (Resolve-Path -LiteralPath $RawPeersPath).ProviderPath }
    $project = Join-Path $PSScriptRoot 'RawPeers/RawPeers.csproj'
    $target = Join-Path $OutDir 'RawPeers'
    Write-Host "Building $project"
    & dotnet build $project -c Release -o $target --nologo -v quiet -clp:ErrorsOnly | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "Building $project failed (exit code $LASTEXITCODE)." }
    Join-Path $target 'RawPeers.dll'
}

function New-ModuleRunspace {
    # A second runspace of this process with the module imported: the sending side of the bulk scenarios.
    $ps = [powershell]::Create()
    $null = $ps.AddScript('param($m) $ProgressPreference = "SilentlyContinue"; Set-StrictMode -Version Latest; Import-Module $m -ErrorAction Stop').AddArgument($Manifest)
    $null = $ps.Invoke()
    if ($ps.HadErrors) { throw "The second runspace could not import the module: $($ps.Streams.Error -join '; ')" }
    $ps
}

function Start-InRunspace {
    param($PowerShell, [string] $Script, [object[]] $ArgumentList)
    $PowerShell.Commands.Clear()
    $PowerShell.Streams.ClearStreams()
    $null = $PowerShell.AddScript($Script)
    foreach ($a in $ArgumentList) { $null = $PowerShell.AddArgument($a) }
    $PowerShell.BeginInvoke()
}

function Wait-InRunspace {
    param($PowerShell, $Handle, [int] $TimeoutSec)
    if (-not $Handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds($TimeoutSec))) {
        $null = $PowerShell.BeginStop($null, $null).AsyncWaitHandle.WaitOne(10000)
        throw "The second runspace was still running after $TimeoutSec s."
    }
    $null = $PowerShell.EndInvoke($Handle)
    if ($PowerShell.Streams.Error.Count -gt 0) { throw "The second runspace failed: $($PowerShell.Streams.Error -join '; ')" }
}

function Invoke-FullGC {
    [GC]::Collect()
    [GC]::WaitForPendingFinalizers()
    [GC]::Collect()
}

function Get-Seconds([long] $StartTimestamp, [long] $EndTimestamp) {
    ($EndTimestamp - $StartTimestamp) / [double][System.Diagnostics.Stopwatch]::Frequency
}

function Assert-Budget {
    # Every scenario has a time budget on top of the per-operation timeouts.
    param([System.Diagnostics.Stopwatch] $Clock, [string] $What)
    if ($Clock.Elapsed.TotalSeconds -gt $Config.ScenarioBudgetSec) {
        throw "$What went over its budget of $($Config.ScenarioBudgetSec) s."
    }
}

function Invoke-Alternating {
    <#
        Runs two (or three) measurements $Runs times, alternating their order from run to run (A B, B A, ...) so that
        drift in the machine's load falls on both. Returns a hashtable name -> list of figures.
    #>
    param([System.Collections.Specialized.OrderedDictionary] $Measure, [string] $What)
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $figures = @{}
    foreach ($name in $Measure.Keys) { $figures[$name] = [System.Collections.Generic.List[double]]::new() }
    $names = @($Measure.Keys)
    for ($run = 0; $run -lt $Config.Runs; $run++) {
        $order = if ($run % 2 -eq 0) { $names } else { $names[($names.Count - 1)..0] }
        foreach ($name in $order) {
            Assert-Budget $clock $What
            Invoke-FullGC
            $figures[$name].Add([double] (& $Measure[$name]))
        }
    }
    $figures
}

function Get-Stat {
    param([double[]] $Values)
    $sorted = @($Values | Sort-Object)
    $n = $sorted.Count
    $median = if ($n % 2 -eq 1) { $sorted[[int][math]::Floor($n / 2)] } else { ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2 }
    [pscustomobject]@{
        Median = $median; Min = $sorted[0]; Max = $sorted[-1]; Runs = $n
        SpreadPct = if ($median -ne 0) { ($sorted[-1] - $sorted[0]) / [math]::Abs($median) * 100 } else { 0 }
        Values = $Values
    }
}

$Rows = [System.Collections.Generic.List[object]]::new()

function Get-RowTitle {
    # The title Scenarios.psd1 declares for a row id; a row that is not declared there, or named otherwise, is a bug.
    param([string] $Id, [string] $Title)
    $declared = @($Declared.Rows | Where-Object { $_.Id -eq $Id })
    if ($declared.Count -ne 1) { throw "The row '$Id' is not declared in bench/Scenarios.psd1." }
    if ($Title -and $Title -ne $declared[0].Title) { throw "The row '$Id' is titled '$($declared[0].Title)' in bench/Scenarios.psd1, not '$Title'." }
    $declared[0].Title
}

function Add-Row {
    <#
        One line of the table, titled as bench/Scenarios.psd1 declares its -Id. -Better Higher: a rate (ratio = module/baseline); Lower: a time or a size (ratio =
        baseline/module). -Target is a ratio to reach; -Limit, for memory and import time, an absolute ceiling on the
        module's figure; -Info, neither (shown for context).
    #>
    param(
        [string] $Id, [string] $Scenario, [string] $Unit, [ValidateSet('Higher', 'Lower')] [string] $Better,
        [double[]] $Module, [double[]] $Baseline, [string] $BaselineName,
        [double] $Target, [double] $Limit, [switch] $Info, [string] $Note
    )
    $Scenario = Get-RowTitle $Id $Scenario
    $m = Get-Stat $Module
    $b = Get-Stat $Baseline
    $ratio = if ($Better -eq 'Higher') { $m.Median / $b.Median } else { $b.Median / $m.Median }
    if ($Info) { $targetText = '(context)'; $met = 'info' }
    elseif ($PSBoundParameters.ContainsKey('Limit')) {
        $targetText = "< $(Format-Figure $Limit $Unit)"
        $met = if ($m.Median -lt $Limit) { 'met' } else { 'NOT MET' }
    } else {
        $targetText = '>= {0}x' -f $Target.ToString('0.0#', $Invariant)
        $met = if ($ratio -ge $Target) { 'met' } else { 'NOT MET' }
    }
    $Rows.Add([pscustomobject]@{
        Id = $Id; Scenario = $Scenario; Unit = $Unit; Better = $Better; BaselineName = $BaselineName
        Module = $m; Baseline = $b; Ratio = $ratio; Target = $targetText; Met = $met; Note = $Note; Error = $null
    })
}

function Add-ErrorRow {
    param([string] $Id, [string] $Scenario, [string] $Message)
    # The declared title, whatever the caller passed: an error row must still line up with its row.
    $Scenario = Get-RowTitle $Id
    $Rows.Add([pscustomobject]@{
        Id = $Id; Scenario = $Scenario; Unit = ''; Better = ''; BaselineName = ''; Module = $null; Baseline = $null
        Ratio = [double]::NaN; Target = ''; Met = 'error'; Note = $Message; Error = $Message
    })
}

function Format-Figure([double] $Value, [string] $Unit) {
    $format = switch ($Unit) { 'us' { '0.0' } 'ms' { '0.0' } 'MiB' { '0.00' } 'KiB' { '0.00' } default { '#,0' } }
    $u = if ($Unit -eq 'us') { 'µs' } else { $Unit }
    '{0} {1}' -f $Value.ToString($format, $Invariant), $u
}

function Format-Cell($Stat, [string] $Unit) {
    if ($null -eq $Stat) { return 'n/a' }
    $format = switch ($Unit) { 'us' { '0.0' } 'ms' { '0.0' } 'MiB' { '0.00' } 'KiB' { '0.00' } default { '#,0' } }
    '{0} ({1}–{2})' -f (Format-Figure $Stat.Median $Unit), $Stat.Min.ToString($format, $Invariant), $Stat.Max.ToString($format, $Invariant)
}

#endregion

#region scenarios

# The scenarios that live in files of their own (Scenarios.psd1 names them): server, probe, relay.
foreach ($file in @($Declared.Script | Select-Object -Unique | Where-Object { $_ -ne (Split-Path -Leaf $PSCommandPath) })) {
    . (Join-Path $PSScriptRoot $file)
}

function Measure-BulkSocket {
    $total = [long] $Config.BulkBytes
    Write-Host "== Bulk socket path: $(Format-Size $total) one way, $($Config.Runs) runs"
    # One 1 MiB buffer sent over and over, as iperf3 does: the same memory traffic for every contender.
    $bytes = [SocketBench.BenchData]::Pattern(1MB)
    $sender = New-ModuleRunspace
    $listener = Start-SocketListen -Port 0 -Address 127.0.0.1
    $port = $listener.LocalEndPoint.Port
    $sendScript = 'param($c, $b, $n, $t) & { for ($i = 0; $i -lt $n; $i++) { ,$b } } | Send-SocketData -Socket $c -TimeoutSec $t; Close-Socket -Socket $c'
    $iperf = Get-Command iperf3 -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    try {
        $moduleRun = {
            param([long] $Count)
            $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
            $a = Receive-SocketConnection -Socket $listener -TimeoutSec 10
            try {
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $handle = Start-InRunspace $sender $sendScript @($c, $bytes, [int] ($Count / 1MB), $Config.OperationTimeoutSec)
                Receive-SocketData -Socket $a -AsByteStream -ToEnd -TimeoutSec $Config.OperationTimeoutSec | Out-Null
                $clock.Stop()
                Wait-InRunspace $sender $handle $Config.OperationTimeoutSec
                if ($a.BytesReceived -ne $Count) { throw "The module received $($a.BytesReceived) of $Count bytes." }
                $Count / 1MB / $clock.Elapsed.TotalSeconds
            } finally {
                Close-Socket -Socket $a, $c
            }
        }
        $rawRun = {
            param([long] $Count)
            $r = [SocketBench.RawBulk]::SocketPair($bytes, $Count, 1MB, $TimeoutMs)
            if ($r.Bytes -ne $Count) { throw "The raw pair received $($r.Bytes) of $Count bytes." }
            $Count / 1MB / $r.Seconds
        }
        # Warm-up: PowerShell's own code (the pipeline, Out-Null) runs unoptimised until tiered compilation has seen
        # it for a while, so each side first moves half a gigabyte (16 MiB in quick mode) unmeasured.
        $null = & $moduleRun $Config.BulkWarmup
        $null = & $rawRun $Config.BulkWarmup
        $measure = [ordered]@{ Module = { & $moduleRun $total }; Raw = { & $rawRun $total } }
        # An iperf3 failure costs the iperf3 row only.
        if ($iperf) { $measure['Iperf3'] = { try { Invoke-Iperf3 $iperf.Source $total } catch { $script:IperfError = "$_"; [double]::NaN } } }
        $script:IperfError = $null
        $f = Invoke-Alternating $measure 'The bulk socket scenario'
        if ($script:IperfError) {
            Add-ErrorRow 'bulk-socket-iperf3' '' "iperf3 failed: $script:IperfError"
        } elseif ($iperf) {
            Add-Row -Id 'bulk-socket-iperf3' -Unit 'MiB/s' -Better Higher -Module $f.Module -Baseline $f.Iperf3 `
                -BaselineName 'iperf3 -l 1M (C, two processes)' -Target 0.9
        } else {
            Add-ErrorRow 'bulk-socket-iperf3' '' 'iperf3 is not installed (Debian package iperf3; build.ps1 -Task Bench installs it).'
        }
        Add-Row -Id 'bulk-socket-raw' -Unit 'MiB/s' -Better Higher -Module $f.Module -Baseline $f.Raw `
            -BaselineName 'raw .NET socket pair, 1 MiB buffers' -Info
    } finally {
        Close-Socket -Socket $listener
        $sender.Dispose()
    }
}

function Invoke-Iperf3 {
    # One iperf3 test on 127.0.0.1 with 1 MiB writes; returns the receiver's MiB/s. Both processes are started here
    # and, if they outlive their timeout, stopped by their process objects.
    # -Forward puts a forwarder between them: given the server's port, it returns the port the client is to use (Port)
    # and a scriptblock (Stop) that stops the forwarder when given State (Measure-Relay.ps1).
    param([string] $Exe, [long] $Bytes, [scriptblock] $Forward)
    $count = if ($Bytes % 1GB -eq 0) { '{0}G' -f ($Bytes / 1GB) } else { '{0}M' -f ($Bytes / 1MB) }
    for ($attempt = 1; $attempt -le 3; $attempt++) {
        $port = [SocketBench.Loopback]::FreePort()
        $server = Start-TestProcess $Exe @('-s', '-1', '-p', $port, '-B', '127.0.0.1')
        $client = $null
        $via = $null
        try {
            $ready = [System.Diagnostics.Stopwatch]::StartNew()
            while (-not (Test-Listening $port) -and -not $server.HasExited -and $ready.Elapsed.TotalSeconds -lt 10) { Start-Sleep -Milliseconds 20 }
            if ($server.HasExited) { continue }
            $via = if ($Forward) { & $Forward $port }
            $clientPort = if ($via) { $via.Port } else { $port }
            $client = Start-TestProcess $Exe @('-c', '127.0.0.1', '-p', $clientPort, '-n', $count, '-l', '1M', '-J')
            if (-not $client.WaitForExit($TimeoutMs)) { throw "iperf3 -c was still running after $($Config.OperationTimeoutSec) s." }
            $client.WaitForExit()
            $json = $client.StdOut | ConvertFrom-Json
            if ($json.PSObject.Properties['error']) {
                if ($attempt -lt 3) { continue }
                throw "iperf3 failed: $($json.error) $($client.StdErr)"
            }
            # The receiver's own figure: what it counted in its measured interval. The bytes still on their way when
            # the sender ends the test are not counted: a few MB direct, through a forwarder up to its sockets'
            # buffers (tcp_rmem allows 32 MiB on each), which the test's end passes on the control connection. So
            # sum_received.bytes is under -n, by at most a tenth (at least 32 MiB, at most half); sum_sent is all of it.
            $sent = $json.end.sum_sent
            $received = $json.end.sum_received
            $inFlight = [Math]::Min($Bytes / 2, [Math]::Max($Bytes / 10, 32MB))
            if ([long] $sent.bytes -lt $Bytes -or [long] $received.bytes -lt $Bytes - $inFlight) {
                throw "iperf3 sent $($sent.bytes) and received $($received.bytes) of $Bytes bytes."
            }
            return [double] $received.bytes / 1MB / [double] $received.seconds
        } finally {
            Stop-TestProcess $client
            if ($via) { & $via.Stop $via.State; $via = $null }
            # The server ends by itself after its one test (-1); only one that does not is stopped, by its id.
            if (-not $server.WaitForExit(5000)) { Stop-TestProcess $server } else { $server.Dispose() }
        }
    }
    throw 'iperf3 could not be started on a free port after 3 attempts.'
}

function Measure-BulkFile {
    $total = [long] $Config.FileBytes
    Write-Host "== Bulk file path: a $(Format-Size $total) file, $($Config.Runs) runs"
    $source = Join-Path $TempFolder 'bulk-source.bin'
    $small = Join-Path $TempFolder 'bulk-small.bin'
    $destination = Join-Path $TempFolder 'bulk-received.bin'
    [SocketBench.BenchData]::WriteRandomFile($source, $total)
    [SocketBench.BenchData]::WriteRandomFile($small, $Config.BulkWarmup)
    $sender = New-ModuleRunspace
    $listener = Start-SocketListen -Port 0 -Address 127.0.0.1
    $port = $listener.LocalEndPoint.Port
    $sendScript = 'param($c, $p, $t) Send-SocketData -Socket $c -Path $p -TimeoutSec $t; Close-Socket -Socket $c'
    try {
        $moduleRun = {
            param([string] $Path, [long] $Count)
            $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
            $a = Receive-SocketConnection -Socket $listener -TimeoutSec 10
            try {
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $handle = Start-InRunspace $sender $sendScript @($c, $Path, $Config.OperationTimeoutSec)
                Receive-SocketData -Socket $a -OutFile $destination -TimeoutSec $Config.OperationTimeoutSec
                $clock.Stop()
                Wait-InRunspace $sender $handle $Config.OperationTimeoutSec
                $length = (Get-Item -LiteralPath $destination).Length
                if ($length -ne $Count) { throw "The module wrote $length of $Count bytes." }
                $Count / 1MB / $clock.Elapsed.TotalSeconds
            } finally {
                Close-Socket -Socket $a, $c
                Remove-Item -LiteralPath $destination -Force -ErrorAction SilentlyContinue
            }
        }
        $rawRun = {
            param([string] $Path, [long] $Count)
            try {
                $r = [SocketBench.RawBulk]::FilePair($Path, $destination, 1MB, $TimeoutMs)
                $length = (Get-Item -LiteralPath $destination).Length
                if ($r.Bytes -ne $Count -or $length -ne $Count) { throw "The raw pair wrote $length of $Count bytes." }
                $Count / 1MB / $r.Seconds
            } finally {
                Remove-Item -LiteralPath $destination -Force -ErrorAction SilentlyContinue
            }
        }
        $null = & $moduleRun $small $Config.BulkWarmup
        $null = & $rawRun $small $Config.BulkWarmup
        $f = Invoke-Alternating ([ordered]@{ Module = { & $moduleRun $source $total }; Raw = { & $rawRun $source $total } }) 'The bulk file scenario'
        Add-Row -Id 'bulk-file' -Unit 'MiB/s' -Better Higher -Module $f.Module -Baseline $f.Raw `
            -BaselineName 'FileStream -> socket -> socket -> FileStream, 1 MiB' -Target 1.0
    } finally {
        Close-Socket -Socket $listener
        $sender.Dispose()
        Remove-Item -LiteralPath $source, $small, $destination -Force -ErrorAction SilentlyContinue
    }
}

function Measure-RoundTrip {
    $n = $Config.RoundTrips
    Write-Host "== Round trips: 64 bytes x $n after $($Config.RoundTripWarmup) to warm up, $($Config.Runs) runs"
    $echo = [SocketBench.EchoServer]::Start()
    $moduleSocket = $null; $rawSocket = $null
    try {
        $moduleSocket = Connect-Socket -ComputerName 127.0.0.1 -Port $echo.Port -TimeoutSec 10
        # Socket defaults bound every wait without a parameter more per call.
        Set-SocketOption -Socket $moduleSocket -ReceiveTimeoutSec $Config.OperationTimeoutSec -SendTimeoutSec $Config.OperationTimeoutSec
        $rawSocket = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::InterNetwork, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Tcp)
        $rawSocket.Connect([System.Net.IPAddress]::Loopback, $echo.Port)
        $rawSocket.ReceiveTimeout = $TimeoutMs
        $rawSocket.SendTimeout = $TimeoutMs
        $request = [byte[]]::new(64)
        for ($i = 0; $i -lt 64; $i++) { $request[$i] = 65 + $i % 26 }
        $limit = [timespan]::FromSeconds($Config.OperationTimeoutSec)

        # The two loops are alike but for the calls: the cmdlets, or the socket's own methods.
        $moduleLoop = {
            param($s, [byte[]] $req, [int] $count, [timespan] $limit)
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            for ($i = 0; $i -lt $count; $i++) {
                Send-SocketData -Socket $s -Data $req
                $reply = Receive-SocketData -Socket $s -ByteCount 64 -AsByteStream
                if ($reply.Length -ne 64) { throw "Round trip $i got $($reply.Length) bytes." }
                if (($i -band 1023) -eq 0 -and $clock.Elapsed -gt $limit) { throw "The loop went over $limit." }
            }
            $clock.Stop()
            $clock.Elapsed.TotalSeconds * 1e6 / $count
        }
        $rawLoop = {
            param($s, [byte[]] $req, [int] $count, [timespan] $limit)
            $buffer = [byte[]]::new(64)
            $none = [System.Net.Sockets.SocketFlags]::None
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            for ($i = 0; $i -lt $count; $i++) {
                $null = $s.Send($req)
                $got = $s.Receive($buffer)
                while ($got -lt 64) {
                    $more = $s.Receive($buffer, $got, 64 - $got, $none)
                    if ($more -eq 0) { throw "Round trip ${i}: the echo server closed." }
                    $got += $more
                }
                if (($i -band 1023) -eq 0 -and $clock.Elapsed -gt $limit) { throw "The loop went over $limit." }
            }
            $clock.Stop()
            $clock.Elapsed.TotalSeconds * 1e6 / $count
        }
        # The call designed for conversations: every request piped into one Invoke-SocketRequest, which sends it and
        # reads its 64-byte reply before taking the next.
        $pipelineRun = {
            param($s, [byte[]] $req, [int] $count)
            $requests = [object[]]::new($count)
            for ($i = 0; $i -lt $count; $i++) { $requests[$i] = $req }
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $replies = $requests | Invoke-SocketRequest -Socket $s -ByteCount 64 -AsByteStream
            $clock.Stop()
            if ($replies.Count -ne $count -or $replies[-1].Length -ne 64) { throw "Invoke-SocketRequest wrote $($replies.Count) replies for $count requests." }
            $clock.Elapsed.TotalSeconds * 1e6 / $count
        }
        $null = & $moduleLoop $moduleSocket $request $Config.RoundTripWarmup $limit
        $null = & $pipelineRun $moduleSocket $request $Config.RoundTripWarmup
        $null = & $rawLoop $rawSocket $request $Config.RoundTripWarmup $limit
        $f = Invoke-Alternating ([ordered]@{
                Module = { & $moduleLoop $moduleSocket $request $n $limit }
                Pipeline = { & $pipelineRun $moduleSocket $request $n }
                Raw = { & $rawLoop $rawSocket $request $n $limit }
            }) 'The round-trip scenario'
        Add-Row -Id 'round-trip' -Unit 'us' -Better Lower -Module $f.Pipeline -Baseline $f.Raw `
            -BaselineName '$s.Send/$s.Receive in a PowerShell loop' -Target 0.5
        Add-Row -Id 'round-trip-two-calls' -Unit 'us' -Better Lower -Module $f.Module -Baseline $f.Raw `
            -BaselineName '$s.Send/$s.Receive in a PowerShell loop' -Info
    } finally {
        if ($moduleSocket) { Close-Socket -Socket $moduleSocket }
        if ($rawSocket) { $rawSocket.Dispose() }
        $echo.Dispose()
    }
}

function Measure-Churn {
    $n = $Config.ChurnCycles
    Write-Host "== Connection churn: connect + accept + close x $n, $($Config.Runs) runs"
    $moduleListener = Start-SocketListen -Port 0 -Address 127.0.0.1
    $rawListener = [SocketBench.Loopback]::Listen(512)
    try {
        $limit = [timespan]::FromSeconds($Config.OperationTimeoutSec)
        # The accepted end closes first, so TIME_WAIT stays on the server side and client ports are free at once.
        $moduleLoop = {
            param($l, [int] $port, [int] $count, [timespan] $limit)
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            for ($i = 0; $i -lt $count; $i++) {
                $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
                $a = Receive-SocketConnection -Socket $l -TimeoutSec 10
                Close-Socket -Socket $a
                Close-Socket -Socket $c
                if (($i -band 255) -eq 0 -and $clock.Elapsed -gt $limit) { throw "The loop went over $limit." }
            }
            $clock.Stop()
            $count / $clock.Elapsed.TotalSeconds
        }
        $rawLoop = {
            param($l, [int] $port, [int] $count, [timespan] $limit)
            $endPoint = [System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, $port)
            $family = [System.Net.Sockets.AddressFamily]::InterNetwork
            $stream = [System.Net.Sockets.SocketType]::Stream
            $tcp = [System.Net.Sockets.ProtocolType]::Tcp
            $read = [System.Net.Sockets.SelectMode]::SelectRead
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            for ($i = 0; $i -lt $count; $i++) {
                $c = [System.Net.Sockets.Socket]::new($family, $stream, $tcp)
                $c.Connect($endPoint)
                # Poll bounds the accept, as -TimeoutSec does for the cmdlet.
                if (-not $l.Poll(10000000, $read)) { throw 'No connection to accept within 10 s.' }
                $a = $l.Accept()
                $a.Dispose()
                $c.Dispose()
                if (($i -band 255) -eq 0 -and $clock.Elapsed -gt $limit) { throw "The loop went over $limit." }
            }
            $clock.Stop()
            $count / $clock.Elapsed.TotalSeconds
        }
        # The same cycles from pipelines, a batch at a time: the endpoints piped into one Connect-Socket, the batch
        # accepted by one Receive-SocketConnection -Count and piped to Close-Socket, then the clients piped to Close-Socket.
        $pipelineRun = {
            param($l, [int] $port, [int] $count, [timespan] $limit)
            $batch = [math]::Min(250, $count)
            $target = [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $port }
            $targets = [object[]]::new($batch)
            for ($i = 0; $i -lt $batch; $i++) { $targets[$i] = $target }
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            for ($done = 0; $done -lt $count; $done += $batch) {
                $clients = $targets | Connect-Socket -TimeoutSec 10
                Receive-SocketConnection -Socket $l -Count $batch -TimeoutSec 10 | Close-Socket
                $clients | Close-Socket
                if ($clock.Elapsed -gt $limit) { throw "The pipelines went over $limit." }
            }
            $clock.Stop()
            $done / $clock.Elapsed.TotalSeconds
        }
        $modulePort = $moduleListener.LocalEndPoint.Port
        $rawPort = [SocketBench.Loopback]::PortOf($rawListener)
        $null = & $moduleLoop $moduleListener $modulePort $Config.ChurnWarmup $limit
        $null = & $pipelineRun $moduleListener $modulePort $Config.ChurnWarmup $limit
        $null = & $rawLoop $rawListener $rawPort $Config.ChurnWarmup $limit
        $f = Invoke-Alternating ([ordered]@{
                Module = { & $moduleLoop $moduleListener $modulePort $n $limit }
                Pipeline = { & $pipelineRun $moduleListener $modulePort $n $limit }
                Raw = { & $rawLoop $rawListener $rawPort $n $limit }
            }) 'The churn scenario'
        Add-Row -Id 'churn' -Unit 'conn/s' -Better Higher -Module $f.Pipeline -Baseline $f.Raw `
            -BaselineName 'Socket.Connect/Accept/Dispose from a PowerShell loop' -Target 0.5
        Add-Row -Id 'churn-loop' -Unit 'conn/s' -Better Higher -Module $f.Module -Baseline $f.Raw `
            -BaselineName 'Socket.Connect/Accept/Dispose from a PowerShell loop' -Target 0.5
    } finally {
        Close-Socket -Socket $moduleListener
        $rawListener.Dispose()
    }
}

function Measure-Lines {
    $n = $Config.Lines
    Write-Host "== Lines: $n lines each way, $($Config.Runs) runs"
    $file = Join-Path $TempFolder 'lines.txt'
    $length = [SocketBench.BenchData]::WriteLines($file, $n)
    $small = Join-Path $TempFolder 'lines-small.txt'
    $warm = $Config.LinesWarmup
    $smallLength = [SocketBench.BenchData]::WriteLines($small, $warm)
    $utf8 = [System.Text.UTF8Encoding]::new($false)
    try {
        # Send side: PowerShell sends, a raw .NET sink counts; the clock stops when the sink reads the end of stream.
        $moduleSend = {
            param([string] $Path, [int] $Count, [long] $Bytes)
            $sink = [SocketBench.LineSink]::Start($TimeoutMs)
            try {
                $s = Connect-Socket -ComputerName 127.0.0.1 -Port $sink.Port -TimeoutSec 10
                Invoke-FullGC
                $t0 = [System.Diagnostics.Stopwatch]::GetTimestamp()
                Get-Content -LiteralPath $Path | Send-SocketData -Socket $s -AppendNewLine -TimeoutSec $Config.OperationTimeoutSec
                Close-Socket -Socket $s
                $r = $sink.Wait($TimeoutMs)
                if ($r.Lines -ne $Count -or $r.Bytes -ne $Bytes) { throw "The sink got $($r.Lines) lines, $($r.Bytes) bytes; $Count, $Bytes were sent." }
                $Count / (Get-Seconds $t0 $r.EndTimestamp)
            } finally { $sink.Dispose() }
        }
        $rawSend = {
            param([string] $Path, [int] $Count, [long] $Bytes)
            $sink = [SocketBench.LineSink]::Start($TimeoutMs)
            try {
                $client = [System.Net.Sockets.TcpClient]::new()
                $client.Connect([System.Net.IPAddress]::Loopback, $sink.Port)
                $client.SendTimeout = $TimeoutMs
                $w = [System.IO.StreamWriter]::new($client.GetStream(), $utf8)
                $w.NewLine = "`n"
                Invoke-FullGC
                $t0 = [System.Diagnostics.Stopwatch]::GetTimestamp()
                Get-Content -LiteralPath $Path | ForEach-Object { $w.WriteLine($_) }
                $w.Flush()
                $w.Dispose()
                $client.Dispose()
                $r = $sink.Wait($TimeoutMs)
                if ($r.Lines -ne $Count -or $r.Bytes -ne $Bytes) { throw "The sink got $($r.Lines) lines, $($r.Bytes) bytes; $Count, $Bytes were sent." }
                $Count / (Get-Seconds $t0 $r.EndTimestamp)
            } finally { $sink.Dispose() }
        }
        # Receive side: a raw .NET source sends the file as fast as it can; PowerShell reads lines to the end, one
        # object per line, or with -ReadCount 0 as string arrays of the lines that have arrived.
        $moduleReceive = {
            param([string] $Path, [int] $Count, [switch] $Batched)
            $source = [SocketBench.BulkSource]::FromBytes([System.IO.File]::ReadAllBytes($Path), 1MB, $TimeoutMs)
            try {
                $s = Connect-Socket -ComputerName 127.0.0.1 -Port $source.Port -TimeoutSec 10
                $readCount = if ($Batched) { 0 } else { 1 }
                Invoke-FullGC
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $received = Receive-SocketData -Socket $s -Line -ToEnd -ReadCount $readCount -TimeoutSec $Config.OperationTimeoutSec
                $clock.Stop()
                Close-Socket -Socket $s
                $source.Wait($TimeoutMs)
                # Arrays come back as they are, or unrolled when there is one: @() counts both right.
                $lines = 0
                if ($Batched) { foreach ($batch in $received) { $lines += @($batch).Count } } else { $lines = $received.Count }
                if ($lines -ne $Count) { throw "The module read $lines of $Count lines (-ReadCount $readCount)." }
                $Count / $clock.Elapsed.TotalSeconds
            } finally { $source.Dispose() }
        }
        $rawReceive = {
            param([string] $Path, [int] $Count)
            $source = [SocketBench.BulkSource]::FromBytes([System.IO.File]::ReadAllBytes($Path), 1MB, $TimeoutMs)
            try {
                $client = [System.Net.Sockets.TcpClient]::new()
                $client.Connect([System.Net.IPAddress]::Loopback, $source.Port)
                $client.ReceiveTimeout = $TimeoutMs
                $r = [System.IO.StreamReader]::new($client.GetStream(), $utf8)
                Invoke-FullGC
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $lines = while (($l = $r.ReadLine()) -ne $null) { $l }
                $clock.Stop()
                $r.Dispose()
                $client.Dispose()
                $source.Wait($TimeoutMs)
                if ($lines.Count -ne $Count) { throw "The StreamReader loop read $($lines.Count) of $Count lines." }
                $Count / $clock.Elapsed.TotalSeconds
            } finally { $source.Dispose() }
        }
        $null = & $moduleSend $small $warm $smallLength
        $null = & $rawSend $small $warm $smallLength
        $null = & $moduleReceive $small $warm
        $null = & $moduleReceive $small $warm -Batched
        $null = & $rawReceive $small $warm
        $send = Invoke-Alternating ([ordered]@{ Module = { & $moduleSend $file $n $length }; Raw = { & $rawSend $file $n $length } }) 'The line-sending scenario'
        Add-Row -Id 'lines-send' -Unit 'lines/s' -Better Higher -Module $send.Module -Baseline $send.Raw `
            -BaselineName 'Get-Content | ForEach-Object { $w.WriteLine($_) }' -Target 1.0
        $receive = Invoke-Alternating ([ordered]@{ Module = { & $moduleReceive $file $n }; Batched = { & $moduleReceive $file $n -Batched }; Raw = { & $rawReceive $file $n } }) 'The line-receiving scenario'
        Add-Row -Id 'lines-receive' -Unit 'lines/s' -Better Higher -Module $receive.Batched -Baseline $receive.Raw `
            -BaselineName 'while (($l = $r.ReadLine()) -ne $null) { $l }' -Target 1.0
        Add-Row -Id 'lines-receive-per-line' -Unit 'lines/s' -Better Higher -Module $receive.Module -Baseline $receive.Raw `
            -BaselineName 'while (($l = $r.ReadLine()) -ne $null) { $l }' -Info
    } finally {
        Remove-Item -LiteralPath $file, $small -Force -ErrorAction SilentlyContinue
    }
}

function Measure-Memory {
    $bytes = [long] $Config.MemoryBytes
    Write-Host "== Memory: peak working-set growth receiving $(Format-Size $bytes) with -OutFile ($($Config.Runs) fresh processes each); $($Config.IdleConnections) idle connections"
    $script = Join-Path $PSScriptRoot 'Measure-ReceiveMemory.ps1'
    $measureOne = {
        param([string] $Mode)
        $out = Join-Path $TempFolder "memory-$Mode.bin"
        $json = Invoke-FreshPwsh -File $script -CacheName 'memory' -TimeoutSec ($Config.OperationTimeoutSec + 60) -Arguments @(
            '-Mode', $Mode, '-ModulePath', $Manifest, '-RawPeersPath', $RawPeers, '-Bytes', $bytes, '-OutFile', $out, '-TimeoutSec', $Config.OperationTimeoutSec)
        $r = ($json -split "`n" | Where-Object { $_ -match '^\s*\{' } | Select-Object -Last 1) | ConvertFrom-Json
        $script:MemoryMethod = $r.Method
        [double] $r.GrowthBytes / 1MB
    }
    $f = Invoke-Alternating ([ordered]@{ Module = { & $measureOne 'Module' }; Raw = { & $measureOne 'Raw' } }) 'The -OutFile memory scenario'
    Add-Row -Id 'memory-outfile' -Unit 'MiB' -Better Lower -Module $f.Module -Baseline $f.Raw `
        -BaselineName 'raw .NET socket -> FileStream, 1 MiB buffer' -Limit 64 -Note "peak from $script:MemoryMethod"

    $count = $Config.IdleConnections
    # The accepted end: clients connect first (raw sockets, not counted), then the measured side accepts them.
    $acceptedRun = {
        param([bool] $UseModule)
        $moduleListener = $null; $rawListener = $null
        $clients = [System.Collections.Generic.List[System.Net.Sockets.Socket]]::new($count)
        $held = [System.Collections.Generic.List[object]]::new($count)
        try {
            if ($UseModule) {
                $moduleListener = Start-SocketListen -Port 0 -Address 127.0.0.1 -Backlog ($count + 64)
                $port = $moduleListener.LocalEndPoint.Port
            } else {
                $rawListener = [SocketBench.Loopback]::Listen($count + 64)
                $port = [SocketBench.Loopback]::PortOf($rawListener)
            }
            for ($i = 0; $i -lt $count; $i++) { $clients.Add([SocketBench.Loopback]::Connect($port, 10000)) }
            $read = [System.Net.Sockets.SelectMode]::SelectRead
            $before = [GC]::GetTotalMemory($true)
            if ($UseModule) {
                for ($i = 0; $i -lt $count; $i++) { $held.Add((Receive-SocketConnection -Socket $moduleListener -TimeoutSec 10)) }
            } else {
                for ($i = 0; $i -lt $count; $i++) {
                    if (-not $rawListener.Poll(10000000, $read)) { throw 'No connection to accept within 10 s.' }
                    $held.Add($rawListener.Accept())
                }
            }
            $after = [GC]::GetTotalMemory($true)
            ($after - $before) / $count / 1KB
        } finally {
            foreach ($h in $held) { if ($UseModule) { Close-Socket -Socket $h } else { $h.Dispose() } }
            foreach ($c in $clients) { $c.Dispose() }
            if ($moduleListener) { Close-Socket -Socket $moduleListener }
            if ($rawListener) { $rawListener.Dispose() }
        }
    }
    # The connected end: the measured side connects to a raw listener that leaves the connections in its backlog.
    $connectedRun = {
        param([bool] $UseModule)
        $listener = [SocketBench.Loopback]::Listen($count + 64)
        $port = [SocketBench.Loopback]::PortOf($listener)
        $held = [System.Collections.Generic.List[object]]::new($count)
        $endPoint = [System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, $port)
        try {
            $before = [GC]::GetTotalMemory($true)
            if ($UseModule) {
                for ($i = 0; $i -lt $count; $i++) { $held.Add((Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10)) }
            } else {
                for ($i = 0; $i -lt $count; $i++) {
                    $s = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::InterNetwork, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Tcp)
                    $s.Connect($endPoint)
                    $held.Add($s)
                }
            }
            $after = [GC]::GetTotalMemory($true)
            ($after - $before) / $count / 1KB
        } finally {
            # Closing the listener first resets the connections it never accepted: no TIME_WAIT is left behind.
            $listener.Dispose()
            foreach ($h in $held) { if ($UseModule) { Close-Socket -Socket $h } else { $h.Dispose() } }
        }
    }
    $null = & $acceptedRun $true; $null = & $acceptedRun $false
    $null = & $connectedRun $true; $null = & $connectedRun $false
    $f = Invoke-Alternating ([ordered]@{ Module = { & $acceptedRun $true }; Raw = { & $acceptedRun $false } }) 'The idle-connection scenario'
    Add-Row -Id 'memory-idle-accepted' -Unit 'KiB' -Better Lower -Module $f.Module -Baseline $f.Raw `
        -BaselineName 'Socket.Accept()' -Limit 16
    $f = Invoke-Alternating ([ordered]@{ Module = { & $connectedRun $true }; Raw = { & $connectedRun $false } }) 'The idle-connection scenario'
    Add-Row -Id 'memory-idle-connected' -Unit 'KiB' -Better Lower -Module $f.Module -Baseline $f.Raw `
        -BaselineName 'Socket.Connect()' -Limit 16
}

function Measure-Import {
    # Timed in PowerShell as released (ReadyToRun; see bench/ReadyToRunPwsh.ps1), the row with the target; and in the
    # PowerShell running this benchmark when that is the .NET tool package (IL only), for context.
    $n = $Config.ImportProcesses
    $r2r = Get-ReadyToRunPwsh
    Write-Host "== Import-Module time in $n fresh processes each (after one warm-up process)"
    $script = Join-Path $PSScriptRoot 'Measure-ImportTime.ps1'
    $emptyFolder = Join-Path $TempFolder 'EmptyModule'
    $null = New-Item -ItemType Directory -Force -Path $emptyFolder
    $empty = Join-Path $emptyFolder 'EmptyModule.psd1'
    New-ModuleManifest -Path $empty -ModuleVersion '1.0.0' -Description 'An empty module: the fixed cost of Import-Module.'
    $timeOneImport = {
        param([string] $Path, [string] $PwshDll)
        $cache = if ($PwshDll) { 'import-r2r' } else { 'import' }
        $out = Invoke-FreshPwsh -File $script -CacheName $cache -TimeoutSec 120 -Arguments @('-Manifest', $Path) -PwshDll $PwshDll
        [double]::Parse((($out -split "`n" | Where-Object { $_ -match '^\s*[0-9.]+\s*$' } | Select-Object -Last 1).Trim()), $Invariant)
    }
    $timeImports = {
        param([string] $PwshDll)
        # The first process fills the child start-up cache; it is not counted.
        $null = & $timeOneImport $Manifest $PwshDll
        $saved = $Config.Runs
        $Config.Runs = $n
        try {
            Invoke-Alternating ([ordered]@{ Module = { & $timeOneImport $Manifest $PwshDll }; Empty = { & $timeOneImport $empty $PwshDll } }) 'The import scenario'
        } finally {
            $Config.Runs = $saved
        }
    }
    $which = if ($r2r.PwshDll) { 'PowerShell compiled ahead of time, as released' } else { "this PowerShell; $($r2r.Reason)" }
    $f = & $timeImports $r2r.PwshDll
    Add-Row -Id 'import' -Unit 'ms' -Better Lower -Module $f.Module -Baseline $f.Empty `
        -BaselineName "Import-Module of an empty manifest module ($which)" -Limit 100
    if ($r2r.PwshDll) {
        $t = & $timeImports $null
        Add-Row -Id 'import-tool' -Unit 'ms' -Better Lower -Module $t.Module -Baseline $t.Empty -Info `
            -BaselineName 'Import-Module of an empty manifest module, in the .NET tool package (IL only: the JIT compiles PowerShell while it is timed)'
    } else {
        # The target row above was measured in this PowerShell; say why there is no second figure.
        Add-ErrorRow -Id 'import-tool' -Message $r2r.Reason
    }
}

#endregion

#region report

function Get-Table {
    $lines = [System.Collections.Generic.List[string]]::new()
    $lines.Add('| Scenario | Module | Baseline | Ratio | Target | Met | Noise (module / baseline) |')
    $lines.Add('|---|---|---|---|---|---|---|')
    foreach ($r in $Rows) {
        if ($r.Error) {
            $lines.Add("| $($r.Scenario) | n/a | n/a | n/a | | error | $($r.Error -replace '\|', '/') |")
            continue
        }
        $noise = '±{0:0}% / ±{1:0}%' -f ($r.Module.SpreadPct / 2), ($r.Baseline.SpreadPct / 2)
        $lines.Add(('| {0} | {1} | {2} | {3} | {4} | {5} | {6} |' -f $r.Scenario, (Format-Cell $r.Module $r.Unit), (Format-Cell $r.Baseline $r.Unit),
                $r.Ratio.ToString('0.00', $Invariant), $r.Target, $r.Met, $noise))
    }
    $lines
}

function Get-Legend {
    $lines = [System.Collections.Generic.List[string]]::new()
    $lines.Add("Mode: $($Config.Mode); each figure is the median of $($Config.Runs) runs (import: $($Config.ImportProcesses) fresh processes) with (min–max).")
    $lines.Add('Ratio = module/baseline for rates, baseline/module for times and sizes: >= 1 means the module is as good. Noise = ±half the min–max spread, in % of the median.')
    $lines.Add("Workloads: bulk $(Format-Size $Config.BulkBytes) from memory (sink: Receive-SocketData -AsByteStream -ToEnd | Out-Null) and a $(Format-Size $Config.FileBytes) file (-Path -> -OutFile); " +
        "$($Config.RoundTrips) round trips of 64 B (after $($Config.RoundTripWarmup) to warm up); $($Config.ChurnCycles) connect+accept+close cycles (after $($Config.ChurnWarmup)); $($Config.Lines) lines; " +
        "$(Format-Size $Config.MemoryBytes) received with -OutFile; $($Config.IdleConnections) idle connections.")
    foreach ($r in $Rows) {
        if (-not $r.Error) {
            $extra = if ($r.Note) { " ($($r.Note))" } else { '' }
            $lines.Add("- $($r.Scenario): baseline = $($r.BaselineName)$extra.")
        }
    }
    $lines
}

#endregion

$RawPeers = Get-RawPeers
Add-Type -Path $RawPeers
Import-Module $Manifest -ErrorAction Stop
$TempFolder = Join-Path ([System.IO.Path]::GetTempPath()) "socketcmdlets-bench-$PID-$([guid]::NewGuid().ToString('N'))"
$null = New-Item -ItemType Directory -Path $TempFolder
$environment = [ordered]@{
    Date = [DateTime]::UtcNow.ToString('u'); Mode = $Config.Mode; Runs = $Config.Runs
    Processors = [Environment]::ProcessorCount; OS = [System.Runtime.InteropServices.RuntimeInformation]::OSDescription
    PowerShell = $PSVersionTable.PSVersion.ToString(); DotNet = [Environment]::Version.ToString()
    Module = $Manifest; LoadBefore = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg) } else { '' }
}
Write-Host "SocketCmdlets benchmark ($($Config.Mode)): $($environment.Processors) CPUs, $($environment.OS), PowerShell $($environment.PowerShell), .NET $($environment.DotNet), load $($environment.LoadBefore)"
$total = [System.Diagnostics.Stopwatch]::StartNew()
$failed = $false
try {
    foreach ($declared in $Declared) {
        $name = $declared.Name
        if ($name -notin $Scenario) { continue }
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        try {
            & "Measure-$name"
        } catch {
            $failed = $true
            Write-Host "The $name scenario failed: $_" -ForegroundColor Red
            Write-Host $_.ScriptStackTrace
            foreach ($row in $declared.Rows) {
                if (-not ($Rows | Where-Object Id -EQ $row.Id)) { Add-ErrorRow $row.Id $row.Title "$_" }
            }
        } finally {
            Get-Socket | Close-Socket
            Invoke-FullGC
        }
        Write-Host ("   {0} done in {1:0.0} s" -f $name, $clock.Elapsed.TotalSeconds)
    }
} finally {
    Get-Socket | Close-Socket
    Remove-Item -LiteralPath $TempFolder -Recurse -Force -ErrorAction SilentlyContinue
}
$total.Stop()
$environment.LoadAfter = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg) } else { '' }
$environment.Seconds = [math]::Round($total.Elapsed.TotalSeconds, 1)

$table = Get-Table
$legend = Get-Legend
Write-Host ''
$table | ForEach-Object { Write-Host $_ }
Write-Host ''
$legend | ForEach-Object { Write-Host $_ }
Write-Host ("Load average before: {0}; after: {1}. Total {2:0.0} s." -f $environment.LoadBefore, $environment.LoadAfter, $total.Elapsed.TotalSeconds)

$markdown = @("# SocketCmdlets benchmark ($($Config.Mode))", '',
    "$($environment.Date); $($environment.Processors) CPUs; $($environment.OS); PowerShell $($environment.PowerShell); .NET $($environment.DotNet); load before $($environment.LoadBefore), after $($environment.LoadAfter); $($environment.Seconds) s.",
    '') + $table + @('') + $legend
Set-Content -LiteralPath (Join-Path $OutDir 'results.md') -Value $markdown -Encoding utf8NoBOM
[ordered]@{
    Environment = $environment
    Config = $Config
    Rows = @($Rows | ForEach-Object {
            [ordered]@{
                Id = $_.Id; Scenario = $_.Scenario; Unit = $_.Unit; Better = $_.Better; Baseline = $_.BaselineName
                Ratio = if ([double]::IsNaN($_.Ratio)) { $null } else { $_.Ratio }; Target = $_.Target; Met = $_.Met; Note = $_.Note; Error = $_.Error
                ModuleRuns = @(if ($_.Module) { $_.Module.Values }); BaselineRuns = @(if ($_.Baseline) { $_.Baseline.Values })
                ModuleMedian = if ($_.Module) { $_.Module.Median } else { $null }; BaselineMedian = if ($_.Baseline) { $_.Baseline.Median } else { $null }
            }
        })
} | ConvertTo-Json -Depth 6 | Set-Content -LiteralPath (Join-Path $OutDir 'results.json') -Encoding utf8NoBOM
Write-Host "Results: $(Join-Path $OutDir 'results.md'), results.json"
# A row without figures (iperf3 missing or failing, a scenario that threw) fails the run; a missed target does not.
if ($failed -or @($Rows | Where-Object Error).Count -gt 0) { exit 1 }
exit 0

#requires -Version 7.0
<#
.SYNOPSIS
    Measures the peak working-set growth of this (fresh) pwsh process while it receives -Bytes from a raw .NET sender
    into a file: with Receive-SocketData -OutFile (-Mode Module) or a raw socket -> FileStream loop with a 1 MiB
    buffer (-Mode Raw). Prints one JSON line. A child of Invoke-Benchmark.ps1.
.DESCRIPTION
    A small transfer first compiles the code paths (JIT), so the figure is what the volume costs. The sender (a thread
    of this process sending one 1 MiB buffer over and over) is made before the baseline is read. The peak is VmHWM
    after resetting it through /proc/self/clear_refs (Linux); elsewhere a thread samples the working set every 2 ms.
#>
param(
    [Parameter(Mandatory)] [ValidateSet('Module', 'Raw')] [string] $Mode,
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $RawPeersPath,
    [Parameter(Mandatory)] [long] $Bytes,
    [Parameter(Mandatory)] [string] $OutFile,
    [int] $TimeoutSec = 300
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'
Add-Type -Path $RawPeersPath
if ($Mode -eq 'Module') { Import-Module $ModulePath -ErrorAction Stop }
$timeoutMs = $TimeoutSec * 1000

function Receive-Into([SocketBench.BulkSource] $Source, [string] $Path) {
    if ($Mode -eq 'Module') {
        $s = Connect-Socket -ComputerName 127.0.0.1 -Port $Source.Port -TimeoutSec 10
        try { Receive-SocketData -Socket $s -OutFile $Path -TimeoutSec $TimeoutSec } finally { Close-Socket -Socket $s }
    } else {
        $s = [SocketBench.Loopback]::Connect($Source.Port, $timeoutMs)
        try { $null = [SocketBench.RawBulk]::ReceiveToFile($s, $Path, 1MB) } finally { $s.Dispose() }
    }
    $Source.Wait($timeoutMs)
}

try {
    $warm = [SocketBench.BulkSource]::Repeat(4MB, 1MB, $timeoutMs)
    try { Receive-Into $warm $OutFile } finally { $warm.Dispose() }
    Remove-Item -LiteralPath $OutFile

    $source = [SocketBench.BulkSource]::Repeat($Bytes, 1MB, $timeoutMs)
    try {
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        $before = [SocketBench.ProcessMemory]::Resident()
        $sampler = $null
        $method = if ([SocketBench.ProcessMemory]::TryResetPeak() -and [SocketBench.ProcessMemory]::PeakResident() -gt 0) { 'VmHWM' } else { $sampler = [SocketBench.PeakSampler]::Start(2); 'sampling' }
        Receive-Into $source $OutFile
        $peak = if ($sampler) { $sampler.Peak; $sampler.Dispose() } else { [SocketBench.ProcessMemory]::PeakResident() }
    } finally {
        $source.Dispose()
    }
    $length = (Get-Item -LiteralPath $OutFile).Length
    if ($length -ne $Bytes) { throw "Received $length of $Bytes bytes." }
    [ordered]@{ Mode = $Mode; Bytes = $Bytes; BeforeBytes = $before; PeakBytes = $peak; GrowthBytes = [math]::Max(0, $peak - $before); Method = $method } |
        ConvertTo-Json -Compress
} finally {
    Remove-Item -LiteralPath $OutFile -Force -ErrorAction SilentlyContinue
}

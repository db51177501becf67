#requires -Version 7.0
<#
.SYNOPSIS
    Times one Import-Module of a manifest in this (fresh) pwsh process and prints the milliseconds. A child of
    Invoke-Benchmark.ps1: one process per figure, so nothing is loaded beforehand.
#>
param([Parameter(Mandatory)] [string] $Manifest)

$ErrorActionPreference = 'Stop'
$clock = [System.Diagnostics.Stopwatch]::StartNew()
Import-Module -Name $Manifest -ErrorAction Stop
$clock.Stop()
[Console]::Out.WriteLine($clock.Elapsed.TotalMilliseconds.ToString('0.000', [System.Globalization.CultureInfo]::InvariantCulture))

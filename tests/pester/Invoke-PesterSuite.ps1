#requires -Version 7.0
<#
.SYNOPSIS
    Runs the Pester suite of SocketCmdlets against a staged module and writes a summary.
.DESCRIPTION
    Imports the given Pester, points the tests at the staged module through $env:SOCKETCMDLETS_MODULE_PATH, runs every
    tests/pester/*.Tests.ps1, writes the test results (NUnit or JUnit XML) to -ResultPath and
    {"Passed":n,"Failed":n,"Skipped":n} to -SummaryPath. Failed counts failed tests plus failed blocks and containers
    (a BeforeAll that throws, a file that does not parse). Exits 1 when anything failed, else 0.
.EXAMPLE
    dotnet pwsh -NoProfile -File tests/pester/Invoke-PesterSuite.ps1 -PesterPath ~/.nuget/packages/pester/5.7.1/tools/Pester.psd1 -ModulePath ./out/SocketCmdlets -SummaryPath /tmp/pester-summary.json -ResultPath /tmp/pester.xml
#>
[CmdletBinding()]
param(
    # Pester.psd1 of Pester 5.
    [Parameter(Mandatory)]
    [string] $PesterPath,

    # The staged module folder (out/SocketCmdlets).
    [Parameter(Mandatory)]
    [string] $ModulePath,

    # The JSON summary to write.
    [Parameter(Mandatory)]
    [string] $SummaryPath,

    # The XML test results to write.
    [Parameter(Mandatory)]
    [string] $ResultPath,

    # The format of -ResultPath; JUnitXml when the file name says junit, else NUnitXml.
    [ValidateSet('NUnitXml', 'NUnit2.5', 'NUnit3', 'JUnitXml')]
    [string] $ResultFormat,

    # Only Describe blocks with these tags (all by default).
    [string[]] $Tag,

    # Only these test files (names or paths; all *.Tests.ps1 of this folder by default).
    [string[]] $Path
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Write-Summary {
    param([int] $Passed, [int] $Failed, [int] $Skipped)
    $folder = Split-Path -Parent $SummaryPath
    if ($folder -and -not (Test-Path -LiteralPath $folder)) { $null = New-Item -ItemType Directory -Force -Path $folder }
    [ordered]@{ Passed = $Passed; Failed = $Failed; Skipped = $Skipped } | ConvertTo-Json -Compress |
        Set-Content -LiteralPath $SummaryPath -Encoding utf8NoBOM
}

# Resolve relative paths against the caller's location before Pester changes anything.
$SummaryPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($SummaryPath)
$ResultPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ResultPath)

try {
    $resolvedModule = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
    if (-not (Test-Path -LiteralPath (Join-Path $resolvedModule 'SocketCmdlets.psd1'))) {
        throw "'$resolvedModule' is not a staged SocketCmdlets module (no SocketCmdlets.psd1): run build.ps1 -Task Build first."
    }
    $env:SOCKETCMDLETS_MODULE_PATH = $resolvedModule

    Import-Module (Resolve-Path -LiteralPath $PesterPath).ProviderPath -Force
    $pester = Get-Module Pester
    if ($pester.Version.Major -lt 5) { throw "Pester 5 is needed; '$PesterPath' is Pester $($pester.Version)." }

    $testFiles = if ($Path) {
        # pwsh -File passes "a,b" as one string: split it.
        foreach ($p in @($Path -split ',' | Where-Object { $_ })) {
            $candidate = if (Test-Path -LiteralPath $p) { $p } else { Join-Path $PSScriptRoot $p }
            (Resolve-Path -LiteralPath $candidate).ProviderPath
        }
    } else {
        (Get-ChildItem -LiteralPath $PSScriptRoot -Filter '*.Tests.ps1' -File | Sort-Object Name).FullName
    }
    if (-not $testFiles) { throw "No *.Tests.ps1 files in $PSScriptRoot." }

    if (-not $ResultFormat) {
        $ResultFormat = if ((Split-Path -Leaf $ResultPath) -match 'junit') { 'JUnitXml' } else { 'NUnitXml' }
    }
    $resultFolder = Split-Path -Parent $ResultPath
    if ($resultFolder -and -not (Test-Path -LiteralPath $resultFolder)) { $null = New-Item -ItemType Directory -Force -Path $resultFolder }

    $configuration = New-PesterConfiguration
    $configuration.Run.Path = [string[]] $testFiles
    $configuration.Run.PassThru = $true
    $configuration.Run.Exit = $false
    $configuration.Output.Verbosity = 'Detailed'
    # Colours only on a terminal: a redirected run (a CI log) gets plain text, not raw ANSI codes.
    $configuration.Output.RenderMode = if ([Console]::IsOutputRedirected -or $env:NO_COLOR) { 'Plaintext' } else { 'Ansi' }
    $configuration.TestResult.Enabled = $true
    $configuration.TestResult.OutputPath = $ResultPath
    $configuration.TestResult.OutputFormat = $ResultFormat
    $configuration.TestResult.TestSuiteName = 'SocketCmdlets'
    if ($Tag) { $configuration.Filter.Tag = [string[]] @($Tag -split ',' | Where-Object { $_ }) }

    Write-Host "Pester $($pester.Version); module $resolvedModule; $(@($testFiles).Count) test file(s)."
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $result = Invoke-Pester -Configuration $configuration
    $clock.Stop()
} catch {
    # The suite could not run at all: that is a failure, and the summary says so.
    Write-Host "The Pester suite could not run: $_" -ForegroundColor Red
    Write-Summary -Passed 0 -Failed 1 -Skipped 0
    exit 1
}

if ($null -eq $result) {
    Write-Host 'Invoke-Pester returned no result.' -ForegroundColor Red
    Write-Summary -Passed 0 -Failed 1 -Skipped 0
    exit 1
}

$failed = [int] $result.FailedCount + [int] $result.FailedBlocksCount + [int] $result.FailedContainersCount
if ($failed -eq 0 -and $result.Result -eq 'Failed') {
    # Pester saw a failure it did not count as a test, block or container (a broken discovery, for one).
    $failed = 1
}
$passed = [int] $result.PassedCount
$skipped = [int] $result.SkippedCount
Write-Summary -Passed $passed -Failed $failed -Skipped $skipped
$failures = if ($failed -gt 0) {
    " (failed: {0} tests, {1} blocks, {2} containers)" -f $result.FailedCount, $result.FailedBlocksCount, $result.FailedContainersCount
} else { '' }
Write-Host ("Pester: {0} passed, {1} failed{2}, {3} skipped, {4:0.0} s." -f $passed, $failed, $failures, $skipped, $clock.Elapsed.TotalSeconds)
if ($failed -gt 0) { exit 1 }
exit 0

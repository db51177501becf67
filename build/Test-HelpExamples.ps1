#requires -Version 7.0
<#
.SYNOPSIS
    Runs every example of the markdown help, each in a fresh pwsh with the staged module imported.
.DESCRIPTION
    For each "### Example" of each module/help/*.md file, the ```powershell code blocks are written to a script
    that imports the module and runs them, in a child pwsh of its own (with its own start-up cache, so pwsh
    processes that run at the same time cannot corrupt a shared one). An example fails when it exits with an error,
    writes to the error stream or runs longer than -TimeoutSec. Writes one line per example and exits 1 when any
    failed.
.PARAMETER ModulePath
    The staged module folder, as build.ps1 -Task Build leaves it in out/SocketCmdlets.
.PARAMETER HelpPath
    The folder of the markdown files.
.PARAMETER Filter
    Runs only the examples of the files whose name matches this wildcard, such as Send-*.
.PARAMETER TimeoutSec
    The longest time one example may run.
.EXAMPLE
    dotnet pwsh -NoProfile -File build/Test-HelpExamples.ps1
.EXAMPLE
    dotnet pwsh -NoProfile -File build/Test-HelpExamples.ps1 -Filter Receive-SocketData* -TimeoutSec 30
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SocketCmdlets'),
    [string] $HelpPath = (Join-Path $PSScriptRoot '../module/help'),
    [string] $Filter = '*',
    [int] $TimeoutSec = 60
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
# Child pwsh processes with their own start-up cache.
Import-Module (Join-Path $PSScriptRoot '../tools/DevTools.psm1')
$work = Join-Path ([System.IO.Path]::GetTempPath()) "help-examples-$PID"
$null = New-Item -ItemType Directory -Force -Path $work

function Get-Example {
    <# The examples of one markdown file: title and the code of its ```powershell blocks. #>
    param([string] $Path)
    $inExamples = $false
    $title = $null
    $code = $null
    $fence = $false
    foreach ($line in [System.IO.File]::ReadAllLines($Path)) {
        if (-not $fence -and $line -match '^##\s+(.+?)\s*$') {
            if ($title) { [pscustomobject]@{ Title = $title; Code = ($code -join "`n") }; $title = $null }
            $inExamples = $Matches[1] -eq 'EXAMPLES'
            continue
        }
        if (-not $inExamples) { continue }
        if (-not $fence -and $line -match '^###\s+(.+?)\s*$') {
            if ($title) { [pscustomobject]@{ Title = $title; Code = ($code -join "`n") } }
            $title = $Matches[1]
            $code = [System.Collections.Generic.List[string]]::new()
            continue
        }
        if ($line -match '^\s{0,3}```\s*(\w*)') {
            if (-not $fence) { $fence = $Matches[1] -in 'powershell', 'pwsh', 'ps1', '' ; if (-not $fence) { $fence = 'other' } }
            else { $fence = $false }
            continue
        }
        if ($fence -eq $true -and $title) { $code.Add($line) }
    }
    if ($title) { [pscustomobject]@{ Title = $title; Code = ($code -join "`n") } }
}

$failed = 0
$count = 0
try {
    foreach ($file in Get-ChildItem -LiteralPath $HelpPath -Filter '*.md' | Where-Object Name -Like $Filter | Sort-Object Name) {
        $n = 0
        foreach ($example in Get-Example $file.FullName) {
            $n++
            $count++
            $name = "$($file.BaseName)-$n"
            $script = Join-Path $work "$name.ps1"
            $prologue = "Import-Module '$($ModulePath.Replace("'", "''"))'"
            [System.IO.File]::WriteAllText($script, "$prologue`n$($example.Code)`n", [System.Text.UTF8Encoding]::new($false))
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $run = $null
            $problem = $null
            try {
                $run = Start-ChildPwsh -Wait -ToolManifest -File $script -CacheHome (Join-Path $work "cache-$name") -TimeoutSec $TimeoutSec
            } catch {
                # Start-ChildPwsh stopped it (by its id, with its children).
                $problem = "did not finish within $TimeoutSec s"
            }
            $stdout = if ($run) { $run.Output } else { @() }
            $stderr = if ($run) { $run.Errors } else { '' }
            if (-not $problem) {
                $problem = if ($run.ExitCode -ne 0) { "exited with code $($run.ExitCode)" }
                elseif ($stderr -and $stderr.Trim()) { 'wrote to the error stream' }
            }
            if ($problem) {
                $failed++
                Write-Host "FAIL $($file.BaseName) / $($example.Title): $problem ($([int]$clock.Elapsed.TotalSeconds) s)" -ForegroundColor Red
                $stdout | ForEach-Object { "    out: $_" } | Write-Host
                if ($stderr) { $stderr -split "`n" | ForEach-Object { "    err: $_" } | Write-Host }
            } else {
                Write-Host "ok   $($file.BaseName) / $($example.Title) ($([math]::Round($clock.Elapsed.TotalSeconds, 1)) s)"
                if ($VerbosePreference -ne 'SilentlyContinue') { $stdout | ForEach-Object { "    $_" } | Write-Host }
            }
        }
    }
} finally {
    Remove-Item -Recurse -Force -LiteralPath $work -ErrorAction SilentlyContinue
}

Write-Host "$($count - $failed) of $count examples passed."
if ($failed -gt 0) { exit 1 }

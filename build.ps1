#requires -Version 7.0
<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks SocketCmdlets.
.DESCRIPTION
    Each task runs once per call, after the tasks it depends on (the table $Tasks at the end): -Task Build,Test builds
    once. Helpers shared with the tests and the benchmark (child pwsh with its own start-up cache, ...) are in
    tools/DevTools.psm1.

    Build  compiles the assemblies and stages an importable module in out/SocketCmdlets (DLLs, manifest, format
           file, MAML help generated from module/help/*.md, about help).
    Install installs the programs the tests talk to (socat, nc, curl, redis-server, openssl, iproute2, python3,
           iperf3, nmap, Mono, tmux) from Debian's packages when they are missing and this machine can (root or sudo,
           apt-get); elsewhere it warns and the tests that need them fail naming the package.
    Test   depends on Package (so Build) and Install; runs the xunit suites (the engine's on .NET 10, 8 and 9 and, under Mono or .NET Framework, net472),
           the Pester suite (Pester 5.7.1 is restored from NuGet) and the stress suite at its quick size, and ends with
           one line "N passed, N failed" for the whole run. Exits 1 when anything failed.
    Demo   builds, then runs a client-server exchange with the module and prints what each side said.
    Package builds and compresses the staged module into out/package/SocketCmdlets.<version>.nupkg, the package a
           user publishes to the PowerShell Gallery (Publish-PSResource -NupkgPath ...).
    Stress builds, then runs the stress and fault suite (tests/stress) in a child pwsh at full size, or with -Quick at
           the size the Test task runs it, and prints every figure it measured as a table at the end (also written
           to out/stress/results.md). SOCKETCMDLETS_STRESS_SEED=<n> replays the random bad-input driver's seed <n>.
    Bench  depends on Build (a help-generation failure is only a warning when Build runs only for Bench) and Install
           (iperf3, socat, nmap); builds the raw .NET peers (bench/RawPeers, not part of the module) and runs the benchmark suite
           (bench/Invoke-Benchmark.ps1) in a child pwsh: the module against raw .NET and iperf3 on 127.0.0.1, a table
           on the console and in out/bench/results.md and results.json. -Quick is the CI-sized run (about two minutes,
           asserts no figure). -Scenario runs only those scenarios (the names declared in bench/Scenarios.psd1).
    Clean  removes out/ and every bin/ and obj/ folder.
.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 -Task Demo
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Test -Configuration Release
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Stress -Quick
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Bench -Quick
#>
[CmdletBinding()]
param(
    # One task or several (-Task Build,Test; from pwsh -File also "Build,Test"), the names of the $Tasks table below.
    [ArgumentCompleter({
            param($commandName, $parameterName, $wordToComplete)
            # The names come from the $Tasks table of this very file, so they are written once.
            $ast = [System.Management.Automation.Language.Parser]::ParseFile((Join-Path $PSScriptRoot 'build.ps1'), [ref] $null, [ref] $null)
            $table = $ast.Find({ param($n) $n -is [System.Management.Automation.Language.AssignmentStatementAst] -and "$($n.Left)" -eq '$Tasks' }, $false)
            if ($table) {
                $table.Right.Expression.Child.KeyValuePairs | ForEach-Object { "$($_.Item1)" } | Where-Object { $_ -like "$wordToComplete*" }
            }
        })]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Stress: the quick size the Test task runs. Bench: the CI-sized run (64 MiB instead of 1 GiB, fewer iterations).
    [switch] $Quick,

    # Bench: only these scenarios, as bench/Scenarios.psd1 declares them (all by default).
    [ArgumentCompleter({
            param($commandName, $parameterName, $wordToComplete)
            # This script block keeps the file it was written in, so $PSScriptRoot is the repository.
            $table = Join-Path $PSScriptRoot 'bench/Scenarios.psd1'
            if (Test-Path -LiteralPath $table) { (Import-PowerShellDataFile $table).Scenarios.Name | Where-Object { $_ -like "$wordToComplete*" } }
        })]
    [ValidateScript({ $_ -in (Import-PowerShellDataFile (Join-Path $PSScriptRoot 'bench/Scenarios.psd1')).Scenarios.Name },
        ErrorMessage = "'{0}' is not a scenario of bench/Scenarios.psd1.")]
    [string[]] $Scenario
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
if ([Console]::IsOutputRedirected) {
    # A log, not a terminal (CI): plain text here and in every child pwsh, which honours NO_COLOR.
    $PSStyle.OutputRendering = 'PlainText'
    $env:NO_COLOR = '1'
}
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'SocketCmdlets'
$PesterVersion = '5.7.1'
Import-Module (Join-Path $Root 'tools/DevTools.psm1')

function Invoke-Native {
    # Runs a native command and stops the build when it fails.
    param([string] $Command, [string[]] $Arguments)
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "'$Command $($Arguments -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Invoke-BuildChild {
    # A child pwsh from the tool manifest, its output on this console, its start-up cache kept in out/cache/<Name> so
    # later runs start quicker (tools/DevTools.psm1). Returns the exit code.
    param([string] $Name, [string[]] $Arguments)
    Start-ChildPwsh -Wait -ToHost -ToolManifest -ArgumentList $Arguments -CacheHome (Join-Path $Out "cache/$Name") -WorkingDirectory $Root -TimeoutSec 14400
}

function Get-NuGetPackageRoot {
    if ($env:NUGET_PACKAGES) { return $env:NUGET_PACKAGES }
    $line = & dotnet nuget locals global-packages --list
    return ($line -replace '^global-packages:\s*', '').Trim()
}

function Invoke-Build {
    # When Build runs only for Bench, a failure to generate the MAML help is a warning (the benchmark needs the DLLs and
    # manifest only).
    $helpOptional = $Task -contains 'Bench' -and -not ($Task | Where-Object { $_ -in 'Build', 'Package', 'Test', 'Demo', 'Stress' })
    Write-Host "== Build ($Configuration)" -ForegroundColor Cyan
    Invoke-Native dotnet @('build', (Join-Path $Root 'src/SocketCmdlets/SocketCmdlets.csproj'), '-c', $Configuration, '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')
    $bin = Join-Path $Root "src/SocketCmdlets/bin/$Configuration/netstandard2.0"
    if (Test-Path $ModuleOut) { Remove-Item -Recurse -Force $ModuleOut }
    $helpOut = Join-Path $ModuleOut 'en-US'
    $null = New-Item -ItemType Directory -Force -Path $helpOut
    Copy-Item (Join-Path $bin 'SocketCmdlets.dll'), (Join-Path $bin 'SocketCmdlets.Core.dll') $ModuleOut
    Copy-Item (Join-Path $Root 'module/SocketCmdlets.format.ps1xml'), (Join-Path $Root 'LICENSE') $ModuleOut
    Write-StagedManifest (Join-Path $ModuleOut 'SocketCmdlets.psd1')
    Copy-Item (Join-Path $Root 'module/about_SocketCmdlets.help.txt') $helpOut
    $maml = Join-Path $helpOut 'SocketCmdlets.dll-Help.xml'
    $code = Invoke-BuildChild 'help' @('-File', (Join-Path $Root 'build/New-MamlHelp.ps1'), '-ModulePath', $ModuleOut, '-HelpPath', (Join-Path $Root 'module/help'), '-OutFile', $maml)
    if ($code -ne 0) {
        if (-not $helpOptional) { throw "Generating the MAML help failed (exit code $code)." }
        Write-Warning "Generating the MAML help failed (exit code $code); the module is staged without it."
    }
    Write-Host "Module staged in $ModuleOut"
}

function Write-StagedManifest {
    # The staged manifest is the repository's, with the release notes of its version taken from CHANGELOG.md.
    param([string] $Destination)
    $manifest = Get-Content -Raw (Join-Path $Root 'module/SocketCmdlets.psd1')
    $version = (Import-PowerShellDataFile (Join-Path $Root 'module/SocketCmdlets.psd1')).ModuleVersion
    $changelog = Get-Content -Raw (Join-Path $Root 'CHANGELOG.md')
    $match = [regex]::Match($changelog, "(?ms)^## \[$([regex]::Escape($version))\][^\n]*\n(.*?)(?=^## \[|\z)")
    if (-not $match.Success) { throw "CHANGELOG.md has no section for version $version." }
    # Quotes doubled for the single-quoted string; dollars doubled because the text is a -replace substitution.
    $notes = ($match.Groups[1].Value.Trim() -replace "'", "''").Replace('$', '$$')
    $manifest = $manifest -replace "ReleaseNotes\s*=\s*''", "ReleaseNotes = '$notes'"
    Set-Content -Path $Destination -Value $manifest -Encoding utf8NoBOM
}

function Invoke-Package {
    $packageOut = Join-Path $Out 'package'
    if (Test-Path $packageOut) { Remove-Item -Recurse -Force $packageOut }
    $null = New-Item -ItemType Directory -Force -Path $packageOut
    $code = Invoke-BuildChild 'package' @('-Command', "Compress-PSResource -Path '$ModuleOut' -DestinationPath '$packageOut'; exit `$(if (`$?) { 0 } else { 1 })")
    $nupkg = Get-ChildItem -Path $packageOut -Filter *.nupkg | Select-Object -First 1
    if ($code -ne 0 -or -not $nupkg) { throw "Compress-PSResource did not produce a package in $packageOut." }
    Write-Host "Package: $($nupkg.FullName)"
}

function Read-TrxCounts {
    param([string] $Folder)
    $passed = 0; $failed = 0
    foreach ($file in Get-ChildItem -Path $Folder -Filter *.trx -Recurse -ErrorAction SilentlyContinue) {
        [xml] $trx = Get-Content -Raw $file.FullName
        $counters = $trx.TestRun.ResultSummary.Counters
        $passed += [int] $counters.passed
        $failed += [int] $counters.failed + [int] $counters.error + [int] $counters.timeout + [int] $counters.aborted
    }
    [pscustomobject]@{ Passed = $passed; Failed = $failed }
}

function Install-TestPeer {
    # The Install task. The interop tests talk to real third-party programs, and the benchmark (bench/, and its test
    # tests/pester/Bench.Tests.ps1) compares with iperf3, socat and (Test-SocketConnection) nmap -sT. Mono runs the
    # engine suite's net472 build (mono-devel: the runtime with its facades).
    Install-DebianPackage -For 'The interop tests that need them' -Wanted ([ordered]@{
            socat = 'socat'; nc = 'netcat-openbsd'; curl = 'curl'; 'redis-server' = 'redis-server'; openssl = 'openssl'; ip = 'iproute2'; python3 = 'python3'; iperf3 = 'iperf3'
            mono = 'mono-devel'; nmap = 'nmap' })
    Install-DebianPackage -For 'The Enter-SocketSession tests, which type into a real terminal,' -Wanted ([ordered]@{ tmux = 'tmux' })
}

function Install-DebianPackage {
    # Installs the packages of the missing commands from Debian's packages when this machine can (Debian-like, root
    # or sudo; noninteractive); elsewhere whatever needs them fails and names the package.
    param([string] $For, [System.Collections.Specialized.OrderedDictionary] $Wanted)
    $missing = @($Wanted.Keys | Where-Object { -not (Get-Command $_ -CommandType Application -ErrorAction SilentlyContinue) } | ForEach-Object { $Wanted[$_] })
    if ($missing.Count -eq 0) { return }
    if (-not $IsLinux -or -not (Get-Command apt-get -ErrorAction SilentlyContinue)) {
        Write-Warning "Not installed, and no apt-get to install them: $($missing -join ', '). $For will fail."
        return
    }
    # (An 'if' that yields @() assigns $null, so root and sudo are told apart by a string.)
    $via = if ((& id -u) -eq '0') { 'root' } elseif (Get-Command sudo -ErrorAction SilentlyContinue) { 'sudo' } else { 'none' }
    if ($via -eq 'none') {
        Write-Warning "Cannot install $($missing -join ', ') without root. $For will fail."
        return
    }
    # What apt and dpkg say goes to a log file; the console gets one line.
    $log = Join-Path $Out 'install.log'
    $null = New-Item -ItemType Directory -Force -Path $Out
    Write-Host "== Installing from Debian's packages$(if ($via -eq 'sudo') { ' (with sudo)' }): $($missing -join ', ') (log: $log)" -ForegroundColor Cyan
    $env:DEBIAN_FRONTEND = 'noninteractive'
    $apt = if ($via -eq 'sudo') { 'sudo' } else { 'apt-get' }
    # sudo resets the environment: the frontend goes on the command line too.
    $prefix = if ($via -eq 'sudo') { @('env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get') } else { @() }
    & $apt @prefix update -qq *>> $log
    & $apt @prefix install -y -qq --no-install-recommends @missing *>> $log
    if ($LASTEXITCODE -ne 0) { Write-Warning "apt-get install $($missing -join ' ') failed (exit code $LASTEXITCODE); see $log." }
}

function Invoke-Test {
    $results = Join-Path $Out 'test-results'
    if (Test-Path $results) { Remove-Item -Recurse -Force $results }
    $null = New-Item -ItemType Directory -Force -Path $results
    $passed = 0; $failed = 0

    # The engine suite runs on every runtime the module claims (Invoke-EngineSuite); the runspace suite on .NET 10.
    $engine = Invoke-EngineSuite -ResultsFolder (Join-Path $results 'SocketCmdlets.Core.Tests')
    $passed += $engine.Passed; $failed += $engine.Failed
    $runspace = Invoke-XunitRun -Project 'SocketCmdlets.Tests' -ResultsFolder (Join-Path $results 'SocketCmdlets.Tests')
    $passed += $runspace.Passed; $failed += $runspace.Failed

    Write-Host '== Pester' -ForegroundColor Cyan
    $pester = Get-PesterModule
    $summary = Join-Path $results 'pester-summary.json'
    $code = Invoke-BuildChild 'pester' @('-File', (Join-Path $Root 'tests/pester/Invoke-PesterSuite.ps1'), '-PesterPath', $pester, '-ModulePath', $ModuleOut, '-SummaryPath', $summary, '-ResultPath', (Join-Path $results 'pester.xml'))
    if (Test-Path $summary) {
        $p = Get-Content -Raw $summary | ConvertFrom-Json
        $passed += $p.Passed; $failed += $p.Failed
    } else {
        Write-Host "The Pester run ended (exit code $code) without a summary." -ForegroundColor Red
        $failed += 1
    }

    $stress = Invoke-StressSuite -Size quick -ResultsFolder $results
    $passed += $stress.Passed; $failed += $stress.Failed

    Write-Host ''
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-XunitRun {
    # One dotnet test run of tests/<Project> (one -Framework, or the project's only one), its results as trx in
    # -ResultsFolder; returns the counts. A run that broke before it could report counts as one failure.
    param([string] $Project, [string] $ResultsFolder, [string] $Framework, [string[]] $BuildArguments = @())
    $label = if ($Framework) { "$Project ($Framework)" } else { $Project }
    Write-Host "== xunit: $label" -ForegroundColor Cyan
    $arguments = @('test', (Join-Path $Root "tests/$Project/$Project.csproj"), '-c', $Configuration, '--nologo') + $BuildArguments
    if ($Framework) { $arguments += @('-f', $Framework) }
    $arguments += @('--logger', 'trx', '--logger', 'console;verbosity=normal', '--results-directory', $ResultsFolder, '--', 'RunConfiguration.TestSessionTimeout=1200000')
    $saved = $env:XDG_CACHE_HOME
    # The runspace suite hosts PowerShell in the test process: it gets a start-up cache of its own too.
    $env:XDG_CACHE_HOME = New-CacheHome (Join-Path $Out "cache/$Project")
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    try {
        & dotnet @arguments | Out-Host
        $exit = $LASTEXITCODE
    } finally {
        $env:XDG_CACHE_HOME = $saved
    }
    $counts = Read-TrxCounts $ResultsFolder
    if ($exit -ne 0 -and $counts.Failed -eq 0) {
        # The run broke before it could report (a build error or a crashed test host): count it as a failure.
        Write-Host "dotnet test for $label exited with $exit." -ForegroundColor Red
        $counts.Failed = 1
    }
    Write-Host ("{0}: {1} passed, {2} failed in {3:0} s" -f $label, $counts.Passed, $counts.Failed, $clock.Elapsed.TotalSeconds)
    $counts
}

function Invoke-EngineSuite {
    <#
    .SYNOPSIS
        Runs the engine xunit suite on every runtime the module claims: .NET 10, .NET 8 and 9 (PowerShell 7.4 and 7.5;
        self-contained from NuGet's runtime packs, so no shared runtime need be installed) and net472 (Windows
        PowerShell 5.1's class library: .NET Framework on Windows, Mono elsewhere, installed by Install-TestPeer). One
        restore and build for the four, then one run each. Returns the counts of all runs.
    #>
    param([string] $ResultsFolder)
    $project = Join-Path $Root 'tests/SocketCmdlets.Core.Tests/SocketCmdlets.Core.Tests.csproj'
    $all = @('-p:OtherRuntimes=true')
    Write-Host '== Build: the engine suite for net10.0, net8.0, net9.0 and net472' -ForegroundColor Cyan
    & dotnet build $project -c $Configuration --nologo -v quiet -clp:ErrorsOnly @all | Out-Host
    if ($LASTEXITCODE -ne 0) {
        Write-Host "Building the engine suite failed (exit code $LASTEXITCODE)." -ForegroundColor Red
        return [pscustomobject]@{ Passed = 0; Failed = 1 }
    }
    # .NET 10 in the foreground, its output on the console; the other runtimes then run at the same time (the suite
    # mostly waits on sockets), each into a log of its own that is printed when it fails.
    $counts = Invoke-XunitRun -Project 'SocketCmdlets.Core.Tests' -Framework 'net10.0' -ResultsFolder (Join-Path $ResultsFolder 'net10.0') -BuildArguments ($all + '--no-build')
    $passed = $counts.Passed; $failed = $counts.Failed
    $others = @('net8.0', 'net9.0', 'net472' | Where-Object {
            if ($_ -eq 'net472' -and -not $IsWindows -and -not (Get-Command mono -CommandType Application -ErrorAction SilentlyContinue)) {
                Write-Warning 'The engine suite does not run for net472: Mono is not installed (Debian package mono-devel).'
                return $false
            }
            $true
        })
    Write-Host "== xunit: SocketCmdlets.Core.Tests ($($others -join ', '), at the same time)" -ForegroundColor Cyan
    $runs = foreach ($framework in $others) {
        $folder = Join-Path $ResultsFolder $framework
        $null = New-Item -ItemType Directory -Force -Path $folder
        $info = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
        foreach ($a in @('test', $project, '-c', $Configuration, '--nologo') + $all + @('--no-build', '-f', $framework, '--logger', 'trx',
                '--results-directory', $folder, '--', 'RunConfiguration.TestSessionTimeout=1200000')) { $info.ArgumentList.Add($a) }
        $info.UseShellExecute = $false
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $info.Environment['XDG_CACHE_HOME'] = Join-Path $Out "cache/engine-$framework"
        $process = [System.Diagnostics.Process]::Start($info)
        [pscustomobject]@{
            Framework = $framework; Folder = $folder; Process = $process; Clock = [System.Diagnostics.Stopwatch]::StartNew()
            Out = $process.StandardOutput.ReadToEndAsync(); Err = $process.StandardError.ReadToEndAsync()
        }
    }
    foreach ($run in $runs) {
        # The session timeout above bounds each run; this bound only catches a test host that hangs past it.
        if (-not $run.Process.WaitForExit(1500 * 1000)) { $run.Process.Kill($true); $null = $run.Process.WaitForExit(10000) }
        $run.Process.WaitForExit()
        $log = Join-Path $run.Folder 'dotnet-test.log'
        Set-Content -LiteralPath $log -Value ($run.Out.Result + $run.Err.Result) -Encoding utf8NoBOM
        $counts = Read-TrxCounts $run.Folder
        if ($run.Process.ExitCode -ne 0 -and $counts.Failed -eq 0) { $counts.Failed = 1 }
        if ($counts.Failed -gt 0) {
            Write-Host "== xunit: SocketCmdlets.Core.Tests ($($run.Framework)) failed; its output:" -ForegroundColor Red
            Get-Content -LiteralPath $log | Out-Host
        }
        Write-Host ("SocketCmdlets.Core.Tests ({0}): {1} passed, {2} failed in {3:0} s" -f $run.Framework, $counts.Passed, $counts.Failed, $run.Clock.Elapsed.TotalSeconds)
        $passed += $counts.Passed; $failed += $counts.Failed
        $run.Process.Dispose()
    }
    [pscustomobject]@{ Passed = $passed; Failed = $failed }
}

function Get-PesterModule {
    # Restores Pester from NuGet (build/Tools.proj) and returns the path of its Pester.psd1.
    Invoke-Native dotnet @('restore', (Join-Path $Root 'build/Tools.proj'), '--nologo', '-v', 'quiet')
    $pester = Join-Path (Get-NuGetPackageRoot) "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $pester)) { throw "Pester $PesterVersion was not found at $pester after the restore." }
    $pester
}

function Invoke-StressSuite {
    <#
    .SYNOPSIS
        Runs tests/stress at one size (SOCKETCMDLETS_STRESS=full|quick) in a child pwsh, through
        tests/pester/Invoke-PesterSuite.ps1, then prints the figures the tests measured as a table and writes it to
        out/stress/results.md. Returns the counts (Passed, Failed, Skipped).
    #>
    param(
        [ValidateSet('full', 'quick')] [string] $Size,
        # Where the summary and the XML results go.
        [string] $ResultsFolder
    )
    Write-Host "== Stress ($Size)" -ForegroundColor Cyan
    $pester = Get-PesterModule
    $stressOut = Join-Path $Out 'stress'
    $null = New-Item -ItemType Directory -Force -Path $stressOut, $ResultsFolder
    $figures = Join-Path $stressOut "figures-$Size.jsonl"
    $summary = Join-Path $ResultsFolder "stress-$Size-summary.json"
    Remove-Item -LiteralPath $figures, $summary -ErrorAction SilentlyContinue

    # The child inherits these; the seed (SOCKETCMDLETS_STRESS_SEED), when set, passes through as it is.
    $saved = @{ Size = $env:SOCKETCMDLETS_STRESS; Results = $env:SOCKETCMDLETS_STRESS_RESULTS }
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    try {
        $env:SOCKETCMDLETS_STRESS = $Size
        $env:SOCKETCMDLETS_STRESS_RESULTS = $figures
        $code = Invoke-BuildChild "stress-$Size" @('-File', (Join-Path $Root 'tests/pester/Invoke-PesterSuite.ps1'), '-PesterPath', $pester,
            '-ModulePath', $ModuleOut, '-SummaryPath', $summary, '-ResultPath', (Join-Path $ResultsFolder "stress-$Size.xml"),
            '-Path', (Join-Path $Root 'tests/stress'))
    } finally {
        $env:SOCKETCMDLETS_STRESS = $saved.Size
        $env:SOCKETCMDLETS_STRESS_RESULTS = $saved.Results
    }
    $clock.Stop()

    $counts = [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 }
    if (Test-Path $summary) {
        $s = Get-Content -Raw $summary | ConvertFrom-Json
        $counts = [pscustomobject]@{ Passed = [int] $s.Passed; Failed = [int] $s.Failed; Skipped = [int] $s.Skipped }
    } else {
        Write-Host "The stress run ended (exit code $code) without a summary." -ForegroundColor Red
    }
    Write-StressTable -Size $Size -FiguresPath $figures -Counts $counts -Seconds $clock.Elapsed.TotalSeconds -Destination (Join-Path $stressOut 'results.md')
    $counts
}

function Write-StressTable {
    # Prints the figures of a stress run (JSON lines) as a markdown table and writes the same text to -Destination.
    param([string] $Size, [string] $FiguresPath, $Counts, [double] $Seconds, [string] $Destination)
    $rows = @(if (Test-Path $FiguresPath) { Get-Content $FiguresPath | Where-Object { $_ } | ForEach-Object { $_ | ConvertFrom-Json } })
    $load = if (Test-Path '/proc/loadavg') { ((Get-Content '/proc/loadavg') -split ' ')[0..2] -join ' ' } else { 'n/a' }
    $lines = [System.Collections.Generic.List[string]]::new()
    $lines.Add('# SocketCmdlets stress results')
    $lines.Add('')
    $lines.Add(("Size {0}; {1:yyyy-MM-dd HH:mm} UTC; {2} logical processors, load average {3} at the end; {4} passed, {5} failed, {6} skipped; {7:0} s." -f
            $Size, [datetime]::UtcNow, [Environment]::ProcessorCount, $load, $Counts.Passed, $Counts.Failed, $Counts.Skipped, $Seconds))
    $lines.Add('')
    $lines.Add('| Scenario | Figure | Value |')
    $lines.Add('|---|---|---|')
    foreach ($r in $rows) {
        $value = if ($r.Unit) { "$($r.Value) $($r.Unit)" } else { $r.Value }
        $lines.Add("| $($r.Scenario) | $($r.Figure -replace '\|', '\|') | $($value -replace '\|', '\|') |")
    }
    if ($rows.Count -eq 0) { $lines.Add('| (none) | the run wrote no figures | |') }
    Set-Content -LiteralPath $Destination -Value $lines -Encoding utf8NoBOM
    Write-Host ''
    $lines | ForEach-Object { Write-Host $_ }
    Write-Host "(also in $Destination)"
}

function Invoke-Stress {
    $size = if ($Quick) { 'quick' } else { 'full' }
    $counts = Invoke-StressSuite -Size $size -ResultsFolder (Join-Path $Out 'stress')
    Write-Host ''
    Write-Host "$($counts.Passed) passed, $($counts.Failed) failed"
    if ($counts.Failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Write-Host '== Demo: a client-server exchange over loopback' -ForegroundColor Cyan
    $code = Invoke-BuildChild 'demo' @('-File', (Join-Path $Root 'examples/Demo.ps1'), '-ModulePath', $ModuleOut)
    if ($code -ne 0) { throw "The demo failed (exit code $code)." }
}

function Invoke-Bench {
    $mode = if ($Quick) { 'quick' } else { 'full' }
    Write-Host "== Benchmark ($mode)" -ForegroundColor Cyan
    # The raw .NET peers are built apart from the module and never staged in it.
    $peers = Join-Path $Out 'bench/RawPeers'
    Invoke-Native dotnet @('build', (Join-Path $Root 'bench/RawPeers/RawPeers.csproj'), '-c', 'Release', '-o', $peers, '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')
    $arguments = @('-File', (Join-Path $Root 'bench/Invoke-Benchmark.ps1'), '-ModulePath', $ModuleOut, '-RawPeersPath', (Join-Path $peers 'RawPeers.dll'), '-OutDir', (Join-Path $Out 'bench'))
    if ($Quick) { $arguments += '-Quick' }
    if ($Scenario) { $arguments += @('-Scenario', ($Scenario -join ',')) }
    $code = Invoke-BuildChild 'bench' $arguments
    if ($code -ne 0) { throw "The benchmark failed (exit code $code)." }
}

function Invoke-Clean {
    if (Test-Path $Out) { Remove-Item -Recurse -Force $Out }
    Get-ChildItem -Path (Join-Path $Root 'src'), (Join-Path $Root 'tests'), (Join-Path $Root 'build'), (Join-Path $Root 'bench') -Directory -Recurse -Include bin, obj -ErrorAction SilentlyContinue |
        Remove-Item -Recurse -Force
    Write-Host 'Cleaned.'
}

# The tasks: what each depends on and what it runs. Each runs at most once per call, after its dependencies.
$Tasks = [ordered]@{
    Clean   = @{ DependsOn = @(); Run = { Invoke-Clean } }
    Build   = @{ DependsOn = @(); Run = { Invoke-Build } }
    Install = @{ DependsOn = @(); Run = { Install-TestPeer } }
    Package = @{ DependsOn = @('Build'); Run = { Invoke-Package } }
    Test    = @{ DependsOn = @('Package', 'Install'); Run = { Invoke-Test } }
    Demo    = @{ DependsOn = @('Build'); Run = { Invoke-Demo } }
    Stress  = @{ DependsOn = @('Build'); Run = { Invoke-Stress } }
    Bench   = @{ DependsOn = @('Build', 'Install'); Run = { Invoke-Bench } }
}
$Done = [System.Collections.Generic.HashSet[string]]::new()
$Running = [System.Collections.Generic.HashSet[string]]::new()

function Invoke-Task {
    # Runs a task after its dependencies, once; a cycle in the table is a bug and stops the build.
    param([string] $Name)
    if ($Done.Contains($Name)) { return }
    if (-not $Running.Add($Name)) { throw "The build tasks depend on each other in a cycle through '$Name'." }
    foreach ($dependency in $Tasks[$Name].DependsOn) { Invoke-Task $dependency }
    & $Tasks[$Name].Run
    $null = $Running.Remove($Name)
    $null = $Done.Add($Name)
}

$Task = @($Task -split ',' | ForEach-Object Trim | Where-Object { $_ })
foreach ($t in $Task) {
    if (-not $Tasks.Contains($t)) { throw "Unknown task '$t'; the tasks are $($Tasks.Keys -join ', ')." }
}
foreach ($t in $Task) { Invoke-Task $t }

# Dot-sourced by Invoke-Benchmark.ps1: a copy of this PowerShell compiled ahead of time (ReadyToRun), for the import
# scenario. PowerShell's own releases (MSI, deb, rpm, tar.gz, zip) are ReadyToRun since 7.1 (PowerShell/PowerShell
# pull request 12361); the .NET tool package that the repository's tool manifest restores is IL only (dotnet/sdk issue
# 10801), so every PowerShell method that Import-Module runs for the first time is compiled by the JIT while it is
# timed. That cost belongs to the tool package, not to the module: measured on the tool's IL, an empty manifest takes
# about 80 ms and a one-cmdlet binary module about 105 ms on the two-CPU CI machine, so the < 100 ms target would be
# out of reach of any binary module. The copy makes the import figure what users see with PowerShell as released.

function Test-ReadyToRun {
    # Whether an assembly carries precompiled code (a ReadyToRun header); $null when it is no managed assembly.
    param([string] $Path)
    $stream = [System.IO.File]::OpenRead($Path)
    try {
        $reader = [System.Reflection.PortableExecutable.PEReader]::new($stream)
        try {
            $cor = $reader.PEHeaders.CorHeader
            if (-not $cor) { return $null }
            return $cor.ManagedNativeHeaderDirectory.Size -gt 0
        } finally { $reader.Dispose() }
    } catch [System.BadImageFormatException] {
        return $null
    } finally { $stream.Dispose() }
}

function Get-Crossgen2 {
    # The crossgen2 compiler of the running .NET version for this platform, restored from NuGet as the SDK restores it
    # for PublishReadyToRun (the SDK picks the version).
    param([string] $WorkFolder, [string] $RuntimeId)
    $project = Join-Path $WorkFolder 'Crossgen2.csproj'
    $framework = "net$([System.Environment]::Version.Major).0"
    Set-Content -LiteralPath $project -Encoding utf8NoBOM -Value @"
<Project Sdk="Microsoft.NET.Sdk">
  <!-- Restored only, never built: PublishReadyToRun makes the SDK download its crossgen2 pack for the benchmark. -->
  <PropertyGroup>
    <TargetFramework>$framework</TargetFramework>
    <RuntimeIdentifier>$RuntimeId</RuntimeIdentifier>
    <PublishReadyToRun>true</PublishReadyToRun>
    <SelfContained>false</SelfContained>
  </PropertyGroup>
</Project>
"@
    $log = & dotnet restore $project --nologo -v quiet 2>&1
    if ($LASTEXITCODE -ne 0) { throw "restoring crossgen2 for $RuntimeId failed: $($log -join ' ')" }
    $assets = Get-Content -Raw -LiteralPath (Join-Path $WorkFolder 'obj/project.assets.json') | ConvertFrom-Json
    $packages = $assets.project.frameworks.$framework.downloadDependencies |
        Where-Object { $_.name -like 'Microsoft.NETCore.App.Crossgen2*' } | Select-Object -First 1
    if (-not $packages) { throw "the SDK named no crossgen2 pack for $RuntimeId" }
    $version = $packages.version.Trim('[', ']').Split(',')[0].Trim()
    $root = $assets.project.restore.packagesPath
    $folder = Join-Path $root "$($packages.name.ToLowerInvariant())/$version/tools"
    $exe = Join-Path $folder $(if ($IsWindows) { 'crossgen2.exe' } else { 'crossgen2' })
    if (-not (Test-Path -LiteralPath $exe)) {
        # Older packs carry crossgen2 as a framework-dependent crossgen2.dll.
        $dll = Join-Path $folder 'crossgen2.dll'
        if (Test-Path -LiteralPath $dll) { return [pscustomobject]@{ FilePath = 'dotnet'; Prefix = @($dll); Version = $version } }
        throw "no crossgen2 in $folder"
    }
    [pscustomobject]@{ FilePath = $exe; Prefix = @(); Version = $version }
}

function Get-ReadyToRunPwsh {
    <#
        Returns the pwsh.dll of a ReadyToRun copy of this PowerShell under <repository>/out/pwsh-r2r (made once per
        PowerShell version and platform, about a minute on two CPUs), or the reason there is none. When this
        PowerShell is already ReadyToRun (a released build), it is itself the answer.
    #>
    param([int] $TimeoutSec = 600)
    $sma = Join-Path $PSHOME 'System.Management.Automation.dll'
    if (Test-ReadyToRun $sma) { return [pscustomobject]@{ PwshDll = $null; Reason = 'this PowerShell is compiled ahead of time' } }
    $arch = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant()
    $os = if ($IsWindows) { 'win' } elseif ($IsMacOS) { 'osx' } else { 'linux' }
    $rid = "$os-$arch"
    $target = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot "../out/pwsh-r2r/$($PSVersionTable.PSVersion)-$rid"))
    $done = Join-Path $target '.complete'
    if (Test-Path -LiteralPath $done) { return [pscustomobject]@{ PwshDll = (Join-Path $target 'pwsh.dll'); Reason = $null } }

    $work = Join-Path ([System.IO.Path]::GetTempPath()) "socketcmdlets-r2r-$PID-$([guid]::NewGuid().ToString('N'))"
    $null = New-Item -ItemType Directory -Path $work
    try {
        $crossgen = Get-Crossgen2 -WorkFolder $work -RuntimeId $rid
        Write-Host "   Compiling PowerShell $($PSVersionTable.PSVersion) ahead of time with crossgen2 $($crossgen.Version) into $target (once)"
        $copy = Join-Path $work 'pwsh'
        Copy-Item -LiteralPath $PSHOME -Destination $copy -Recurse
        $framework = [System.Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory()
        $inputs = @(Get-ChildItem -LiteralPath $PSHOME -Filter *.dll | Where-Object { (Test-ReadyToRun $_.FullName) -eq $false })
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $devTools = Join-Path $PSScriptRoot '../tools/DevTools.psm1'
        $failed = $inputs | ForEach-Object -ThrottleLimit ([System.Environment]::ProcessorCount) -Parallel {
            # Start-TestProcess passes every argument as it is: PowerShell's own native-argument handling would
            # expand the '*.dll' patterns that crossgen2 must see.
            Import-Module $using:devTools
            $c = $using:crossgen
            $name = $_.Name
            $arguments = @($c.Prefix) + @($_.FullName, '-o', (Join-Path $using:copy $name),
                '-r', (Join-Path $PSHOME '*.dll'), '-r', (Join-Path $using:framework '*.dll'),
                "--targetos:$($using:os)", "--targetarch:$($using:arch)", '-O')
            $process = Start-TestProcess $c.FilePath $arguments
            try {
                Wait-TestProcess $process -TimeoutSec $using:TimeoutSec
                if ($process.ExitCode -ne 0) { "${name}: $(($process.StdErr -split "`n" | Select-Object -First 2) -join ' ')" }
            } catch {
                "${name}: $($_.Exception.Message)"
            } finally {
                Stop-TestProcess $process
            }
        } -TimeoutSeconds $TimeoutSec
        if ($failed) { throw "crossgen2 failed: $($failed -join '; ')" }
        if ($clock.Elapsed.TotalSeconds -ge $TimeoutSec) { throw "compiling took longer than $TimeoutSec s" }
        if (-not (Test-ReadyToRun (Join-Path $copy 'System.Management.Automation.dll'))) { throw 'the compiled copy is not ReadyToRun' }
        Write-Host "   Compiled $($inputs.Count) assemblies in $([int] $clock.Elapsed.TotalSeconds) s"
        $null = New-Item -ItemType Directory -Force -Path (Split-Path $target)
        if (Test-Path -LiteralPath $target) { Remove-Item -LiteralPath $target -Recurse -Force }
        Move-Item -LiteralPath $copy -Destination $target
        Set-Content -LiteralPath $done -Value "crossgen2 $($crossgen.Version)"
        [pscustomobject]@{ PwshDll = (Join-Path $target 'pwsh.dll'); Reason = $null }
    } catch {
        [pscustomobject]@{ PwshDll = $null; Reason = "no ReadyToRun copy: $($_.Exception.Message)" }
    } finally {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
}

<#
.SYNOPSIS
    The development helpers of SocketCmdlets, written once and imported by build.ps1, the Pester and stress suites
    and the benchmark: child pwsh processes with their own start-up cache, free ports, peer programs, test
    certificates and Wait-Until.
.DESCRIPTION
    Import-Module ./tools/DevTools.psm1. Nothing here references the SocketCmdlets module, so the build can use it
    before the module exists. Every wait is bounded; every process is started here and stopped by its id; every
    address is loopback.
#>

Set-StrictMode -Version Latest

# The repository root: tools/ is one level below it.
$script:RepositoryRoot = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '..')).ProviderPath

#region waiting

function Wait-Until {
    <#
    .SYNOPSIS
        Polls a condition until it is true; throws (failing the test) when it is still false after -TimeoutSec.
    .EXAMPLE
        Wait-Until -TimeoutSec 10 { $ps.Streams.Verbose.Count -gt 0 }
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)]
        [scriptblock] $Condition,

        [ValidateRange(0.1, 600)]
        [double] $TimeoutSec = 10,

        [ValidateRange(1, 5000)]
        [int] $IntervalMs = 25,

        # Says what was awaited, for the failure message.
        [string] $Because
    )
    # The condition is the caller's script block: it runs in the caller's scope and sees the caller's variables.
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    while ($true) {
        if (& $Condition) { return }
        if ($clock.Elapsed.TotalSeconds -ge $TimeoutSec) {
            $what = if ($Because) { $Because } else { "{ $($Condition.ToString().Trim()) }" }
            throw "Wait-Until: still waiting after $TimeoutSec s for $what."
        }
        Start-Sleep -Milliseconds $IntervalMs
    }
}

#endregion

#region processes

function Get-PwshCommand {
    <#
    .SYNOPSIS
        How to start another pwsh: FilePath and the arguments (Prefix) that come before pwsh's own. By default the
        same pwsh as this one (pwsh from the local tool manifest runs as 'dotnet pwsh.dll'); with -ToolManifest
        'dotnet pwsh', which must run inside the repository; with -PwshDll another PowerShell's pwsh.dll, run by dotnet.
    #>
    [CmdletBinding()]
    param([switch] $ToolManifest, [string] $PwshDll)
    if ($ToolManifest) { return [pscustomobject]@{ FilePath = 'dotnet'; Prefix = @('pwsh') } }
    $exe = [System.Environment]::ProcessPath
    $underDotnet = [System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet'
    if ($PwshDll) { return [pscustomobject]@{ FilePath = $(if ($underDotnet) { $exe } else { 'dotnet' }); Prefix = @($PwshDll) } }
    if ($underDotnet) { return [pscustomobject]@{ FilePath = $exe; Prefix = @((Join-Path $PSHOME 'pwsh.dll')) } }
    [pscustomobject]@{ FilePath = $exe; Prefix = @() }
}

function New-ProcessStartInfo {
    # One ProcessStartInfo for every program the helpers start: arguments one by one, extra environment, no shell.
    param([string] $FilePath, [string[]] $ArgumentList, [hashtable] $Environment, [string] $WorkingDirectory, [bool] $Redirect, [bool] $RedirectInput)
    $info = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
    foreach ($a in $ArgumentList) { $info.ArgumentList.Add([string] $a) }
    if ($Environment) { foreach ($k in $Environment.Keys) { $info.Environment[$k] = [string] $Environment[$k] } }
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $Redirect
    $info.RedirectStandardError = $Redirect
    $info.RedirectStandardInput = $RedirectInput
    if ($WorkingDirectory) { $info.WorkingDirectory = $WorkingDirectory }
    $info
}

function Start-TestProcess {
    <#
    .SYNOPSIS
        Starts a program with its output captured (and its input redirected with -RedirectInput). Returns the
        System.Diagnostics.Process, with ScriptProperties StdOut and StdErr: everything it wrote, once it has exited.
    .DESCRIPTION
        Stop it with Stop-TestProcess (by its id). The output is read as it comes, so a chatty program never blocks on
        a full pipe; with -KeepStreams it is not, and the caller reads StandardOutput itself (a peer that prints its
        port on its first line).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] [string] $FilePath,
        [Parameter(Position = 1)] [string[]] $ArgumentList = @(),
        [hashtable] $Environment = @{},
        [switch] $RedirectInput,
        [switch] $KeepStreams,
        [string] $WorkingDirectory
    )
    $process = [System.Diagnostics.Process]::new()
    $process.StartInfo = New-ProcessStartInfo $FilePath $ArgumentList $Environment $WorkingDirectory $true ([bool] $RedirectInput)
    $null = $process.Start()
    if ($KeepStreams) { return $process }
    # The output is read to its end by tasks (no PowerShell event handlers, which only run when the pipeline is idle).
    $process | Add-Member -NotePropertyName OutTask -NotePropertyValue $process.StandardOutput.ReadToEndAsync()
    $process | Add-Member -NotePropertyName ErrTask -NotePropertyValue $process.StandardError.ReadToEndAsync()
    $process | Add-Member -MemberType ScriptProperty -Name StdOut -Value { if ($this.OutTask.Wait(2000)) { $this.OutTask.Result } else { '(output not complete yet)' } }
    $process | Add-Member -MemberType ScriptProperty -Name StdErr -Value { if ($this.ErrTask.Wait(2000)) { $this.ErrTask.Result } else { '(error output not complete yet)' } }
    $process
}

function Wait-TestProcess {
    <#
    .SYNOPSIS
        Waits (bounded) for a program to exit; throws with what it wrote when it is still running after -TimeoutSec.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] $Process, [double] $TimeoutSec = 20)
    if (-not $Process.WaitForExit([int] ($TimeoutSec * 1000))) {
        $said = if ($Process.PSObject.Properties['OutTask']) { " Output: $($Process.StdOut) Errors: $($Process.StdErr)" } else { '' }
        throw "Process $($Process.Id) ($($Process.StartInfo.FileName)) was still running after $TimeoutSec s.$said"
    }
}

function Stop-TestProcess {
    <#
    .SYNOPSIS
        Stops a program this test started, by its id (its own children too), and releases the object. With -GraceSec
        and a redirected input, its input is closed first and it gets that long to end by itself.
    #>
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline, Position = 0)] $Process, [ValidateRange(0, 60)] [double] $GraceSec = 0)
    process {
        if ($null -eq $Process) { return }
        try {
            if ($GraceSec -gt 0 -and $Process.StartInfo.RedirectStandardInput -and -not $Process.HasExited) {
                try { $Process.StandardInput.Close() } catch { Write-Verbose "Closing the input of $($Process.Id): $_" }
                $null = $Process.WaitForExit([int] ($GraceSec * 1000))
            }
            if (-not $Process.HasExited) {
                $Process.Kill($true)
                $null = $Process.WaitForExit(5000)
            }
        } catch [System.InvalidOperationException] {
            # It ended between the check and the kill.
            Write-Verbose "Process already ended: $_"
        } finally {
            $Process.Dispose()
        }
    }
}

function Assert-Tool {
    <#
    .SYNOPSIS
        Throws (failing the test) when a program is not on the PATH, naming the Debian package to install.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] [string] $Name,
        [Parameter(Mandatory, Position = 1)] [string] $Package
    )
    if (-not (Get-Command -Name $Name -CommandType Application -ErrorAction Ignore)) {
        throw "'$Name' is not installed: install the Debian package '$Package' (apt-get install -y $Package). CI installs it."
    }
}

#endregion

#region child pwsh

function New-CacheHome {
    <#
    .SYNOPSIS
        A folder for a child pwsh's start-up cache (XDG_CACHE_HOME): -Path when given, else a new one under the temp
        folder. pwsh processes that start at the same time and share one cache corrupt it, and every later start then
        dies with 'Stack overflow.'.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([string] $Path)
    if (-not $Path) { $Path = Join-Path ([System.IO.Path]::GetTempPath()) "socketcmdlets-cache-$PID-$([guid]::NewGuid().ToString('n'))" }
    $null = New-Item -ItemType Directory -Force -Path $Path
    $Path
}

function Get-ChildPwshLine {
    # The program and arguments of a child pwsh: optionally inside a network namespace (ip netns exec), then pwsh.
    param([string] $File, [string[]] $ArgumentList, [string] $Namespace, [bool] $ToolManifest, [string] $PwshDll)
    $pwsh = Get-PwshCommand -ToolManifest:$ToolManifest -PwshDll $PwshDll
    $words = @($pwsh.FilePath) + @($pwsh.Prefix) + @('-NoProfile', '-NonInteractive')
    if ($File) { $words += @('-File', $File) }
    $words += @($ArgumentList)
    if ($Namespace) { $words = @('ip', 'netns', 'exec', $Namespace) + $words }
    [pscustomobject]@{ FilePath = $words[0]; ArgumentList = @($words | Select-Object -Skip 1) }
}

function Start-ChildPwsh {
    <#
    .SYNOPSIS
        Starts a child pwsh (-File and its -ArgumentList, or pwsh arguments alone) with its own start-up cache. Without
        -Wait it returns the process as Start-TestProcess does (output captured; stop it with Stop-TestProcess). With
        -Wait it runs it to its end and returns ExitCode, Output (lines) and Errors; with -Wait -ToHost its output goes
        straight to this console and only the exit code is returned.
    .DESCRIPTION
        With -Wait, a child still running after -TimeoutSec is stopped by its id (with its own children) and the call
        throws. The cache is -CacheHome (kept, so later starts are quicker) or a new temp folder, removed after -Wait.
    .PARAMETER Namespace
        Runs it inside that network namespace (ip netns exec; root only).
    .PARAMETER ToolManifest
        'dotnet pwsh' from the repository's tool manifest instead of the same pwsh as this one.
    .PARAMETER PwshDll
        Another PowerShell's pwsh.dll, run with dotnet (the benchmark's copy compiled ahead of time).
    .EXAMPLE
        $result = Start-ChildPwsh -Wait -File ./child.ps1 -ArgumentList $ModulePath -TimeoutSec 60
    .EXAMPLE
        $code = Start-ChildPwsh -Wait -ToHost -ToolManifest -CacheHome out/cache/help -ArgumentList '-File', 'build/New-MamlHelp.ps1'
    #>
    [CmdletBinding()]
    param(
        [string] $File,
        [string[]] $ArgumentList = @(),
        [hashtable] $Environment = @{},
        [string] $CacheHome,
        [string] $Namespace,
        [string] $WorkingDirectory = $script:RepositoryRoot,
        [switch] $ToolManifest,
        [string] $PwshDll,
        [switch] $RedirectInput,
        [switch] $Wait,
        [ValidateRange(1, 86400)] [int] $TimeoutSec = 120,
        [switch] $ToHost
    )
    $cache = New-CacheHome $CacheHome
    $line = Get-ChildPwshLine $File $ArgumentList $Namespace ([bool] $ToolManifest) $PwshDll
    $environment = @{} + $Environment
    $environment['XDG_CACHE_HOME'] = $cache
    if (-not $Wait) {
        return Start-TestProcess $line.FilePath $line.ArgumentList -Environment $environment -WorkingDirectory $WorkingDirectory -RedirectInput:$RedirectInput
    }
    $what = if ($File) { "'$File'" } else { "'$($ArgumentList -join ' ')'" }
    $process = $null
    try {
        if ($ToHost) {
            $process = [System.Diagnostics.Process]::Start((New-ProcessStartInfo $line.FilePath $line.ArgumentList $environment $WorkingDirectory $false $false))
        } else {
            $process = Start-TestProcess $line.FilePath $line.ArgumentList -Environment $environment -WorkingDirectory $WorkingDirectory
        }
        if (-not $process.WaitForExit($TimeoutSec * 1000)) {
            $process.Kill($true)
            $null = $process.WaitForExit(10000)
            throw "The child pwsh running $what did not finish within $TimeoutSec s; it was stopped."
        }
        $process.WaitForExit()
        if ($ToHost) { return $process.ExitCode }
        [pscustomobject]@{
            ExitCode = $process.ExitCode
            Output   = @(($process.StdOut -split "\r?\n") | Where-Object { $_ -ne '' })
            Errors   = $process.StdErr
        }
    } finally {
        if ($process) { $process.Dispose() }
        if (-not $CacheHome) { Remove-Item -LiteralPath $cache -Recurse -Force -ErrorAction SilentlyContinue }
    }
}

#endregion

#region ports

function Get-FreePort {
    <#
    .SYNOPSIS
        A loopback TCP port that was free a moment ago: bind port 0, read the port, close.
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param()
    $probe = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
    try {
        $probe.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
        $probe.LocalEndPoint.Port
    } finally {
        $probe.Dispose()
    }
}

function Test-LoopbackAddress {
    <#
    .SYNOPSIS
        True when this machine can bind that loopback address (127.0.0.2 works on Linux and Windows; macOS has only
        127.0.0.1 unless an alias is added), for tests that need a second one.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory, Position = 0)] [string] $Address)
    $probe = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
    try {
        $probe.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Parse($Address), 0))
        $true
    } catch [System.Net.Sockets.SocketException] {
        $false
    } finally {
        $probe.Dispose()
    }
}

function Test-Listening {
    <#
    .SYNOPSIS
        True when some process listens on the TCP port. Asked of the system (/proc/net/tcp and tcp6 on Linux, the IP
        helper elsewhere), so no connection is made: a peer that serves one connection, such as nc -l, is not used up.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory, Position = 0)] [int] $Port)
    if (-not (Test-Path -LiteralPath '/proc/net/tcp')) {
        return @([System.Net.NetworkInformation.IPGlobalProperties]::GetIPGlobalProperties().GetActiveTcpListeners() | Where-Object Port -EQ $Port).Count -gt 0
    }
    $hex = ':{0:X4} ' -f $Port
    foreach ($table in '/proc/net/tcp', '/proc/net/tcp6') {
        if (-not (Test-Path -LiteralPath $table)) { continue }
        foreach ($line in [System.IO.File]::ReadAllLines($table) | Select-Object -Skip 1) {
            # Fields: sl local_address rem_address st ...; state 0A is LISTEN.
            $fields = $line.Trim() -split '\s+'
            if ($fields.Count -gt 3 -and ($fields[1] + ' ').EndsWith($hex) -and $fields[3] -eq '0A') { return $true }
        }
    }
    $false
}

function Wait-Listening {
    <#
    .SYNOPSIS
        Waits (bounded) until a program listens on the port; throws with its output when it does not, or when
        -Process exits first.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] [int] $Port, $Process, [double] $TimeoutSec = 10)
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    while (-not (Test-Listening $Port)) {
        $said = if ($Process -and $Process.PSObject.Properties['OutTask']) { "Output: $($Process.StdOut) Errors: $($Process.StdErr)" } else { '' }
        if ($Process -and $Process.HasExited) {
            throw "Process $($Process.Id) ($($Process.StartInfo.FileName)) exited with code $($Process.ExitCode) before listening on port ${Port}: $said"
        }
        if ($clock.Elapsed.TotalSeconds -ge $TimeoutSec) {
            throw "Nothing listened on port $Port after $TimeoutSec s. $said"
        }
        Start-Sleep -Milliseconds 25
    }
}

#endregion

#region certificates

function New-TestCertificate {
    <#
    .SYNOPSIS
        A self-signed RSA certificate with its private key: CN=localhost with the names localhost and 127.0.0.1 by
        default, usable for TLS servers and clients. Made in memory with CertificateRequest.
    #>
    [CmdletBinding()]
    [OutputType([System.Security.Cryptography.X509Certificates.X509Certificate2])]
    param(
        [string] $Subject = 'CN=localhost',
        [string[]] $DnsName = @('localhost'),
        [string[]] $IPAddress = @('127.0.0.1'),
        [DateTimeOffset] $NotBefore = [DateTimeOffset]::Now.AddMinutes(-10),
        [DateTimeOffset] $NotAfter = [DateTimeOffset]::Now.AddDays(2)
    )
    $rsa = [System.Security.Cryptography.RSA]::Create(2048)
    try {
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
            $Subject, $rsa, [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        if ($DnsName -or $IPAddress) {
            $names = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
            foreach ($n in $DnsName) { $names.AddDnsName($n) }
            foreach ($a in $IPAddress) { $names.AddIpAddress([System.Net.IPAddress]::Parse($a)) }
            $request.CertificateExtensions.Add($names.Build())
        }
        $usages = [System.Security.Cryptography.OidCollection]::new()
        # Server and client authentication.
        $null = $usages.Add([System.Security.Cryptography.Oid]::new('1.3.6.1.5.5.7.3.1'))
        $null = $usages.Add([System.Security.Cryptography.Oid]::new('1.3.6.1.5.5.7.3.2'))
        $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($usages, $false))
        $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new(
                [System.Security.Cryptography.X509Certificates.X509KeyUsageFlags]'DigitalSignature, KeyEncipherment', $false))
        $ephemeral = $request.CreateSelfSigned($NotBefore, $NotAfter)
        # A PKCS#12 round trip gives a key that SslStream can use on every platform.
        try {
            [System.Security.Cryptography.X509Certificates.X509Certificate2]::new(
                $ephemeral.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pkcs12, 'round-trip'), 'round-trip',
                [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::Exportable)
        } finally {
            $ephemeral.Dispose()
        }
    } finally {
        $rsa.Dispose()
    }
}

function Export-TestCertificate {
    <#
    .SYNOPSIS
        Writes a certificate as <Name>.pfx (with -Password), <Name>.pem (certificate and key), <Name>.crt.pem
        (certificate only) and <Name>.key.pem (key only) to -Folder; returns the paths.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate,
        [Parameter(Mandatory)] [string] $Folder,
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $Password
    )
    $pfx = Join-Path $Folder "$Name.pfx"
    [System.IO.File]::WriteAllBytes($pfx, $Certificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pkcs12, $Password))
    $key = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($Certificate)
    $certificatePem = $Certificate.ExportCertificatePem()
    $keyPem = $key.ExportPkcs8PrivateKeyPem()
    $both = Join-Path $Folder "$Name.pem"
    $certificateOnly = Join-Path $Folder "$Name.crt.pem"
    $keyOnly = Join-Path $Folder "$Name.key.pem"
    [System.IO.File]::WriteAllText($both, $certificatePem + "`n" + $keyPem + "`n")
    [System.IO.File]::WriteAllText($certificateOnly, $certificatePem + "`n")
    [System.IO.File]::WriteAllText($keyOnly, $keyPem + "`n")
    [pscustomobject]@{ Pfx = $pfx; Pem = $both; CertificatePem = $certificateOnly; KeyPem = $keyOnly; Password = $Password }
}

#endregion

Export-ModuleMember -Function Wait-Until, Get-PwshCommand, Start-TestProcess, Wait-TestProcess, Stop-TestProcess, Assert-Tool,
    New-CacheHome, Start-ChildPwsh, Get-FreePort, Test-LoopbackAddress, Test-Listening, Wait-Listening, New-TestCertificate, Export-TestCertificate

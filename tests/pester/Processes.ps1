<#
.SYNOPSIS
    Helpers for tests that start other programs (socat, nc, redis-server, openssl, curl, python3, a child pwsh).
    Dot-source this file in BeforeAll, after Common.ps1.
.DESCRIPTION
    Every program is started by the test, listens or connects on loopback only, is waited on with a bound and is
    stopped by its process id. A program that is not installed fails the test with the name of the Debian package that
    brings it (CI installs them), never skips it.
#>

function Assert-Tool {
    <#
    .SYNOPSIS
        Throws (failing the test) when a program is not on the PATH, naming the package to install.
    #>
    param(
        [Parameter(Mandatory, Position = 0)] [string] $Name,
        [Parameter(Mandatory, Position = 1)] [string] $Package
    )
    if (-not (Get-Command -Name $Name -CommandType Application -ErrorAction Ignore)) {
        throw "'$Name' is not installed: install the Debian package '$Package' (apt-get install -y $Package). CI installs it."
    }
}

function Get-FreeTcpPort {
    # A loopback TCP port that was free a moment ago: bind port 0, read the port, close.
    $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    try {
        $probe.Start()
        ([System.Net.IPEndPoint] $probe.LocalEndpoint).Port
    } finally {
        $probe.Stop()
    }
}

function Test-TcpListening {
    <#
    .SYNOPSIS
        True when some process listens on the TCP port (read from /proc/net/tcp and tcp6, so no connection is made:
        a server that serves one connection, such as nc -l, is not used up by the check).
    #>
    param([Parameter(Mandatory, Position = 0)] [int] $Port)
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

function Get-PwshCommand {
    # How to start another pwsh like this one: the executable, and the arguments that come before the script's.
    $exe = [System.Environment]::ProcessPath
    if ((Split-Path -Leaf $exe) -like 'dotnet*') {
        # pwsh from the local tool manifest runs as 'dotnet pwsh.dll'.
        return [pscustomobject]@{ FilePath = $exe; Prefix = @((Join-Path $PSHOME 'pwsh.dll')) }
    }
    [pscustomobject]@{ FilePath = $exe; Prefix = @() }
}

function Start-TestProcess {
    <#
    .SYNOPSIS
        Starts a program with its output captured (and its input redirected with -RedirectInput). Returns the
        System.Diagnostics.Process, with ScriptProperties StdOut and StdErr: everything it wrote, once it has exited.
    .DESCRIPTION
        Stop it with Stop-TestProcess (by its id). The output is read as it comes, so a chatty program never blocks on
        a full pipe.
    #>
    param(
        [Parameter(Mandatory, Position = 0)] [string] $FilePath,
        [Parameter(Position = 1)] [string[]] $ArgumentList = @(),
        [hashtable] $Environment = @{},
        [switch] $RedirectInput,
        [string] $WorkingDirectory
    )
    $info = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
    foreach ($a in $ArgumentList) { $info.ArgumentList.Add($a) }
    foreach ($k in $Environment.Keys) { $info.Environment[$k] = [string] $Environment[$k] }
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.RedirectStandardInput = [bool] $RedirectInput
    if ($WorkingDirectory) { $info.WorkingDirectory = $WorkingDirectory }
    $process = [System.Diagnostics.Process]::new()
    $process.StartInfo = $info
    $null = $process.Start()
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
    param([Parameter(Mandatory, Position = 0)] $Process, [double] $TimeoutSec = 20)
    if (-not $Process.WaitForExit([int] ($TimeoutSec * 1000))) {
        throw "Process $($Process.Id) ($($Process.StartInfo.FileName)) was still running after $TimeoutSec s. Output: $($Process.StdOut) Errors: $($Process.StdErr)"
    }
}

function Stop-TestProcess {
    # Stops a program this test started, by its id, and releases the object.
    param([Parameter(ValueFromPipeline)] $Process)
    process {
        if ($null -eq $Process) { return }
        try {
            if (-not $Process.HasExited) {
                Stop-Process -Id $Process.Id -Force -ErrorAction Ignore
                $null = $Process.WaitForExit(5000)
            }
        } finally {
            $Process.Dispose()
        }
    }
}

function Wait-TcpListening {
    # Waits (bounded) until a program listens on the port; throws with its output when it does not, or exits first.
    param([Parameter(Mandatory, Position = 0)] [int] $Port, $Process, [double] $TimeoutSec = 10)
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    while (-not (Test-TcpListening $Port)) {
        if ($Process -and $Process.HasExited) {
            throw "Process $($Process.Id) ($($Process.StartInfo.FileName)) exited with code $($Process.ExitCode) before listening on port ${Port}: $($Process.StdOut) $($Process.StdErr)"
        }
        if ($clock.Elapsed.TotalSeconds -ge $TimeoutSec) {
            throw "Nothing listened on port $Port after $TimeoutSec s. $(if ($Process) { "Output: $($Process.StdOut) Errors: $($Process.StdErr)" })"
        }
        Start-Sleep -Milliseconds 25
    }
}

<#
.SYNOPSIS
    Helpers shared by the SocketCmdlets Pester tests. Dot-source this file in BeforeAll, after importing the module.
.DESCRIPTION
    Every wait here is bounded and every address is loopback (127.0.0.1, ::1 or localhost). The helpers that do not
    need the module (Wait-Until, child pwsh processes, free ports, peer programs, test certificates) are in
    tools/DevTools.psm1, imported here.
#>

Import-Module (Join-Path $PSScriptRoot '../../tools/DevTools.psm1')

# The staged module, as Invoke-PesterSuite.ps1 sets it; test files import the module from here.
$ModulePath = $env:SOCKETCMDLETS_MODULE_PATH
if (-not $ModulePath) {
    throw 'SOCKETCMDLETS_MODULE_PATH is not set: run the tests through tests/pester/Invoke-PesterSuite.ps1 (or build.ps1 -Task Test).'
}

function Wait-SendStalled {
    <#
    .SYNOPSIS
        Waits (bounded) until a socket has sent something and its BytesSent has stopped growing: the send is blocked
        because the peer does not read.
    #>
    param([Parameter(Mandatory, Position = 0)] $Socket, [double] $TimeoutSec = 20)
    $probe = @{ Last = [long] -1 }
    Wait-Until -TimeoutSec $TimeoutSec -IntervalMs 300 -Because "the send on socket $($Socket.Id) to stall" {
        $now = $Socket.BytesSent
        $stalled = $now -gt 0 -and $now -eq $probe.Last
        $probe.Last = $now
        $stalled
    }
}

function New-ConnectedPair {
    <#
    .SYNOPSIS
        A listening server, a client connected to it and the accepted peer, all on loopback. Close it with
        Close-ConnectedPair (or $pair.Close()).
    #>
    [CmdletBinding()]
    param(
        # The loopback address to listen on and connect to: 127.0.0.1 or ::1.
        [ValidateSet('127.0.0.1', '::1')]
        [string] $Address = '127.0.0.1',

        [int] $TimeoutSec = 5
    )
    $server = $null; $client = $null; $peer = $null
    try {
        $newSocket = if ($Address -eq '::1') { @{ AddressFamily = 'InterNetworkV6' } } else { @{} }
        $server = New-Socket @newSocket -ErrorAction Stop | Register-SocketBinding -Address $Address -Port 0 -ErrorAction Stop |
            Start-SocketListen -ErrorAction Stop
        $client = Connect-Socket -ComputerName $Address -Port $server.LocalEndPoint.Port -TimeoutSec $TimeoutSec -ErrorAction Stop
        $peer = $server | Receive-SocketConnection -TimeoutSec $TimeoutSec -ErrorAction Stop
    } catch {
        # Nothing half-made stays open.
        @($client, $peer, $server) | Where-Object { $null -ne $_ } | Close-Socket
        throw
    }
    $pair = [pscustomobject]@{ Server = $server; Client = $client; Peer = $peer; Port = $server.LocalEndPoint.Port }
    $pair | Add-Member -MemberType ScriptMethod -Name Close -Value { $this.Client, $this.Peer, $this.Server | Close-Socket }
    $pair
}

function Close-ConnectedPair {
    # Closes the three sockets of a pair from New-ConnectedPair; harmless when they are closed already.
    param([Parameter(ValueFromPipeline)] $Pair)
    process {
        if ($null -ne $Pair) {
            @($Pair.Client, $Pair.Peer, $Pair.Server) | Where-Object { $null -ne $_ } | Close-Socket
        }
    }
}

function Start-SecondPowerShell {
    <#
    .SYNOPSIS
        Runs a script block in a second [powershell] (same process, a new runspace) with the module imported there,
        asynchronously. Returns an object with PowerShell (the instance) and Handle (from BeginInvoke).
    .DESCRIPTION
        The script block is passed as text, so it runs in the new runspace and not in the caller's. Arguments (socket
        objects among them) are passed as they are. Use Wait-SecondPowerShell, Stop-SecondPowerShell and
        Remove-SecondPowerShell on the result.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)]
        [scriptblock] $ScriptBlock,

        [object[]] $ArgumentList = @()
    )
    # One script, not two statements: a batch of statements (AddStatement) that is stopped and disposed can crash the
    # process from a thread-pool thread (PowerShell's BatchInvocationWorkItem reads a closed runspace). The script is
    # dot-sourced so its variables stay readable through Runspace.SessionStateProxy afterwards.
    $runner = {
        param($SocketCmdletsModule, $ScriptText, [object[]] $ScriptArguments)
        Set-StrictMode -Version Latest
        Import-Module $SocketCmdletsModule -ErrorAction Stop
        . ([scriptblock]::Create($ScriptText)) @ScriptArguments
    }
    $ps = [powershell]::Create()
    $null = $ps.AddScript($runner.ToString()).
        AddArgument($env:SOCKETCMDLETS_MODULE_PATH).
        AddArgument($ScriptBlock.ToString()).
        AddArgument([object[]] $ArgumentList)
    $handle = $ps.BeginInvoke()
    [pscustomobject]@{ PowerShell = $ps; Handle = $handle }
}

function Wait-SecondPowerShell {
    # Waits (bounded) for a second PowerShell to finish and returns its output; throws when it is still running.
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] $Job, [double] $TimeoutSec = 30)
    if (-not $Job.Handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds($TimeoutSec))) {
        throw "The second PowerShell was still running after $TimeoutSec s."
    }
    $Job.PowerShell.EndInvoke($Job.Handle)
}

function Stop-SecondPowerShell {
    # Stops (Ctrl+C) a second PowerShell; true when the stop completed within -TimeoutSec.
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory, Position = 0)] $Job, [double] $TimeoutSec = 10)
    $Job.PowerShell.BeginStop($null, $null).AsyncWaitHandle.WaitOne([timespan]::FromSeconds($TimeoutSec))
}

function Remove-SecondPowerShell {
    # Stops (bounded) if need be and disposes a second PowerShell and its runspace.
    param([Parameter(ValueFromPipeline)] $Job)
    process {
        if ($null -eq $Job) { return }
        $ps = $Job.PowerShell
        if ($ps.InvocationStateInfo.State -eq 'Running' -or $ps.InvocationStateInfo.State -eq 'NotStarted') {
            $null = $ps.BeginStop($null, $null).AsyncWaitHandle.WaitOne(10000)
        }
        # Dispose closes the runspace; it does not remove the module, so sockets of other runspaces are not touched.
        $ps.Dispose()
    }
}

function Get-StopError {
    <#
    .SYNOPSIS
        The error records a second PowerShell wrote, apart from the engine's own "PipelineStopped" record.
    .DESCRIPTION
        PowerShell itself adds one record with FullyQualifiedErrorId "PipelineStopped" to Streams.Error of every
        [powershell] that BeginStop stops, whatever the command (Start-Sleep too); it is not written by the command and
        does not reach $Error. Everything else counts.
    #>
    param([Parameter(Mandatory, Position = 0)] $Job)
    @($Job.PowerShell.Streams.Error | Where-Object { $_.FullyQualifiedErrorId -ne 'PipelineStopped' })
}

function Get-ErrorVariable {
    # The $Error list of a second PowerShell's runspace (after it has stopped or finished).
    param([Parameter(Mandatory, Position = 0)] $Job)
    @($Job.PowerShell.Runspace.SessionStateProxy.GetVariable('Error'))
}

function Get-ResourceCount {
    <#
    .SYNOPSIS
        The process's open handles (entries of /proc/self/fd on Linux, the handle count elsewhere) and threads.
    #>
    [CmdletBinding()]
    param()
    $process = [System.Diagnostics.Process]::GetCurrentProcess()
    $handles = if (Test-Path -LiteralPath '/proc/self/fd') {
        [System.IO.Directory]::GetFileSystemEntries('/proc/self/fd').Count
    } else {
        $process.HandleCount
    }
    [pscustomobject]@{ Handles = $handles; Threads = $process.Threads.Count }
}

function Invoke-FullGC {
    # Collects garbage (finalizers included) so that counts of handles reflect what is really held.
    [System.GC]::Collect()
    [System.GC]::WaitForPendingFinalizers()
    [System.GC]::Collect()
}

function New-RandomBytes {
    # Random bytes, for binary round trips.
    param([Parameter(Mandatory, Position = 0)] [int] $Length)
    $bytes = [byte[]]::new($Length)
    [System.Security.Cryptography.RandomNumberGenerator]::Create().GetBytes($bytes)
    , $bytes
}

function Get-VerboseMessage {
    <#
    .SYNOPSIS
        The messages of the verbose records in a merged stream (4>&1); other objects are dropped.
    .EXAMPLE
        $verbose = @(New-Socket -Verbose 4>&1 | Get-VerboseMessage)
    #>
    param([Parameter(ValueFromPipeline)] $Record)
    process {
        if ($Record -is [System.Management.Automation.VerboseRecord]) { $Record.Message }
    }
}

function Get-Sha256 {
    # The SHA-256 of a byte array, as hex.
    param([Parameter(Mandatory, Position = 0)] [byte[]] $Bytes)
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try { [System.BitConverter]::ToString($sha.ComputeHash($Bytes)) -replace '-' } finally { $sha.Dispose() }
}

function ConvertTo-Hex {
    # Bytes as space-separated upper-case hex pairs ("C3 A9"), for readable assertions.
    param([Parameter(Mandatory, Position = 0)] [AllowEmptyCollection()] [byte[]] $Bytes)
    ($Bytes | ForEach-Object { $_.ToString('X2') }) -join ' '
}

function Receive-AllBytes {
    <#
    .SYNOPSIS
        Everything a socket receives until the peer closes its sending side, as one byte array (bounded by -TimeoutSec
        per wait).
    #>
    param([Parameter(Mandatory, Position = 0)] $Socket, [int] $TimeoutSec = 10)
    $stream = [System.IO.MemoryStream]::new()
    # @() keeps a single byte[] whole; without it foreach would walk its bytes.
    foreach ($chunk in @(Receive-SocketData -Socket $Socket -AsByteStream -ToEnd -TimeoutSec $TimeoutSec -ErrorAction Stop)) {
        $stream.Write($chunk, 0, $chunk.Length)
    }
    , $stream.ToArray()
}

function Get-NetnsUnavailableReason {
    # Why a network namespace cannot be made here (for Set-ItResult -Skipped -Because), or $null when it can.
    if (-not $IsLinux) { return 'network namespaces are a Linux feature' }
    if ((& id -u) -ne '0') { return 'building a network namespace needs root' }
    if (-not (Get-Command ip -CommandType Application -ErrorAction SilentlyContinue)) { return "the 'ip' command (iproute2) is not installed" }
    $probe = "socketcmdlets-probe-$PID-$([guid]::NewGuid().ToString('n').Substring(0, 6))"
    $output = & ip netns add $probe 2>&1
    if ($LASTEXITCODE -ne 0) { return "'ip netns add' does not work here: $output" }
    & ip netns del $probe 2>&1 | Out-Null
    $null
}

function Invoke-NetnsPwsh {
    <#
    .SYNOPSIS
        Runs a script file in a child pwsh inside a new network namespace of its own (loopback only, up) whose
        /etc/hosts is -HostsText (ip netns exec mounts /etc/netns/<name>/hosts over it, for that process only), and
        deletes the namespace afterwards. Returns ExitCode, Output (lines) and Errors. A child still running after
        -TimeoutSec is stopped by its id and the call throws.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $File,
        [string[]] $ArgumentList = @(),
        [Parameter(Mandatory)] [string] $HostsText,
        [ValidateRange(1, 600)] [int] $TimeoutSec = 120
    )
    $ns = "socketcmdlets-$PID-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
    $etc = "/etc/netns/$ns"
    try {
        $output = & ip netns add $ns 2>&1
        if ($LASTEXITCODE -ne 0) { throw "ip netns add $ns failed: $output" }
        $output = & ip -n $ns link set lo up 2>&1
        if ($LASTEXITCODE -ne 0) { throw "ip -n $ns link set lo up failed: $output" }
        $null = New-Item -ItemType Directory -Path $etc -Force
        [System.IO.File]::WriteAllText("$etc/hosts", $HostsText)
        Start-ChildPwsh -Wait -Namespace $ns -ToolManifest -File $File -ArgumentList $ArgumentList -TimeoutSec $TimeoutSec
    } finally {
        & ip netns del $ns 2>&1 | Out-Null
        Remove-Item -LiteralPath $etc -Recurse -Force -ErrorAction SilentlyContinue
    }
}

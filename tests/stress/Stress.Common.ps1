<#
.SYNOPSIS
    Helpers of the SocketCmdlets stress and fault suite. Dot-source this file in BeforeAll; it dot-sources
    tests/pester/Common.ps1 (Wait-Until, New-ConnectedPair, Start-/Wait-/Stop-/Remove-SecondPowerShell,
    Get-ResourceCount, Invoke-FullGC, Get-Sha256, Receive-AllBytes, ...) and adds what the stress tests share.
.DESCRIPTION
    Environment:
      SOCKETCMDLETS_STRESS          full | quick (default quick): the size of every scenario.
      SOCKETCMDLETS_STRESS_SEED     the seed of the random bad-input driver, to replay a run it printed.
      SOCKETCMDLETS_STRESS_RESULTS  a file that collects the figures (JSON lines), for build.ps1 -Task Stress.
    Every wait is bounded; every address is loopback or inside a network namespace the test made.
#>

. (Join-Path $PSScriptRoot '../pester/Common.ps1')

function Get-StressSize {
    <#
    .SYNOPSIS
        'full' or 'quick', from $env:SOCKETCMDLETS_STRESS (quick when unset).
    #>
    $size = if ($env:SOCKETCMDLETS_STRESS) { $env:SOCKETCMDLETS_STRESS.Trim().ToLowerInvariant() } else { 'quick' }
    if ($size -notin 'full', 'quick') {
        throw "SOCKETCMDLETS_STRESS is '$env:SOCKETCMDLETS_STRESS'; use full or quick."
    }
    $size
}

function Select-StressSize {
    # The value for the current size: Select-StressSize -Full 10000 -Quick 1000.
    param([Parameter(Mandatory)] $Full, [Parameter(Mandatory)] $Quick)
    if ((Get-StressSize) -eq 'full') { $Full } else { $Quick }
}

function Write-StressFigure {
    <#
    .SYNOPSIS
        Prints one figure of a scenario and adds it to the results file (when SOCKETCMDLETS_STRESS_RESULTS is set),
        from which build.ps1 -Task Stress prints the table at the end.
    #>
    param(
        [Parameter(Mandatory)] [string] $Scenario,
        [Parameter(Mandatory)] [string] $Figure,
        [Parameter(Mandatory)] [AllowNull()] [AllowEmptyString()] $Value,
        [string] $Unit = ''
    )
    $text = if ($Value -is [double] -or $Value -is [single] -or $Value -is [decimal]) {
        $Value.ToString('0.##', [cultureinfo]::InvariantCulture)
    } else {
        [string] $Value
    }
    Write-Host ("    [figure] {0}: {1} = {2}{3}" -f $Scenario, $Figure, $text, $(if ($Unit) { " $Unit" } else { '' })) -ForegroundColor DarkCyan
    if ($env:SOCKETCMDLETS_STRESS_RESULTS) {
        $line = [ordered]@{ Size = (Get-StressSize); Scenario = $Scenario; Figure = $Figure; Value = $text; Unit = $Unit } |
            ConvertTo-Json -Compress
        # Appending one line at a time keeps the figures of a run that fails half-way.
        [System.IO.File]::AppendAllText($env:SOCKETCMDLETS_STRESS_RESULTS, $line + "`n")
    }
}

function Invoke-Bounded {
    <#
    .SYNOPSIS
        Runs a script block in a second PowerShell (a new runspace of this process, the module imported) and returns
        its output; throws when it is still running after -TimeoutSec, after stopping it (Ctrl+C, bounded).
    .DESCRIPTION
        For calls that could hang if the product had a bug: the test fails instead of the suite hanging. The script
        block should catch its own errors and return them as output.
    #>
    param(
        [Parameter(Mandatory, Position = 0)] [scriptblock] $ScriptBlock,
        [object[]] $ArgumentList = @(),
        [double] $TimeoutSec = 30
    )
    $job = Start-SecondPowerShell -ScriptBlock $ScriptBlock -ArgumentList $ArgumentList
    try {
        Wait-SecondPowerShell $job -TimeoutSec $TimeoutSec
    } finally {
        Remove-SecondPowerShell $job
    }
}

function Get-KnownErrorId {
    <#
    .SYNOPSIS
        The error ids (the part of FullyQualifiedErrorId before the comma) a SocketCmdlets call may end with.
    .DESCRIPTION
        The module's own ids, as src/SocketCmdlets/ErrorFactory.cs and the cmdlets create them, and the ids of
        PowerShell's parameter binder, which rejects bad arguments before a cmdlet runs. Listed explicitly: a new id
        is a decision, and this list is where the stress suite learns of it.
    #>
    [OutputType([string[]])]
    param()
    @(
        # ErrorFactory.FromException and FromSocketException.
        'InvalidSocketState', 'AcceptTimeout', 'ConnectTimeout', 'SendTimeout', 'ReceiveTimeout', 'RecordTooLong',
        'DatagramTooLarge', 'AddressInUse', 'PathTooLong', 'NotSupported', 'CertificateValidationFailed',
        'TlsHandshakeFailed', 'CertificateLoadFailed', 'FileNotFound', 'AccessDenied', 'FileError', 'InvalidArgument',
        'SocketError', 'ConnectionRefused', 'HostNotFound', 'AddressNotAvailable', 'AddressFamilyMismatch',
        'ConnectionReset', 'NetworkUnreachable', 'PathIsDirectory', 'DescriptorsExhausted', 'TlsTruncated',
        # ErrorFactory.SocketNotFound and the cmdlets' own checks.
        'SocketNotFound', 'ConflictingParameters', 'ByteCountTooLarge', 'SocketOrDataRequired', 'DataIsSocket',
        'InvalidWildcardPattern', 'NoReply',
        # SocketCommandBase.Names: host:port text (Connect-Socket and the other -ComputerName cmdlets) and -Name.
        'InvalidEndPoint', 'PortRequired', 'SocketNameAmbiguous',
        # PowerShell's parameter binder.
        'ParameterArgumentValidationError', 'ParameterArgumentValidationErrorNullNotAllowed',
        'ParameterArgumentValidationErrorEmptyStringNotAllowed', 'ParameterArgumentValidationErrorEmptyArrayNotAllowed',
        'ParameterArgumentTransformationError', 'MissingArgument', 'AmbiguousParameterSet', 'NamedParameterNotFound',
        'InputObjectNotBound', 'CannotConvertArgumentNoMessage', 'CannotConvertArgument', 'ParameterAlreadyBound',
        'PositionalParameterNotFound', 'MissingMandatoryParameter', 'ParameterBindingFailed'
    )
}

function Assert-NoSocketLeft {
    <#
    .SYNOPSIS
        Fails when the session still holds open sockets, or when one of the given socket objects is not closed
        (closed state and released handle): nothing of the test leaked.
    #>
    param([object[]] $Socket = @())
    $open = @(Get-Socket)
    $open | Should -HaveCount 0 -Because "no socket of the test may stay open; still open: $(($open | ForEach-Object { "$($_.Id) $($_.State)" }) -join ', ')"
    foreach ($s in $Socket | Where-Object { $null -ne $_ }) {
        $s.State | Should -Be 'Closed' -Because "socket $($s.Id) was closed"
        $s.Socket.SafeHandle.IsClosed | Should -BeTrue -Because "socket $($s.Id) released its handle"
    }
}

function Get-DescriptorCount {
    <#
    .SYNOPSIS
        The process's open descriptors by kind (Linux, /proc/self/fd): Sockets, Assemblies (the .dll files the runtime
        keeps open once it loaded them), Other (pipes, eventfds, epoll, other files) and Total. $null elsewhere.
    .DESCRIPTION
        Get-ResourceCount counts every handle. A run that reaches code it had not used before (TLS, a new cmdlet)
        makes the runtime load more assemblies, and each loaded assembly keeps a descriptor open for the life of the
        process: a one-off cost, not a leak. Sockets and the other kinds are what a leak would show in.
    #>
    if (-not (Test-Path -LiteralPath '/proc/self/fd')) { return $null }
    $counts = [ordered]@{ Sockets = 0; Assemblies = 0; Other = 0; Total = 0 }
    foreach ($entry in [System.IO.Directory]::GetFileSystemEntries('/proc/self/fd')) {
        # The enumeration's own descriptor is in the list and gone when it is read.
        $target = try { [System.IO.FileInfo]::new($entry).LinkTarget } catch { $null }
        if ($null -eq $target) { continue }
        $counts.Total++
        if ($target -like 'socket:*') { $counts.Sockets++ }
        elseif ($target -like '*.dll') { $counts.Assemblies++ }
        else { $counts.Other++ }
    }
    [pscustomobject] $counts
}

function Copy-ByteRange {
    # The first -Count bytes of an array, as a new array (without PowerShell's slow range slicing).
    param([Parameter(Mandatory, Position = 0)] [byte[]] $Bytes, [Parameter(Mandatory, Position = 1)] [long] $Count)
    $copy = [byte[]]::new($Count)
    [System.Array]::Copy($Bytes, $copy, $Count)
    , $copy
}

function Join-ByteArray {
    # Concatenates byte arrays (chunks received with -AsByteStream) into one array.
    param([AllowEmptyCollection()] [object[]] $Chunks = @())
    $stream = [System.IO.MemoryStream]::new()
    foreach ($chunk in $Chunks) {
        if ($null -ne $chunk) { $stream.Write([byte[]] $chunk, 0, $chunk.Length) }
    }
    , $stream.ToArray()
}

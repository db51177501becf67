#requires -Version 7.0
<#
.SYNOPSIS
    One side of the "network goes away" fault, run by Faults.Tests.ps1 in a child pwsh inside a network namespace
    (ip netns exec). Not a test file on its own.
.DESCRIPTION
    The server listens on -Address:-Port and answers each "ping N" line with "pong N"; the client connects to it and
    pings every few milliseconds. Both check that every message is the next one expected (nothing lost, nothing
    changed) and go on until a receive or a send fails, which it must once the test deletes the link between them.
    Progress and the result go to -StatusPath as JSON (the test polls it), so the process must survive to write it.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [ValidateSet('Server', 'Client')] [string] $Role,
    [Parameter(Mandatory)] [string] $Address,
    [Parameter(Mandatory)] [int] $Port,
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $StatusPath,
    # The -TimeoutSec of every receive and send once the conversation runs.
    [int] $TimeoutSec = 3
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$status = [ordered]@{
    Role = $Role; Phase = 'starting'; Exchanged = 0; Intact = $true; ErrorId = $null; Message = $null
    SecondsFromLastExchangeToError = $null; OpenSocketsAfterClose = $null
}
function Write-Status {
    # Written to a temporary name and moved, so the test never reads half a file.
    $json = $status | ConvertTo-Json -Compress
    [System.IO.File]::WriteAllText("$StatusPath.tmp", $json)
    [System.IO.File]::Move("$StatusPath.tmp", $StatusPath, $true)
}

Import-Module $ModulePath
$sinceLast = [System.Diagnostics.Stopwatch]::StartNew()
try {
    if ($Role -eq 'Server') {
        $listener = Start-SocketListen -Port $Port -Address $Address
        $status.Phase = 'listening'; Write-Status
        $socket = $listener | Receive-SocketConnection -TimeoutSec 120
        $listener | Close-Socket
    } else {
        # The server starts at the same time and may not listen yet: retry a refused connect (bounded).
        $socket = $null
        $deadline = [System.Diagnostics.Stopwatch]::StartNew()
        while (-not $socket) {
            try {
                $socket = Connect-Socket -ComputerName $Address -Port $Port -TimeoutSec 10 -NoDelay
            } catch {
                if ($_.FullyQualifiedErrorId -notlike 'ConnectionRefused,*' -or $deadline.Elapsed.TotalSeconds -gt 120) { throw }
                Start-Sleep -Milliseconds 100
            }
        }
    }
    $status.Phase = 'exchanging'; Write-Status
    $n = 0
    while ($true) {
        if ($Role -eq 'Client') {
            "ping $n" | Send-SocketData -Socket $socket -AppendNewLine -TimeoutSec $TimeoutSec
            $reply = $socket | Receive-SocketData -Line -TimeoutSec $TimeoutSec
            $expected = "pong $n"
        } else {
            $reply = $socket | Receive-SocketData -Line -TimeoutSec $TimeoutSec
            $expected = "ping $n"
        }
        if ($null -eq $reply) { throw 'The peer ended the stream; the link was meant to vanish instead.' }
        if ($reply -cne $expected) { $status.Intact = $false; throw "Expected '$expected', got '$reply'." }
        if ($Role -eq 'Server') { "pong $n" | Send-SocketData -Socket $socket -AppendNewLine -TimeoutSec $TimeoutSec }
        $n++
        $status.Exchanged = $n
        $sinceLast.Restart()
        if ($n % 20 -eq 0) { Write-Status }
        if ($Role -eq 'Client') { Start-Sleep -Milliseconds 20 }
    }
} catch {
    $status.SecondsFromLastExchangeToError = [math]::Round($sinceLast.Elapsed.TotalSeconds, 2)
    $status.ErrorId = $_.FullyQualifiedErrorId
    $status.Message = "$_"
}
Get-Socket | Close-Socket
$status.OpenSocketsAfterClose = @(Get-Socket).Count
$status.Phase = 'done'
Write-Status
exit 0

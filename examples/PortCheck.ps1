<#
.SYNOPSIS
    Checks which ports are open on a list of hosts, all probes at once (Test-SocketConnection), each bounded by
    -TimeoutSec.
.EXAMPLE
    ./examples/PortCheck.ps1 -ComputerName localhost, 127.0.0.1 -Port 22, 80, 443 -TimeoutSec 2
#>
param(
    [Parameter(Mandatory)] [string[]] $ComputerName,
    [Parameter(Mandatory)] [ValidateRange(1, 65535)] [int[]] $Port,
    [ValidateRange(0.001, 300)] [double] $TimeoutSec = 2,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SocketCmdlets')
)

Import-Module $ModulePath
# The statuses in the words of Connect-Socket's error ids, as this script reported them before Test-SocketConnection.
$reason = @{ Refused = 'ConnectionRefused'; TimedOut = 'ConnectTimeout'; HostNotFound = 'HostNotFound'; Unreachable = 'NetworkUnreachable' }
Test-SocketConnection -ComputerName $ComputerName -Port $Port -TimeoutSec $TimeoutSec -Ordered | ForEach-Object {
    [pscustomobject]@{
        ComputerName = $_.ComputerName
        Port         = $_.Port
        Open         = $_.Open
        Result       = if ($_.Open) { "connected to $([SocketCmdlets.NetSocket]::Format([System.Net.IPEndPoint]::new($_.RemoteAddress, $_.Port)))" } else { $reason["$($_.Status)"] }
    }
}

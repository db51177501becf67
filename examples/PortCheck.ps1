<#
.SYNOPSIS
    Checks which ports are open on a list of hosts, each connect bounded by -TimeoutSec.
.EXAMPLE
    ./examples/PortCheck.ps1 -ComputerName localhost, 127.0.0.1 -Port 22, 80, 443 -TimeoutSec 2
#>
param(
    [Parameter(Mandatory)] [string[]] $ComputerName,
    [Parameter(Mandatory)] [ValidateRange(1, 65535)] [int[]] $Port,
    [ValidateRange(1, 300)] [int] $TimeoutSec = 2,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SocketCmdlets')
)

Import-Module $ModulePath
foreach ($computer in $ComputerName) {
    foreach ($p in $Port) {
        $socket = Connect-Socket -ComputerName $computer -Port $p -TimeoutSec $TimeoutSec -ErrorAction SilentlyContinue -ErrorVariable failure
        [pscustomobject]@{
            ComputerName = $computer
            Port         = $p
            Open         = $null -ne $socket
            Result       = if ($socket) { "connected to $($socket.RemoteEndPoint)" } else { $failure[0].FullyQualifiedErrorId -replace ',.*' }
        }
        $socket | Close-Socket
    }
}

<#
.SYNOPSIS
    A line-based chat between two sockets: each side says a line and reads the other's answer.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../out/SocketCmdlets'))

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$server = Start-SocketListen -Port 0 -Address Loopback
$alice = Connect-Socket -ComputerName 127.0.0.1 -Port $server.LocalEndPoint.Port -Name alice -TimeoutSec 5
$bob = $server | Receive-SocketConnection -Name bob -TimeoutSec 5

$script = @(
    @($alice, $bob, 'Hi Bob, are you there?'),
    @($bob, $alice, 'Hi Alice! Yes, over a socket.'),
    @($alice, $bob, 'Lines end with a newline; -Line reads one at a time.'),
    @($bob, $alice, 'Bye!')
)
foreach ($turn in $script) {
    $from, $to, $text = $turn
    $text | Send-SocketData -Socket $from -AppendNewLine
    $heard = $to | Receive-SocketData -Line -TimeoutSec 5
    "$($to.Name) heard $($from.Name): $heard"
}
$alice, $bob, $server | Close-Socket

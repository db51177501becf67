<#
.SYNOPSIS
    A client-server exchange over loopback with SocketCmdlets: the seed's six steps, printing what each side says.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../out/SocketCmdlets'))

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

# socket, bind, listen: a server on a free loopback port.
$server = New-Socket -Name server | Register-SocketBinding -Address Loopback -Port 0 | Start-SocketListen
$port = $server.LocalEndPoint.Port
Write-Host "server: listening on $($server.LocalEndPoint)"

# connect, accept.
$client = New-Socket -Name client | Connect-Socket -ComputerName localhost -Port $port -TimeoutSec 5
$peer = $server | Receive-SocketConnection -TimeoutSec 5
Write-Host "server: accepted $($peer.RemoteEndPoint)"

# write, read: a line-based conversation.
'hello, server' | Send-SocketData -Socket $client -AppendNewLine
Write-Host "client -> server: hello, server"
$request = $peer | Receive-SocketData -Line -TimeoutSec 5
Write-Host "server received: $request"

"HELLO BACK ($($request.Length) characters received)" | Send-SocketData -Socket $peer -AppendNewLine
$reply = $client | Receive-SocketData -Line -TimeoutSec 5
Write-Host "client received: $reply"

# The client is done sending: a half-close lets the server read to the end of the stream.
'one', 'two', 'three' | Send-SocketData -Socket $client -AppendNewLine
$client | Close-Socket -Direction Send
$lines = $peer | Receive-SocketData -Line -ToEnd -TimeoutSec 5
Write-Host "server received to end of stream: $($lines -join ', ')"

Get-Socket | Format-Table -AutoSize | Out-String | Write-Host

# close.
$client, $peer, $server | Close-Socket
Write-Host "open sockets left: $(@(Get-Socket).Count)"

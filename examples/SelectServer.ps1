<#
.SYNOPSIS
    A single-threaded server that serves several clients at once with Wait-Socket (select/poll).
.DESCRIPTION
    One loop waits until the listener or any client is readable: a readable listener has a pending connection,
    a readable client has data (or has closed); Receive-SocketData -Available takes its whole lines without waiting
    for the rest of a partial one. Each line is answered with its upper-case form. The script also
    starts -Clients clients in the same thread, so it runs on its own; the loop is bounded in rounds and time.
.EXAMPLE
    ./examples/SelectServer.ps1 -Clients 5
#>
param(
    [ValidateRange(1, 100)] [int] $Clients = 5,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SocketCmdlets')
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$listener = Start-SocketListen -Port 0 -Address Loopback -Name select-server
$peers = [System.Collections.Generic.List[object]]::new()

# Clients connect and each sends one line, then half-closes.
$sockets = foreach ($i in 1..$Clients) {
    $c = Connect-Socket -ComputerName 127.0.0.1 -Port $listener.LocalEndPoint.Port -TimeoutSec 5
    "hello from client $i" | Send-SocketData -Socket $c -AppendNewLine
    $c | Close-Socket -Direction Send -PassThru
}

$served = 0
$deadline = (Get-Date).AddSeconds(30)
while ($served -lt $Clients -and (Get-Date) -lt $deadline) {
    foreach ($ready in Wait-Socket -Socket (@($listener) + $peers) -Read -TimeoutSec 1) {
        if ($ready -eq $listener) {
            $peers.Add(($listener | Receive-SocketConnection))
            continue
        }
        # -Available takes the whole lines that have arrived and returns at once: a client that sent half a line
        # never holds up the others.
        foreach ($line in @($ready | Receive-SocketData -Line -Available)) {
            $line.ToUpperInvariant() | Send-SocketData -Socket $ready -AppendNewLine
        }
        if ($ready.EndOfStream) {
            # End of stream: this client is done.
            $ready | Close-Socket
            $null = $peers.Remove($ready)
            $served++
        }
    }
}

foreach ($c in $sockets) { $c | Receive-SocketData -Line -TimeoutSec 5 }
$sockets + $peers + $listener | Close-Socket
"served $served clients from one thread"

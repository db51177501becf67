<#
.SYNOPSIS
    An echo server that serves many clients at once with Start-SocketServer, and as many clients to try it.
.DESCRIPTION
    The server runs up to -Clients handlers at once, each in a runspace of its pool: every line a client sends is
    sent back at once (-Unbuffered), until the client closes. The clients run in parallel too, each sending -Lines lines
    and checking the echoes. Prints one summary line. Loopback only.
.EXAMPLE
    ./examples/ParallelEchoServer.ps1 -Clients 100
#>
param(
    [ValidateRange(1, 500)] [int] $Clients = 100,
    [ValidateRange(1, 1000)] [int] $Lines = 10,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SocketCmdlets')
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$module = (Get-Module SocketCmdlets).Path

# The server: one line. Each connection runs the script block in a runspace of the server's pool.
$server = Start-SocketServer -Port 0 -Address Loopback -Name echo -ThrottleLimit $Clients { $_ | Receive-SocketData -Line -ToEnd -TimeoutSec 60 | Send-SocketData -Socket $_ -AppendNewLine -Unbuffered }
$port = $server.LocalEndPoint.Port

# The clients, all at once.
$started = Get-Date
$results = 1..$Clients | ForEach-Object -ThrottleLimit $Clients -Parallel {
    Import-Module $using:module
    $client = Connect-Socket -ComputerName 127.0.0.1 -Port $using:port -TimeoutSec 30
    try {
        $ok = 0
        foreach ($i in 1..$using:Lines) {
            "client $_ line $i" | Send-SocketData -Socket $client -AppendNewLine
            if (($client | Receive-SocketData -Line -TimeoutSec 30) -eq "client $_ line $i") { $ok++ }
        }
        $ok
    } finally {
        $client | Close-Socket
    }
}

# Stop-Job closes the listener and any connection still open; Receive-Job shows a handler's errors, if any.
$server | Stop-Job -PassThru | Receive-Job
$server | Remove-Job
$echoed = ($results | Measure-Object -Sum).Sum
"$Clients clients, $echoed of $($Clients * $Lines) lines echoed in $([int]((Get-Date) - $started).TotalMilliseconds) ms"

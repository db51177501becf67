<#
.SYNOPSIS
    An echo server that serves many clients at once with ForEach-Object -Parallel, and as many clients to try it.
.DESCRIPTION
    The server accepts -Clients connections; each is served in its own runspace: every line it receives is sent
    back at once (-Unbuffered), until the client closes. The clients run in parallel too, each sending -Lines lines
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
$listener = Start-SocketListen -Port 0 -Address Loopback -Name echo
$port = $listener.LocalEndPoint.Port

# The server: a thread job that accepts $Clients connections and serves each in parallel.
$server = Start-ThreadJob {
    # $using: reaches one level out: copy what the inner parallel blocks need into this runspace.
    $module = $using:module
    $clients = $using:Clients
    Import-Module $module
    $using:listener | Receive-SocketConnection -Count $clients -TimeoutSec 60 | ForEach-Object -ThrottleLimit $clients -Parallel {
        Import-Module $using:module
        $_ | Receive-SocketData -Line -ToEnd -TimeoutSec 60 | Send-SocketData -Socket $_ -AppendNewLine -Unbuffered
        $_ | Close-Socket
    }
}

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

$null = $server | Wait-Job -Timeout 60
$server | Receive-Job
$server | Remove-Job -Force
$listener | Close-Socket
$echoed = ($results | Measure-Object -Sum).Sum
"$Clients clients, $echoed of $($Clients * $Lines) lines echoed in $([int]((Get-Date) - $started).TotalMilliseconds) ms"

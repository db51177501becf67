<#
.SYNOPSIS
    A TCP echo server: every line a client sends comes straight back.
.DESCRIPTION
    Listens on -Port (0: a free port, printed) and serves clients one after another, each until it closes; with
    -Parallel, every client in its own runspace. Stops after -MaxClients clients (0: until Ctrl+C).
.EXAMPLE
    ./examples/EchoServer.ps1 -Port 7007
    # in another shell:  'hello' | nc 127.0.0.1 7007
#>
param(
    [ValidateRange(0, 65535)] [int] $Port = 7007,
    [string] $Address = 'Loopback',
    [ValidateRange(0, [int]::MaxValue)] [int] $MaxClients = 0,
    [switch] $Parallel,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SocketCmdlets')
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$module = (Get-Module SocketCmdlets).Path
$listener = Start-SocketListen -Port $Port -Address $Address -ReuseAddress -Name echo
Write-Host "echo server listening on $($listener.LocalEndPoint)"
$accept = if ($MaxClients -gt 0) { @{ Count = $MaxClients } } else { @{ Continuous = $true } }
try {
    if ($Parallel) {
        $listener | Receive-SocketConnection @accept | ForEach-Object -ThrottleLimit 64 -Parallel {
            Import-Module $using:module
            $_ | Receive-SocketData -Line -ToEnd | Send-SocketData -Socket $_ -AppendNewLine -Unbuffered
            $_ | Close-Socket
        }
    } else {
        $listener | Receive-SocketConnection @accept | ForEach-Object {
            Write-Host "client $($_.RemoteEndPoint) connected"
            $_ | Receive-SocketData -Line -ToEnd | Send-SocketData -Socket $_ -AppendNewLine -Unbuffered
            $_ | Close-Socket
        }
    }
} finally {
    $listener | Close-Socket
}

<#
.SYNOPSIS
    A small HTTP/1.1 responder written with the cmdlets: it answers every GET with a short text body.
.DESCRIPTION
    Reads each request's lines up to the empty line, answers "200 OK" with a body naming the path (404 for
    /missing), and closes the connection. Serves -Count requests (0: until Ctrl+C). Try it with curl.
.EXAMPLE
    ./examples/HttpResponder.ps1 -Port 8080 -Count 1
    # in another shell:  curl http://127.0.0.1:8080/hello
#>
param(
    [ValidateRange(0, 65535)] [int] $Port = 8080,
    [ValidateRange(0, [int]::MaxValue)] [int] $Count = 0,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SocketCmdlets'),
    # Where to write the port once listening (useful with -Port 0).
    [string] $PortFile
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$listener = Start-SocketListen -Port $Port -Address Loopback -ReuseAddress -Name http
if ($PortFile) { Set-Content -Path $PortFile -Value $listener.LocalEndPoint.Port }
Write-Host "HTTP responder on http://$($listener.LocalEndPoint)/"
$accept = if ($Count -gt 0) { @{ Count = $Count } } else { @{ Continuous = $true } }
try {
    $listener | Receive-SocketConnection @accept | ForEach-Object {
        $client = $_
        try {
            $request = $client | Receive-SocketData -Line -TimeoutSec 10
            while ($client | Receive-SocketData -Line -TimeoutSec 10) { }   # headers, up to the empty line
            $method, $path, $version = "$request" -split ' '
            $code, $body = if ($path -eq '/missing') { '404 Not Found', "no such page`n" } else { '200 OK', "hello from SocketCmdlets, you asked for $path`n" }
            $bytes = [Text.Encoding]::UTF8.GetBytes($body)
            "HTTP/1.1 $code", 'Content-Type: text/plain; charset=utf-8', "Content-Length: $($bytes.Length)", 'Connection: close', '' |
                Send-SocketData -Socket $client -AppendNewLine -NewLine "`r`n"
            , $bytes | Send-SocketData -Socket $client
            Write-Host "$method $path -> $code"
        } finally {
            $client | Close-Socket
        }
    }
} finally {
    $listener | Close-Socket
}

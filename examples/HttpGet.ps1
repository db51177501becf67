<#
.SYNOPSIS
    An HTTP/1.1 GET written by hand: a request of CRLF-ended lines, then the response read to the end.
.EXAMPLE
    ./examples/HttpGet.ps1 -ComputerName localhost -Port 8080 -Path /
#>
param(
    [Parameter(Mandatory)] [string] $ComputerName,
    [ValidateRange(1, 65535)] [int] $Port = 80,
    [string] $Path = '/',
    [switch] $UseTls,
    [switch] $SkipCertificateCheck,
    [int] $TimeoutSec = 10,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SocketCmdlets')
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$tls = if ($UseTls) { @{ UseTls = $true; SkipCertificateCheck = [bool]$SkipCertificateCheck } } else { @{} }
$s = Connect-Socket -ComputerName $ComputerName -Port $Port -TimeoutSec $TimeoutSec @tls
try {
    "GET $Path HTTP/1.1", "Host: $ComputerName", 'Connection: close', 'User-Agent: SocketCmdlets', '' |
        Send-SocketData -Socket $s -AppendNewLine -NewLine "`r`n"
    $status = $s | Receive-SocketData -Line -TimeoutSec $TimeoutSec
    $headers = [ordered]@{}
    while ($line = $s | Receive-SocketData -Line -TimeoutSec $TimeoutSec) {
        $name, $value = $line -split ':\s*', 2
        $headers[$name] = $value
    }
    $body = ($s | Receive-SocketData -ToEnd -TimeoutSec $TimeoutSec) -join ''
    [pscustomobject]@{ Status = $status; Headers = $headers; Body = $body }
} finally {
    $s | Close-Socket
}

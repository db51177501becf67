<#
.SYNOPSIS
    A STARTTLS-style upgrade: a plain-text greeting and command, then TLS on the same connection.
.DESCRIPTION
    The server (a thread job) greets, waits for STARTTLS, answers, and upgrades with a self-signed certificate made
    here by New-SocketCertificate; the client upgrades too and the conversation goes on encrypted. Loopback only.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../out/SocketCmdlets'))

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$module = (Get-Module SocketCmdlets).Path

# A self-signed certificate for localhost, 127.0.0.1 and ::1 (a real server would load its own: -Certificate ./server.pfx).
$certificate = New-SocketCertificate -ValidDays 1

$listener = Start-SocketListen -Port 0 -Address Loopback
$server = Start-ThreadJob {
    Import-Module $using:module
    $peer = $using:listener | Receive-SocketConnection -TimeoutSec 10
    '220 ready' | Send-SocketData -Socket $peer -AppendNewLine -NewLine "`r`n"
    if (($peer | Receive-SocketData -Line -TimeoutSec 10) -eq 'STARTTLS') {
        '220 go ahead' | Send-SocketData -Socket $peer -AppendNewLine -NewLine "`r`n"
        $null = $peer | Protect-Socket -Certificate $using:certificate -TimeoutSec 10
        $secret = $peer | Receive-SocketData -Line -TimeoutSec 10
        "250 got '$secret' over $($peer.TlsProtocol)" | Send-SocketData -Socket $peer -AppendNewLine -NewLine "`r`n"
    }
    $peer | Close-Socket
}

$client = Connect-Socket -ComputerName localhost -Port $listener.LocalEndPoint.Port -TimeoutSec 10
"S: $($client | Receive-SocketData -Line -TimeoutSec 10)"
'STARTTLS' | Send-SocketData -Socket $client -AppendNewLine -NewLine "`r`n"
"S: $($client | Receive-SocketData -Line -TimeoutSec 10)"
# A self-signed certificate is not trusted by the system: this client trusts it for this call only (no store touched).
$null = $client | Protect-Socket -TrustedCertificate $certificate -TimeoutSec 10
"encrypted: $($client.IsEncrypted) ($($client.TlsProtocol), $($client.CipherSuite)); certificate errors: $(@($client.CertificateErrors).Count)"
'the password is swordfish' | Send-SocketData -Socket $client -AppendNewLine -NewLine "`r`n"
"S: $($client | Receive-SocketData -Line -TimeoutSec 10)"
$null = $server | Wait-Job -Timeout 10
$server | Receive-Job
$server | Remove-Job -Force
$client, $listener | Close-Socket

<#
.SYNOPSIS
    Self-signed certificates for the TLS tests, made in memory with CertificateRequest and written as PFX and PEM files.
    Dot-source this file in BeforeAll.
#>

function New-TestCertificate {
    <#
    .SYNOPSIS
        A self-signed RSA certificate with its private key: CN=localhost with the names localhost and 127.0.0.1 by
        default, usable for TLS servers and clients.
    #>
    [CmdletBinding()]
    [OutputType([System.Security.Cryptography.X509Certificates.X509Certificate2])]
    param(
        [string] $Subject = 'CN=localhost',
        [string[]] $DnsName = @('localhost'),
        [string[]] $IPAddress = @('127.0.0.1'),
        [DateTimeOffset] $NotBefore = [DateTimeOffset]::Now.AddMinutes(-10),
        [DateTimeOffset] $NotAfter = [DateTimeOffset]::Now.AddDays(2)
    )
    $rsa = [System.Security.Cryptography.RSA]::Create(2048)
    try {
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
            $Subject, $rsa, [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        if ($DnsName -or $IPAddress) {
            $names = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
            foreach ($n in $DnsName) { $names.AddDnsName($n) }
            foreach ($a in $IPAddress) { $names.AddIpAddress([System.Net.IPAddress]::Parse($a)) }
            $request.CertificateExtensions.Add($names.Build())
        }
        $usages = [System.Security.Cryptography.OidCollection]::new()
        $null = $usages.Add([System.Security.Cryptography.Oid]::new('1.3.6.1.5.5.7.3.1'))   # server authentication
        $null = $usages.Add([System.Security.Cryptography.Oid]::new('1.3.6.1.5.5.7.3.2'))   # client authentication
        $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($usages, $false))
        $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new(
            [System.Security.Cryptography.X509Certificates.X509KeyUsageFlags]'DigitalSignature, KeyEncipherment', $false))
        $ephemeral = $request.CreateSelfSigned($NotBefore, $NotAfter)
        # A PKCS#12 round trip gives a key that SslStream can use on every platform.
        try {
            [System.Security.Cryptography.X509Certificates.X509Certificate2]::new(
                $ephemeral.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pkcs12, 'round-trip'), 'round-trip',
                [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::Exportable)
        } finally {
            $ephemeral.Dispose()
        }
    } finally {
        $rsa.Dispose()
    }
}

function Export-TestCertificate {
    <#
    .SYNOPSIS
        Writes a certificate as <Name>.pfx (with -Password), <Name>.pem (certificate and key), <Name>.crt.pem
        (certificate only) and <Name>.key.pem (key only) to -Folder; returns the paths.
    #>
    param(
        [Parameter(Mandatory)] [System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate,
        [Parameter(Mandatory)] [string] $Folder,
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $Password
    )
    $pfx = Join-Path $Folder "$Name.pfx"
    [System.IO.File]::WriteAllBytes($pfx, $Certificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pkcs12, $Password))
    $key = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($Certificate)
    $certificatePem = $Certificate.ExportCertificatePem()
    $keyPem = $key.ExportPkcs8PrivateKeyPem()
    $both = Join-Path $Folder "$Name.pem"
    $certificateOnly = Join-Path $Folder "$Name.crt.pem"
    $keyOnly = Join-Path $Folder "$Name.key.pem"
    [System.IO.File]::WriteAllText($both, $certificatePem + "`n" + $keyPem + "`n")
    [System.IO.File]::WriteAllText($certificateOnly, $certificatePem + "`n")
    [System.IO.File]::WriteAllText($keyOnly, $keyPem + "`n")
    [pscustomobject]@{ Pfx = $pfx; Pem = $both; CertificatePem = $certificateOnly; KeyPem = $keyOnly; Password = $Password }
}

function Start-TlsTestServer {
    <#
    .SYNOPSIS
        A TLS server on a free loopback port, in a second PowerShell (Common.ps1): accepts one connection, runs
        Protect-Socket -Certificate with -Protect, sends 'hello over TLS' and the client certificate's subject as
        lines, waits (bounded) for the client to close, and closes. Returns Listener, Port and Job; remove the job
        with Remove-SecondPowerShell and close the listener afterwards.
    #>
    param(
        [Parameter(Mandatory)] $Certificate,
        [hashtable] $Protect = @{}
    )
    $listener = Start-SocketListen -Port 0 -Address Loopback
    $job = Start-SecondPowerShell -ArgumentList $listener, $Certificate, $Protect {
        param($l, $certificate, $protect)
        $peer = $l | Receive-SocketConnection -TimeoutSec 20
        try {
            $null = $peer | Protect-Socket -Certificate $certificate @protect -TimeoutSec 20 -ErrorAction Stop
            'hello over TLS' | Send-SocketData -Socket $peer -AppendNewLine
            "client: $(if ($peer.RemoteCertificate) { $peer.RemoteCertificate.Subject } else { 'none' })" | Send-SocketData -Socket $peer -AppendNewLine
            $null = $peer | Receive-SocketData -ToEnd -TimeoutSec 20 -ErrorAction SilentlyContinue
            'served'
        } finally {
            $peer | Close-Socket
        }
    }
    [pscustomobject]@{ Listener = $listener; Port = $listener.LocalEndPoint.Port; Job = $job }
}

function New-TlsConnectedPair {
    <#
    .SYNOPSIS
        A connected pair on loopback (New-ConnectedPair, from Common.ps1) with TLS on both sides: the handshake's
        server side runs in a second runspace with -Server (its -Certificate by default -Certificate), the client side
        here with -Client; both sockets are then used from the caller. Close it with $pair.Close().
    #>
    param(
        [Parameter(Mandatory)] [System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate,
        [hashtable] $Server = @{},
        [hashtable] $Client = @{ SkipCertificateCheck = $true }
    )
    $pair = New-ConnectedPair
    $serverSide = @{} + $Server
    if (-not $serverSide.ContainsKey('Certificate')) { $serverSide.Certificate = $Certificate }
    $job = Start-SecondPowerShell -ArgumentList $pair.Peer, $serverSide {
        param($s, $protect)
        $null = $s | Protect-Socket @protect -TimeoutSec 10 -ErrorAction Stop
        'server ready'
    }
    try {
        $null = $pair.Client | Protect-Socket @Client -TimeoutSec 10 -ErrorAction Stop
        $ready = Wait-SecondPowerShell $job -TimeoutSec 20
        if ($ready -ne 'server ready') { throw "The TLS server side did not finish its handshake: $($job.PowerShell.Streams.Error)" }
    } catch {
        $pair.Close()
        throw
    } finally {
        Remove-SecondPowerShell $job
    }
    $pair
}

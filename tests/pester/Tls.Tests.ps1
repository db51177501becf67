# TLS: Connect-Socket -UseTls and Protect-Socket as client and server, every transfer mode over TLS, STARTTLS,
# versions, ALPN, client certificates, and the ways a handshake fails. Self-signed certificates made here; loopback only.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Certificates.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    $ProgressPreference = 'SilentlyContinue'

    $script:StartCount = @(Get-Socket).Count
    $script:Folder = Join-Path ([System.IO.Path]::GetTempPath()) "sc-tls-$PID"
    $null = New-Item -ItemType Directory -Force -Path $Folder

    $script:ServerCert = New-TestCertificate
    $script:ServerFiles = Export-TestCertificate -Certificate $ServerCert -Folder $Folder -Name server -Password 'tls-test-password'
    $script:ServerPassword = ConvertTo-SecureString -String $ServerFiles.Password -AsPlainText -Force
    $script:ClientCert = New-TestCertificate -Subject 'CN=socketcmdlets test client' -DnsName @() -IPAddress @()
    $script:ExpiredCert = New-TestCertificate -NotBefore ([DateTimeOffset]::Now.AddDays(-10)) -NotAfter ([DateTimeOffset]::Now.AddDays(-1))

    # Sockets a test opened; AfterEach closes them (and only them, so the last test can see what the module leaked).
    $script:Opened = [System.Collections.Generic.List[object]]::new()
    function Use-Socket {
        param([Parameter(ValueFromPipeline)] $Socket)
        process { if ($null -ne $Socket) { $Opened.Add($Socket); $Socket } }
    }

    function New-Pair {
        # A connected pair on loopback whose three sockets are closed after the test.
        $pair = New-ConnectedPair
        $null = $pair.Server, $pair.Client, $pair.Peer | Use-Socket
        $pair
    }

    function Start-TlsServer {
        <#
        .SYNOPSIS
            Runs Protect-Socket as the server on -Socket in a second runspace, then -Then (given the socket) there.
            Closes the socket there afterwards, whatever happened.
        #>
        param(
            [Parameter(Mandatory)] $Socket,
            [hashtable] $Protect = @{},
            [scriptblock] $Then = { }
        )
        if (-not $Protect.ContainsKey('Certificate')) { $Protect.Certificate = $ServerCert }
        Start-SecondPowerShell -ArgumentList $Socket, $Protect, $Then.ToString() {
            param($s, $protect, $then)
            try {
                $null = $s | Protect-Socket @protect -TimeoutSec 10 -ErrorAction Stop
                & ([scriptblock]::Create($then)) $s
            } finally {
                $s | Close-Socket
            }
        }
    }

    function New-TlsPair {
        # A connected pair with TLS on both sides whose three sockets are closed after the test.
        param([hashtable] $Server = @{}, [hashtable] $Client = @{ SkipCertificateCheck = $true })
        $pair = New-TlsConnectedPair -Certificate $ServerCert -Server $Server -Client $Client
        $null = $pair.Server, $pair.Client, $pair.Peer | Use-Socket
        $pair
    }
}

AfterAll {
    Get-Socket | Close-Socket
    Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction Ignore
}

Describe 'TLS' -Tag 'Tls' {
    AfterEach {
        $Opened | Close-Socket
        $Opened.Clear()
    }

    Context 'Connect-Socket -UseTls' {
        It 'connects and encrypts in one call with -UseTls -SkipCertificateCheck' {
            $listener = Start-SocketListen -Port 0 -Address Loopback | Use-Socket
            $server = Start-SecondPowerShell -ArgumentList $listener, $ServerCert {
                param($l, $c)
                $peer = $l | Receive-SocketConnection -TimeoutSec 10
                try {
                    $null = $peer | Protect-Socket -Certificate $c -TimeoutSec 10 -ErrorAction Stop
                    $line = $peer | Receive-SocketData -Line -TimeoutSec 10
                    "you said $line" | Send-SocketData -Socket $peer -AppendNewLine
                } finally {
                    $peer | Close-Socket
                }
            }
            try {
                $client = Connect-Socket -ComputerName localhost -Port $listener.LocalEndPoint.Port -UseTls -SkipCertificateCheck -TimeoutSec 10 | Use-Socket
                $client.IsEncrypted | Should -BeTrue
                $client.State | Should -Be 'Connected'
                'hello' | Send-SocketData -Socket $client -AppendNewLine
                $client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'you said hello'
                $null = Wait-SecondPowerShell $server -TimeoutSec 20
            } finally {
                Remove-SecondPowerShell $server
            }
        }

        It 'offers -ApplicationProtocol and validates against -TargetHost with Connect-Socket -UseTls' {
            $listener = Start-SocketListen -Port 0 -Address Loopback | Use-Socket
            $server = Start-SecondPowerShell -ArgumentList $listener, $ServerCert {
                param($l, $c)
                $peer = $l | Receive-SocketConnection -TimeoutSec 10
                try { $null = $peer | Protect-Socket -Certificate $c -ApplicationProtocol 'http/1.1' -TimeoutSec 10 -ErrorAction Stop; $peer.ApplicationProtocol } finally { $peer | Close-Socket }
            }
            try {
                $client = Connect-Socket -ComputerName 127.0.0.1 -Port $listener.LocalEndPoint.Port -UseTls -SkipCertificateCheck -TargetHost localhost -ApplicationProtocol 'h2', 'http/1.1' -TimeoutSec 10 | Use-Socket
                $client.ApplicationProtocol | Should -Be 'http/1.1'
                Wait-SecondPowerShell $server -TimeoutSec 20 | Should -Be 'http/1.1'
            } finally {
                Remove-SecondPowerShell $server
            }
        }

        It 'says name mismatch when Connect-Socket -UseTls -TargetHost names another host' {
            $listener = Start-SocketListen -Port 0 -Address Loopback | Use-Socket
            $server = Start-SecondPowerShell -ArgumentList $listener, $ServerCert {
                param($l, $c)
                $peer = $l | Receive-SocketConnection -TimeoutSec 10
                try { $null = $peer | Protect-Socket -Certificate $c -TimeoutSec 10 -ErrorAction SilentlyContinue } finally { $peer | Close-Socket }
            }
            try {
                $err = { Connect-Socket -ComputerName 127.0.0.1 -Port $listener.LocalEndPoint.Port -UseTls -TargetHost other.example -TimeoutSec 10 -ErrorAction Stop } |
                    Should -Throw -ErrorId 'CertificateValidationFailed,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
                "$err" | Should -Match 'name mismatch'
                $null = Wait-SecondPowerShell $server -TimeoutSec 20
            } finally {
                Remove-SecondPowerShell $server
            }
        }

        It 'refuses -SkipCertificateCheck without -UseTls as ConflictingParameters' {
            { Connect-Socket -ComputerName 127.0.0.1 -Port 9 -SkipCertificateCheck -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ConnectSocketCommand'
        }
    }

    Context 'Protect-Socket' {
        It 'encrypts both sides: client with -SkipCertificateCheck, server with -Certificate' {
            $pair = New-TlsPair
            $pair.Client.IsEncrypted | Should -BeTrue
            $pair.Peer.IsEncrypted | Should -BeTrue
            $pair.Client.IsTlsServer | Should -BeFalse
            $pair.Peer.IsTlsServer | Should -BeTrue
        }

        It 'sets TlsProtocol, CipherSuite and RemoteCertificate' {
            $pair = New-TlsPair
            "$($pair.Client.TlsProtocol)" | Should -BeIn @('Tls12', 'Tls13')
            $pair.Peer.TlsProtocol | Should -Be $pair.Client.TlsProtocol
            $pair.Client.CipherSuite | Should -Not -BeNullOrEmpty
            $pair.Peer.CipherSuite | Should -Be $pair.Client.CipherSuite
            $pair.Client.RemoteCertificate.Thumbprint | Should -Be $ServerCert.Thumbprint
            $pair.Client.RemoteCertificate.Subject | Should -Be 'CN=localhost'
            $pair.Peer.RemoteCertificate | Should -BeNullOrEmpty
        }

        It 'writes the socket it protected' {
            $pair = New-Pair
            $job = Start-TlsServer -Socket $pair.Peer
            try {
                $out = $pair.Client | Protect-Socket -SkipCertificateCheck -TimeoutSec 10
                $out.Id | Should -Be $pair.Client.Id
                $null = Wait-SecondPowerShell $job -TimeoutSec 20
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'protects a socket given by -Id' {
            $pair = New-Pair
            $job = Start-TlsServer -Socket $pair.Peer
            try {
                $null = Protect-Socket -Id $pair.Client.Id -SkipCertificateCheck -TimeoutSec 10
                $pair.Client.IsEncrypted | Should -BeTrue
                $null = Wait-SecondPowerShell $job -TimeoutSec 20
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'serves with a certificate given as <Form>' -ForEach @(
            @{ Form = 'an X509Certificate2'; Key = 'Object' }
            @{ Form = 'a PFX file with -CertificatePassword'; Key = 'Pfx' }
            @{ Form = 'a PEM file with certificate and key'; Key = 'Pem' }
            @{ Form = 'a PEM certificate with -KeyPath'; Key = 'PemKey' }
        ) {
            $server = switch ($Key) {
                'Object' { @{ Certificate = $ServerCert } }
                'Pfx' { @{ Certificate = $ServerFiles.Pfx; CertificatePassword = $ServerPassword } }
                'Pem' { @{ Certificate = $ServerFiles.Pem } }
                'PemKey' { @{ Certificate = $ServerFiles.CertificatePem; KeyPath = $ServerFiles.KeyPem } }
            }
            $pair = New-TlsPair -Server $server
            $pair.Client.RemoteCertificate.Thumbprint | Should -Be $ServerCert.Thumbprint
            'certificate works' | Send-SocketData -Socket $pair.Client -AppendNewLine
            $pair.Peer | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'certificate works'
        }

        It 'negotiates TLS 1.2 with -TlsProtocol Tls12' {
            $pair = New-TlsPair -Server @{ TlsProtocol = 'Tls12' } -Client @{ SkipCertificateCheck = $true; TlsProtocol = 'Tls12' }
            "$($pair.Client.TlsProtocol)" | Should -Be 'Tls12'
            "$($pair.Peer.TlsProtocol)" | Should -Be 'Tls12'
        }

        It 'negotiates ALPN <Protocol> on both sides' -ForEach @(
            @{ Protocol = 'h2' }
            @{ Protocol = 'http/1.1' }
        ) {
            $pair = New-TlsPair -Server @{ ApplicationProtocol = $Protocol } -Client @{ SkipCertificateCheck = $true; ApplicationProtocol = 'h2', 'http/1.1' }
            $pair.Client.ApplicationProtocol | Should -Be $Protocol
            $pair.Peer.ApplicationProtocol | Should -Be $Protocol
        }

        It 'presents -ClientCertificate to a server with -RequireClientCertificate' {
            $pair = New-TlsPair -Server @{ RequireClientCertificate = $true; SkipCertificateCheck = $true } -Client @{ SkipCertificateCheck = $true; ClientCertificate = $ClientCert }
            $pair.Peer.RemoteCertificate.Thumbprint | Should -Be $ClientCert.Thumbprint
            'with a client certificate' | Send-SocketData -Socket $pair.Client -AppendNewLine
            $pair.Peer | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'with a client certificate'
        }

        It 'fails on the server with CertificateValidationFailed when a required client certificate is missing' {
            $pair = New-Pair
            $job = Start-SecondPowerShell -ArgumentList $pair.Peer, $ServerCert {
                param($s, $c)
                try {
                    $null = $s | Protect-Socket -Certificate $c -RequireClientCertificate -TimeoutSec 10 -ErrorAction Stop
                    'no error'
                } catch {
                    $_.FullyQualifiedErrorId
                    "$_"
                }
            }
            try {
                # With TLS 1.3 the client may finish its side before the server refuses: only the server is asserted.
                $null = $pair.Client | Protect-Socket -SkipCertificateCheck -TimeoutSec 10 -ErrorAction SilentlyContinue
                $result = @(Wait-SecondPowerShell $job -TimeoutSec 20)
                $result[0] | Should -Be 'CertificateValidationFailed,SocketCmdlets.Commands.ProtectSocketCommand'
                $result[1] | Should -Match 'no certificate'
            } finally {
                Remove-SecondPowerShell $job
            }
        }
    }

    Context 'Sending and receiving over TLS' {
        BeforeEach {
            $pair = New-TlsPair
            $client = $pair.Client
            $peer = $pair.Peer
        }

        It 'receives what one read yields by default' {
            'plain receive' | Send-SocketData -Socket $client
            $peer | Receive-SocketData -TimeoutSec 10 | Should -BeExactly 'plain receive'
        }

        It 'receives lines with -Line' {
            "one`ntwo`r`nthree`n" | Send-SocketData -Socket $client
            $peer | Receive-SocketData -Line -Count 3 -TimeoutSec 10 | Should -Be @('one', 'two', 'three')
        }

        It 'receives records with -Delimiter' {
            'a;bb;ccc;' | Send-SocketData -Socket $peer
            $client | Receive-SocketData -Delimiter ';' -Count 3 -TimeoutSec 10 | Should -Be @('a', 'bb', 'ccc')
        }

        It 'receives exactly -ByteCount bytes and leaves the rest' {
            $bytes = New-RandomBytes 3000
            , $bytes | Send-SocketData -Socket $client
            $head = $peer | Receive-SocketData -ByteCount 1000 -AsByteStream -TimeoutSec 10
            $tail = $peer | Receive-SocketData -ByteCount 2000 -AsByteStream -TimeoutSec 10
            Get-Sha256 ([byte[]] ($head + $tail)) | Should -Be (Get-Sha256 $bytes)
        }

        It 'writes byte[] with -AsByteStream, binary data unchanged' {
            $bytes = [byte[]] (0..255)
            , $bytes | Send-SocketData -Socket $peer
            $received = $client | Receive-SocketData -ByteCount 256 -AsByteStream -TimeoutSec 10
            ConvertTo-Hex $received | Should -Be (ConvertTo-Hex $bytes)
        }

        It 'reads -ToEnd after the peer half-closes, and answers on the half-closed connection' {
            'x', 'y', 'z' | Send-SocketData -Socket $client -AppendNewLine
            $client | Close-Socket -Direction Send
            $peer | Receive-SocketData -Line -ToEnd -TimeoutSec 10 | Should -Be @('x', 'y', 'z')
            $peer.EndOfStream | Should -BeTrue
            'still here' | Send-SocketData -Socket $peer -AppendNewLine
            $client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'still here'
        }

        It 'encodes and decodes with -Encoding' {
            'grüße' | Send-SocketData -Socket $client -Encoding utf32 -AppendNewLine
            $peer | Receive-SocketData -Line -Encoding utf32 -TimeoutSec 10 | Should -BeExactly 'grüße'
        }

        It 'streams a file with Send-SocketData -Path (5 MiB, same SHA-256)' {
            $file = Join-Path $Folder 'send-5mib.bin'
            $bytes = New-RandomBytes 5MB
            [System.IO.File]::WriteAllBytes($file, $bytes)
            $job = Start-SecondPowerShell -ArgumentList $client, $file {
                param($s, $path)
                Send-SocketData -Socket $s -Path $path -TimeoutSec 30
                $s | Close-Socket -Direction Send
            }
            try {
                $received = Receive-AllBytes $peer -TimeoutSec 30
                $null = Wait-SecondPowerShell $job -TimeoutSec 30
            } finally {
                Remove-SecondPowerShell $job
            }
            $received.Length | Should -Be 5MB
            Get-Sha256 $received | Should -Be (Get-Sha256 $bytes)
        }

        It 'writes what arrives to -OutFile (5 MiB, same SHA-256)' {
            $file = Join-Path $Folder 'received-5mib.bin'
            $bytes = New-RandomBytes 5MB
            $job = Start-SecondPowerShell -ArgumentList $peer, $bytes {
                param($s, $data)
                , $data | Send-SocketData -Socket $s -TimeoutSec 30
                $s | Close-Socket
            }
            try {
                $client | Receive-SocketData -OutFile $file -TimeoutSec 30
                $null = Wait-SecondPowerShell $job -TimeoutSec 30
            } finally {
                Remove-SecondPowerShell $job
            }
            (Get-Item -LiteralPath $file).Length | Should -Be 5MB
            Get-Sha256 ([System.IO.File]::ReadAllBytes($file)) | Should -Be (Get-Sha256 $bytes)
        }

        It 'carries data both ways at once (each side sends 2 MiB while it receives)' {
            $up = New-RandomBytes 2MB
            $down = New-RandomBytes 2MB
            $job = Start-SecondPowerShell -ArgumentList $peer, $down {
                param($s, $data)
                , $data | Send-SocketData -Socket $s -TimeoutSec 30
                $s | Close-Socket -Direction Send
            }
            try {
                $sender = Start-SecondPowerShell -ArgumentList $client, $up {
                    param($s, $data)
                    , $data | Send-SocketData -Socket $s -TimeoutSec 30
                    $s | Close-Socket -Direction Send
                }
                try {
                    $gotDown = Receive-AllBytes $client -TimeoutSec 30
                    $gotUp = Receive-AllBytes $peer -TimeoutSec 30
                    $null = Wait-SecondPowerShell $sender -TimeoutSec 30
                } finally {
                    Remove-SecondPowerShell $sender
                }
                $null = Wait-SecondPowerShell $job -TimeoutSec 30
            } finally {
                Remove-SecondPowerShell $job
            }
            Get-Sha256 $gotUp | Should -Be (Get-Sha256 $up)
            Get-Sha256 $gotDown | Should -Be (Get-Sha256 $down)
        }
    }

    Context 'Timeouts and Wait-Socket over TLS' {
        BeforeEach {
            $pair = New-TlsPair
            $client = $pair.Client
            $peer = $pair.Peer
        }

        It 'loses nothing when a receive times out: the next receive gets what came after' {
            { $client | Receive-SocketData -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand'
            'after the timeout' | Send-SocketData -Socket $peer -AppendNewLine
            $client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'after the timeout'
        }

        It 'finds an encrypted socket readable with Wait-Socket once data arrives, even after a receive timed out' {
            $client | Receive-SocketData -TimeoutSec 1 -ErrorAction SilentlyContinue
            @(Wait-Socket -Socket $client -Poll) | Should -BeNullOrEmpty
            'wake up' | Send-SocketData -Socket $peer
            @(Wait-Socket -Socket $client -TimeoutSec 5).Count | Should -Be 1
            $client | Receive-SocketData -TimeoutSec 10 | Should -Be 'wake up'
        }

        It 'finds an encrypted socket readable while decrypted data waits to be read' {
            "first`nsecond`n" | Send-SocketData -Socket $peer
            $client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'first'
            @(Wait-Socket -Socket $client -Poll).Count | Should -Be 1
            $client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'second'
            @(Wait-Socket -Socket $client -Poll) | Should -BeNullOrEmpty
        }

        It 'reports SendTimeout when the peer does not read, and closes the TLS connection it cannot go on with' {
            $job = Start-SecondPowerShell -ArgumentList $client {
                param($s)
                try { , [byte[]]::new(64MB) | Send-SocketData -Socket $s -TimeoutSec 1 -ErrorAction Stop; 'no error' } catch { $_.FullyQualifiedErrorId }
            }
            try {
                Wait-SecondPowerShell $job -TimeoutSec 30 | Should -Be 'SendTimeout,SocketCmdlets.Commands.SendSocketDataCommand'
            } finally {
                Remove-SecondPowerShell $job
            }
            $client.State | Should -Be 'Closed'
        }
    }

    Context 'STARTTLS' {
        It 'talks plain text first, then upgrades both sides and goes on encrypted' {
            $pair = New-Pair
            $server = Start-SecondPowerShell -ArgumentList $pair.Peer, $ServerCert {
                param($s, $c)
                '220 ready' | Send-SocketData -Socket $s -AppendNewLine -NewLine "`r`n"
                $command = $s | Receive-SocketData -Line -TimeoutSec 10
                if ($command -ne 'STARTTLS') { throw "expected STARTTLS, got '$command'" }
                '220 go ahead' | Send-SocketData -Socket $s -AppendNewLine -NewLine "`r`n"
                $null = $s | Protect-Socket -Certificate $c -TimeoutSec 10 -ErrorAction Stop
                # Encrypted data right after the handshake, before the client asked for anything.
                '250 welcome, encrypted' | Send-SocketData -Socket $s -AppendNewLine -NewLine "`r`n"
                $secret = $s | Receive-SocketData -Line -TimeoutSec 10
                "250 got '$secret'" | Send-SocketData -Socket $s -AppendNewLine -NewLine "`r`n"
            }
            try {
                $c = $pair.Client
                $c | Receive-SocketData -Line -TimeoutSec 10 | Should -Be '220 ready'
                $c.IsEncrypted | Should -BeFalse
                'STARTTLS' | Send-SocketData -Socket $c -AppendNewLine -NewLine "`r`n"
                $c | Receive-SocketData -Line -TimeoutSec 10 | Should -Be '220 go ahead'
                $null = $c | Protect-Socket -SkipCertificateCheck -TimeoutSec 10
                $c.IsEncrypted | Should -BeTrue
                $c | Receive-SocketData -Line -TimeoutSec 10 | Should -Be '250 welcome, encrypted'
                'swordfish' | Send-SocketData -Socket $c -AppendNewLine -NewLine "`r`n"
                $c | Receive-SocketData -Line -TimeoutSec 10 | Should -Be "250 got 'swordfish'"
                $null = Wait-SecondPowerShell $server -TimeoutSec 20
                $pair.Peer.IsEncrypted | Should -BeTrue
            } finally {
                Remove-SecondPowerShell $server
            }
        }

        It 'hands the handshake bytes that arrived right behind the plain line to the handshake, losing none' {
            $pair = New-Pair
            # The client sends STARTTLS and starts its handshake at once, without waiting for an answer.
            $client = Start-SecondPowerShell -ArgumentList $pair.Client {
                param($s)
                'STARTTLS' | Send-SocketData -Socket $s -AppendNewLine -NewLine "`r`n"
                $null = $s | Protect-Socket -SkipCertificateCheck -TimeoutSec 10 -ErrorAction Stop
                $s | Receive-SocketData -Line -TimeoutSec 10
            }
            try {
                # The ClientHello is behind the line before the server reads it: the line read takes both.
                Wait-Until -TimeoutSec 10 -Because 'the ClientHello to arrive behind the line' { $pair.Peer.Socket.Available -gt 'STARTTLS'.Length + 2 }
                $pair.Peer | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'STARTTLS'
                $pair.Peer.PendingBytes | Should -BeGreaterThan 0
                $null = $pair.Peer | Protect-Socket -Certificate $ServerCert -TimeoutSec 10
                $pair.Peer.IsEncrypted | Should -BeTrue
                'encrypted reply' | Send-SocketData -Socket $pair.Peer -AppendNewLine
                Wait-SecondPowerShell $client -TimeoutSec 20 | Should -Be 'encrypted reply'
            } finally {
                Remove-SecondPowerShell $client
            }
        }
    }

    Context 'Certificate validation' {
        BeforeEach {
            $pair = New-Pair
        }

        It 'refuses a self-signed certificate without -SkipCertificateCheck: CertificateValidationFailed, untrusted root' {
            $job = Start-TlsServer -Socket $pair.Peer
            try {
                $err = { $pair.Client | Protect-Socket -TargetHost localhost -TimeoutSec 10 -ErrorAction Stop } |
                    Should -Throw -ErrorId 'CertificateValidationFailed,SocketCmdlets.Commands.ProtectSocketCommand' -PassThru
                "$err" | Should -Match 'untrusted root'
                $err.CategoryInfo.Category | Should -Be 'SecurityError'
                $err.TargetObject.Id | Should -Be $pair.Client.Id
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'says name mismatch when the certificate is not for -TargetHost' {
            $job = Start-TlsServer -Socket $pair.Peer
            try {
                $err = { $pair.Client | Protect-Socket -TargetHost other.example -TimeoutSec 10 -ErrorAction Stop } |
                    Should -Throw -ErrorId 'CertificateValidationFailed,SocketCmdlets.Commands.ProtectSocketCommand' -PassThru
                "$err" | Should -Match 'name mismatch'
                "$err" | Should -Match 'other\.example'
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'says expired for a certificate whose NotAfter has passed' {
            $job = Start-TlsServer -Socket $pair.Peer -Protect @{ Certificate = $ExpiredCert }
            try {
                $err = { $pair.Client | Protect-Socket -TargetHost localhost -TimeoutSec 10 -ErrorAction Stop } |
                    Should -Throw -ErrorId 'CertificateValidationFailed,SocketCmdlets.Commands.ProtectSocketCommand' -PassThru
                "$err" | Should -Match 'expired'
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'leaves the socket open and plain (Connected) after a failed Protect-Socket' {
            $job = Start-TlsServer -Socket $pair.Peer
            try {
                $pair.Client | Protect-Socket -TargetHost localhost -TimeoutSec 10 -ErrorAction SilentlyContinue
                $pair.Client.State | Should -Be 'Connected'
                $pair.Client.IsEncrypted | Should -BeFalse
                (Get-Socket -Id $pair.Client.Id).Id | Should -Be $pair.Client.Id
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'closes the socket Connect-Socket -UseTls made itself when validation fails (Get-Socket count unchanged)' {
            $listener = $pair.Server
            $server = Start-SecondPowerShell -ArgumentList $listener, $ServerCert {
                param($l, $c)
                $peer = $l | Receive-SocketConnection -TimeoutSec 10
                try { $null = $peer | Protect-Socket -Certificate $c -TimeoutSec 10 -ErrorAction SilentlyContinue } finally { $peer | Close-Socket }
            }
            try {
                $before = @(Get-Socket).Count
                { Connect-Socket -ComputerName localhost -Port $pair.Port -UseTls -TimeoutSec 10 -ErrorAction Stop } |
                    Should -Throw -ErrorId 'CertificateValidationFailed,SocketCmdlets.Commands.ConnectSocketCommand'
                $null = Wait-SecondPowerShell $server -TimeoutSec 20
                # The server's own socket is closed by now too: what is left is what was there before.
                @(Get-Socket).Count | Should -Be $before
            } finally {
                Remove-SecondPowerShell $server
            }
        }
    }

    Context 'Handshake failures' {
        BeforeEach {
            $pair = New-Pair
        }

        It 'ends a handshake with a silent peer on Ctrl+C, with no error, and closes the socket' {
            $job = Start-SecondPowerShell -ArgumentList $pair.Client { param($s) $s | Protect-Socket -SkipCertificateCheck -Verbose }
            try {
                Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
                Stop-SecondPowerShell $job | Should -BeTrue
                Get-StopError $job | Should -BeNullOrEmpty
                Get-ErrorVariable $job | Should -BeNullOrEmpty
                $pair.Client.State | Should -Be 'Closed'
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'reports TlsHandshakeFailed against a plain-text server' {
            $job = Start-SecondPowerShell -ArgumentList $pair.Peer {
                param($s)
                1..20 | ForEach-Object { "220 plain text, not TLS ($_)" } | Send-SocketData -Socket $s -AppendNewLine
            }
            try {
                $err = { $pair.Client | Protect-Socket -SkipCertificateCheck -TimeoutSec 10 -ErrorAction Stop } |
                    Should -Throw -ErrorId 'TlsHandshakeFailed,SocketCmdlets.Commands.ProtectSocketCommand' -PassThru
                $err.CategoryInfo.Category | Should -Be 'ProtocolError'
                $pair.Client.State | Should -Be 'Connected'
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'reports TlsHandshakeFailed when the peer closes in the middle of the handshake' {
            $job = Start-SecondPowerShell -ArgumentList $pair.Peer {
                param($s)
                # Take the ClientHello, then hang up.
                $null = $s | Receive-SocketData -AsByteStream -TimeoutSec 10
                $s | Close-Socket
            }
            try {
                { $pair.Client | Protect-Socket -SkipCertificateCheck -TimeoutSec 10 -ErrorAction Stop } |
                    Should -Throw -ErrorId 'TlsHandshakeFailed,SocketCmdlets.Commands.ProtectSocketCommand'
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'ends the handshake of Connect-Socket -UseTls with a silent peer on Ctrl+C, with no error, leaving no socket' {
            # The listener never accepts: the TCP connect succeeds, the handshake gets no answer; no -TimeoutSec.
            $job = Start-SecondPowerShell -ArgumentList $pair.Port {
                param($port)
                $null = Connect-Socket -ComputerName 127.0.0.1 -Port $port -UseTls -SkipCertificateCheck -Verbose
            }
            try {
                Wait-Until -TimeoutSec 10 { @($job.PowerShell.Streams.Verbose | Where-Object Message -Like 'Starting the TLS handshake*').Count -gt 0 }
                Stop-SecondPowerShell $job | Should -BeTrue
                Get-StopError $job | Should -BeNullOrEmpty
                Get-ErrorVariable $job | Should -BeNullOrEmpty
                $made = @($job.PowerShell.Streams.Verbose | Where-Object Message -Like 'Starting the TLS handshake*')[0].Message
                $id = [int] ($made -replace '^.* on socket (\d+).*$', '$1')
                Get-Socket -Id $id -ErrorAction Ignore | Should -BeNullOrEmpty -Because 'the socket the call made is closed after Ctrl+C'
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'reports ConnectTimeout within -TimeoutSec when the peer never answers the handshake (Connect-Socket -UseTls), leaving no socket' {
            # The listener never accepts: the TCP connect succeeds, the handshake gets no answer.
            $before = @(Get-Socket).Count
            $job = Start-SecondPowerShell -ArgumentList $pair.Port {
                param($port)
                try {
                    $null = Connect-Socket -ComputerName 127.0.0.1 -Port $port -UseTls -SkipCertificateCheck -TimeoutSec 1 -ErrorAction Stop
                    'no error'
                } catch {
                    $_.FullyQualifiedErrorId
                }
            }
            try {
                Wait-SecondPowerShell $job -TimeoutSec 20 | Should -Be 'ConnectTimeout,SocketCmdlets.Commands.ConnectSocketCommand'
            } finally {
                Remove-SecondPowerShell $job
            }
            @(Get-Socket).Count | Should -Be $before
        }

        It 'reports ConnectTimeout within -TimeoutSec when the peer never answers Protect-Socket' {
            $job = Start-SecondPowerShell -ArgumentList $pair.Client {
                param($s)
                try { $null = $s | Protect-Socket -SkipCertificateCheck -TimeoutSec 1 -ErrorAction Stop; 'no error' } catch { $_.FullyQualifiedErrorId }
            }
            try {
                Wait-SecondPowerShell $job -TimeoutSec 20 | Should -Be 'ConnectTimeout,SocketCmdlets.Commands.ProtectSocketCommand'
            } finally {
                Remove-SecondPowerShell $job
            }
        }
    }

    Context 'Bad certificates and parameters' {
        It 'reports CertificateLoadFailed for a wrong PFX password, before any socket call' {
            $fresh = New-Socket | Use-Socket
            $wrong = ConvertTo-SecureString -String 'not the password' -AsPlainText -Force
            { $fresh | Protect-Socket -Certificate $ServerFiles.Pfx -CertificatePassword $wrong -ErrorAction Stop } |
                Should -Throw -ErrorId 'CertificateLoadFailed,SocketCmdlets.Commands.ProtectSocketCommand'
            $fresh.State | Should -Be 'Created'
        }

        It 'names a wrong -CertificatePassword as a possible cause when a PFX cannot be read' {
            $fresh = New-Socket | Use-Socket
            $wrong = ConvertTo-SecureString -String 'not the password' -AsPlainText -Force
            $err = $null
            try { $fresh | Protect-Socket -Certificate $ServerFiles.Pfx -CertificatePassword $wrong -ErrorAction Stop } catch { $err = $_ }
            $err | Should -Not -BeNullOrEmpty
            "$err" | Should -BeLike '*wrong -CertificatePassword*'
        }

        It 'reports FileNotFound for a certificate file that does not exist, before any socket call' {
            $fresh = New-Socket | Use-Socket
            { $fresh | Protect-Socket -Certificate (Join-Path $Folder 'missing.pfx') -ErrorAction Stop } |
                Should -Throw -ErrorId 'FileNotFound,SocketCmdlets.Commands.ProtectSocketCommand'
            $fresh.State | Should -Be 'Created'
        }

        It 'reports FileNotFound for a -KeyPath that does not exist' {
            $fresh = New-Socket | Use-Socket
            { $fresh | Protect-Socket -Certificate $ServerFiles.CertificatePem -KeyPath (Join-Path $Folder 'missing.key') -ErrorAction Stop } |
                Should -Throw -ErrorId 'FileNotFound,SocketCmdlets.Commands.ProtectSocketCommand'
        }

        It 'reports CertificateLoadFailed for a certificate without its private key' {
            $fresh = New-Socket | Use-Socket
            $public = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($ServerCert.RawData)
            { $fresh | Protect-Socket -Certificate $public -ErrorAction Stop } |
                Should -Throw -ErrorId 'CertificateLoadFailed,SocketCmdlets.Commands.ProtectSocketCommand'
        }

        It 'refuses -Certificate with -TargetHost as ConflictingParameters' {
            $fresh = New-Socket | Use-Socket
            { $fresh | Protect-Socket -Certificate $ServerCert -TargetHost localhost -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ProtectSocketCommand'
        }

        It 'reports InvalidSocketState for a socket that is not connected' {
            $fresh = New-Socket | Use-Socket
            { $fresh | Protect-Socket -SkipCertificateCheck -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ProtectSocketCommand'
        }

        It 'reports InvalidSocketState for a socket that is already encrypted' {
            $pair = New-TlsPair
            { $pair.Client | Protect-Socket -SkipCertificateCheck -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ProtectSocketCommand'
            'still works' | Send-SocketData -Socket $pair.Client -AppendNewLine
            $pair.Peer | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'still works'
        }
    }
}

Describe 'TLS cleanup' -Tag 'Tls' {
    It 'leaves no socket open after the TLS tests' {
        @(Get-Socket).Count | Should -Be $StartCount
    }
}

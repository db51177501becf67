# New-SocketCertificate: the certificate it makes (names, key, validity), its use at once as a TLS server and client
# certificate, the PFX and PEM files it writes (read by openssl and by the module), and its argument errors.
# Loopback only; openssl is started by the test and stopped by its id.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Certificates.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    $ProgressPreference = 'SilentlyContinue'

    $script:StartCount = @(Get-Socket).Count
    $script:Folder = Join-Path ([System.IO.Path]::GetTempPath()) "sc-newcert-$PID"
    $null = New-Item -ItemType Directory -Force -Path $Folder
    $script:Password = ConvertTo-SecureString 'new-cert-test' -AsPlainText -Force
    $script:Started = [System.Collections.Generic.List[object]]::new()
    $script:Jobs = [System.Collections.Generic.List[object]]::new()
    $script:Opened = [System.Collections.Generic.List[object]]::new()
    $script:Servers = [System.Collections.Generic.List[object]]::new()

    function Get-SubjectAltName {
        param($Certificate)
        ($Certificate.Extensions | Where-Object { $_.Oid.Value -eq '2.5.29.17' }).Format($false)
    }
}

AfterAll {
    Get-Socket | Close-Socket
    Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction Ignore
}

Describe 'New-SocketCertificate' -Tag 'Tls', 'Certificate' {
    AfterEach {
        Clear-TlsTestState
    }

    Context 'The certificate' {
        It 'has its private key and the names localhost, 127.0.0.1 and ::1 by default' {
            $c = New-SocketCertificate
            $c | Should -BeOfType ([System.Security.Cryptography.X509Certificates.X509Certificate2])
            $c.HasPrivateKey | Should -BeTrue
            $c.Subject | Should -Be 'CN=localhost'
            $names = Get-SubjectAltName $c
            # Linux formats 'DNS:localhost, IP Address:127.0.0.1', Windows 'DNS Name=localhost, IP Address=127.0.0.1'.
            $names | Should -Match 'DNS( Name)?[:=]localhost'
            $names | Should -Match 'IP Address[:=]127\.0\.0\.1'
            $names | Should -Match 'IP Address[:=](0:0:0:0:0:0:0:1|::1)'
        }

        It 'is valid from a little before now for -ValidDays days' {
            $c = New-SocketCertificate -ValidDays 3
            $c.NotBefore.ToUniversalTime() | Should -BeLessThan ([datetime]::UtcNow)
            $c.NotAfter.ToUniversalTime() | Should -BeGreaterThan ([datetime]::UtcNow.AddDays(2))
            $c.NotAfter.ToUniversalTime() | Should -BeLessThan ([datetime]::UtcNow.AddDays(4))
        }

        It 'carries -DnsName, -IPAddress and -Subject instead of the defaults' {
            $c = New-SocketCertificate -DnsName test.internal, alt.internal -IPAddress 10.1.2.3 -Subject 'CN=test server, O=SocketCmdlets'
            $names = Get-SubjectAltName $c
            $names | Should -Match 'test\.internal'
            $names | Should -Match 'alt\.internal'
            $names | Should -Match '10\.1\.2\.3'
            $names | Should -Not -Match 'localhost'
            $c.Subject | Should -Be 'CN=test server, O=SocketCmdlets'
        }

        It 'is named after the first DNS name when no -Subject is given' {
            (New-SocketCertificate -DnsName api.test).Subject | Should -Be 'CN=api.test'
        }

        It 'has an RSA 2048-bit key by default, -KeySize bits with -KeySize, and a P-256 key with -KeyAlgorithm ECDsa' {
            $rsa = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey((New-SocketCertificate))
            $rsa.ExportParameters($false).Modulus.Length * 8 | Should -Be 2048
            $rsa3072 = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey((New-SocketCertificate -KeySize 3072))
            $rsa3072.ExportParameters($false).Modulus.Length * 8 | Should -Be 3072
            $ec = New-SocketCertificate -KeyAlgorithm ECDsa
            $ec.PublicKey.Oid.Value | Should -Be '1.2.840.10045.2.1'
            $curve = [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::GetECDsaPrivateKey($ec).ExportParameters($false).Curve
            $curve.Oid.Value | Should -Be '1.2.840.10045.3.1.7'
        }

        It 'is for server and client authentication' {
            $eku = (New-SocketCertificate).Extensions | Where-Object { $_ -is [System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension] }
            @($eku.EnhancedKeyUsages.Value) | Should -Be @('1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2')
        }

        It 'tells on -Verbose what it made, with the SHA-256 thumbprint' {
            $c = New-SocketCertificate -Verbose 4>&1 | Tee-Object -Variable all | Where-Object { $_ -is [System.Security.Cryptography.X509Certificates.X509Certificate2] }
            $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join ' '
            $sha256 = (Get-FileHash -Algorithm SHA256 -InputStream ([System.IO.MemoryStream]::new($c.RawData))).Hash
            $verbose | Should -Match $sha256
            $verbose | Should -Match 'RSA 2048'
        }
    }

    Context 'Used at once' {
        It 'serves TLS from memory with a <Algorithm> key to a client that trusts it, with no certificate errors' -ForEach @(
            @{ Algorithm = 'Rsa' }, @{ Algorithm = 'ECDsa' }
        ) {
            $c = New-SocketCertificate -KeyAlgorithm $Algorithm
            $server = Start-TrackedTlsServer $c
            $client = Connect-Tls $server @{ TrustedCertificate = $c }
            $client.IsEncrypted | Should -BeTrue
            $client.CertificateErrors | Should -BeNullOrEmpty
            $client.RemoteCertificate.Thumbprint | Should -Be $c.Thumbprint
            $client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'hello over TLS'
        }

        It 'is a client certificate for mutual TLS, trusted by the server with -TrustedCertificate' {
            $serverCert = New-SocketCertificate
            $clientCert = New-SocketCertificate -DnsName alice -Subject 'CN=alice'
            $server = Start-TrackedTlsServer $serverCert @{ RequireClientCertificate = $true; TrustedCertificate = $clientCert }
            $client = Connect-Socket -ComputerName localhost -Port $server.Port -TimeoutSec 10 |
                Protect-Socket -ClientCertificate $clientCert -TrustedCertificate $serverCert -TimeoutSec 10 -ErrorAction Stop
            $Opened.Add($client)
            $client | Receive-SocketData -Line -Count 2 -TimeoutSec 10 | Should -Be @('hello over TLS', 'client: CN=alice')
        }

        It 'is refused as a client certificate by a server that trusts another one' {
            $serverCert = New-SocketCertificate
            $clientCert = New-SocketCertificate -DnsName mallory
            $server = Start-TrackedTlsServer $serverCert @{ RequireClientCertificate = $true; TrustedCertificate = (New-SocketCertificate -DnsName alice) }
            $client = Connect-Socket -ComputerName localhost -Port $server.Port -TimeoutSec 10
            $Opened.Add($client)
            # TLS 1.3 lets the client finish before the server has judged its certificate: the refusal shows on the
            # server, and the client gets no data.
            $null = $client | Protect-Socket -ClientCertificate $clientCert -TrustedCertificate $serverCert -TimeoutSec 10 -ErrorAction SilentlyContinue
            { Wait-SecondPowerShell $server.Job -TimeoutSec 30 } | Should -Throw '*not issued by any of the certificates trusted for this call*'
            $server.Job.PowerShell.InvocationStateInfo.Reason.ErrorRecord.FullyQualifiedErrorId | Should -BeLike 'CertificateValidationFailed,*'
        }
    }

    Context 'Files' {
        It 'writes a PFX with -Password that openssl reads and Protect-Socket serves from' {
            if (Skip-WithoutOpenssl) { return }
            $pfx = Join-Path $Folder 'server.pfx'
            $c = New-SocketCertificate -Path $pfx -Password $Password
            $read = Invoke-Openssl @('pkcs12', '-in', $pfx, '-passin', 'pass:new-cert-test', '-nokeys', '-clcerts')
            $read.ExitCode | Should -Be 0 -Because $read.Err
            $read.Out | Should -Match 'subject=CN ?= ?localhost'
            $server = Start-TrackedTlsServer $pfx @{ CertificatePassword = $Password }
            (Connect-Tls $server @{ TrustedCertificate = $c }).RemoteCertificate.Thumbprint | Should -Be $c.Thumbprint
        }

        It 'writes a PEM with certificate and key that openssl x509 and openssl pkey read, the key matching the certificate' {
            if (Skip-WithoutOpenssl) { return }
            $pem = Join-Path $Folder 'both.pem'
            $c = New-SocketCertificate -Path $pem
            $x509 = Invoke-Openssl @('x509', '-in', $pem, '-noout', '-subject', '-ext', 'subjectAltName', '-pubkey')
            $x509.ExitCode | Should -Be 0 -Because $x509.Err
            $x509.Out | Should -Match 'DNS:localhost'
            $x509.Out | Should -Match 'IP Address:127\.0\.0\.1'
            $pkey = Invoke-Openssl @('pkey', '-in', $pem, '-pubout')
            $pkey.ExitCode | Should -Be 0 -Because $pkey.Err
            $certKey = ($x509.Out -split '(?=-----BEGIN PUBLIC KEY-----)')[1].Trim()
            $pkey.Out.Trim() | Should -Be $certKey
            (Get-Content -Raw $pem) | Should -Match '-----BEGIN PRIVATE KEY-----'
        }

        It 'writes the key to -KeyPath, and Protect-Socket -Certificate -KeyPath serves from the pair' {
            $pem = Join-Path $Folder 'split.pem'
            $key = Join-Path $Folder 'split.key'
            $c = New-SocketCertificate -KeyAlgorithm ECDsa -Path $pem -KeyPath $key
            (Get-Content -Raw $pem) | Should -Not -Match 'PRIVATE KEY'
            (Get-Content -Raw $key) | Should -Match '-----BEGIN PRIVATE KEY-----'
            $server = Start-TrackedTlsServer $pem @{ KeyPath = $key }
            (Connect-Tls $server @{ TrustedCertificate = $pem }).CertificateErrors | Should -BeNullOrEmpty
        }

        It 'makes the files that hold a key readable by their owner only' {
            if ($IsWindows) { Set-ItResult -Skipped -Because 'Unix file modes do not exist on Windows'; return }
            $pem = Join-Path $Folder 'private.pem'
            $pfx = Join-Path $Folder 'private.pfx'
            $null = New-SocketCertificate -Path $pem
            $null = New-SocketCertificate -Path $pfx -Password $Password
            # 0600: UserRead | UserWrite.
            [int] (Get-Item $pem).UnixFileMode | Should -Be 384
            [int] (Get-Item $pfx).UnixFileMode | Should -Be 384
        }

        It 'serves openssl s_server from its PEM files to a client that trusts the PEM file' {
            if (Skip-WithoutOpenssl) { return }
            $pem = Join-Path $Folder 'sserver.pem'
            $key = Join-Path $Folder 'sserver.key'
            $c = New-SocketCertificate -Path $pem -KeyPath $key
            $port = Get-FreePort
            $p = Start-TestProcess openssl @('s_server', '-accept', "127.0.0.1:$port", '-cert', $pem, '-key', $key, '-quiet', '-rev', '-naccept', '1')
            $Started.Add($p)
            Wait-Listening $port -Process $p
            $client = Connect-Socket -ComputerName localhost -Port $port -UseTls -TrustedCertificate $pem -TimeoutSec 10 -ErrorAction Stop
            $Opened.Add($client)
            $client.CertificateErrors | Should -BeNullOrEmpty
            $client.RemoteCertificate.Thumbprint | Should -Be $c.Thumbprint
            'abc' | Send-SocketData -Socket $client -AppendNewLine
            $client | Receive-SocketData -Line -TimeoutSec 10 | Should -BeExactly 'cba'
        }

        It 'serves Protect-Socket to openssl s_client, which verifies it with -CAfile and the host name' {
            if (Skip-WithoutOpenssl) { return }
            $pem = Join-Path $Folder 'verify.pem'
            $c = New-SocketCertificate -Path $pem
            $listener = Start-SocketListen -Port 0 -Address Loopback
            $Opened.Add($listener)
            $p = Start-TestProcess openssl @('s_client', '-connect', "127.0.0.1:$($listener.LocalEndPoint.Port)", '-servername', 'localhost',
                '-CAfile', $pem, '-verify_return_error', '-verify_hostname', 'localhost', '-brief') -RedirectInput
            $Started.Add($p)
            $peer = $listener | Receive-SocketConnection -TimeoutSec 10
            $Opened.Add($peer)
            $null = $peer | Protect-Socket -Certificate $c -TimeoutSec 10 -ErrorAction Stop
            'hello s_client' | Send-SocketData -Socket $peer -AppendNewLine
            $peer | Close-Socket
            $p.StandardInput.Close()
            Wait-TestProcess $p -TimeoutSec 10
            $p.StdErr | Should -Match 'Verification: OK'
            $p.StdOut | Should -Match 'hello s_client'
        }

        It 'shows -WhatIf and writes no file' {
            $pfx = Join-Path $Folder 'whatif.pfx'
            $null = New-SocketCertificate -Path $pfx -WhatIf
            Test-Path $pfx | Should -BeFalse
        }
    }

    Context 'Bad arguments' {
        It 'refuses <Case> with <ErrorId>' -ForEach @(
            @{ Case = '-Password without -Path'; Arguments = @{ Password = (ConvertTo-SecureString 'x' -AsPlainText -Force) }; ErrorId = 'ConflictingParameters' }
            @{ Case = '-KeyPath without -Path'; Arguments = @{ KeyPath = 'k.key' }; ErrorId = 'ConflictingParameters' }
            @{ Case = '-Password with a .pem path'; Arguments = @{ Path = 'x.pem'; Password = (ConvertTo-SecureString 'x' -AsPlainText -Force) }; ErrorId = 'ConflictingParameters' }
            @{ Case = '-KeyPath with a .pfx path'; Arguments = @{ Path = 'x.pfx'; KeyPath = 'k.key' }; ErrorId = 'ConflictingParameters' }
            @{ Case = '-KeySize with ECDsa'; Arguments = @{ KeyAlgorithm = 'ECDsa'; KeySize = 3072 }; ErrorId = 'ConflictingParameters' }
            @{ Case = 'a .txt path'; Arguments = @{ Path = 'x.txt' }; ErrorId = 'UnsupportedCertificateFormat' }
            @{ Case = 'an -IPAddress that is a name'; Arguments = @{ IPAddress = 'localhost' }; ErrorId = 'InvalidArgument' }
            @{ Case = '-ValidDays 0'; Arguments = @{ ValidDays = 0 }; ErrorId = 'ParameterArgumentValidationError' }
            @{ Case = '-KeySize 1024'; Arguments = @{ KeySize = 1024 }; ErrorId = 'ParameterArgumentValidationError' }
        ) {
            Push-Location $Folder
            try {
                { New-SocketCertificate @Arguments -ErrorAction Stop } | Should -Throw -ErrorId "$ErrorId,SocketCmdlets.Commands.NewSocketCertificateCommand"
                @(Get-ChildItem $Folder -Filter 'x.*') | Should -BeNullOrEmpty
            } finally {
                Pop-Location
            }
        }

        It 'reports FileError for a -Path in a folder that does not exist' {
            { New-SocketCertificate -Path (Join-Path $Folder 'no/such/folder/x.pfx') -ErrorAction Stop } |
                Should -Throw -ErrorId 'FileError,SocketCmdlets.Commands.NewSocketCertificateCommand'
        }
    }
}

Describe 'New-SocketCertificate cleanup' -Tag 'Tls', 'Certificate' {
    It 'leaves no socket open' {
        @(Get-Socket).Count | Should -Be $StartCount
    }
}

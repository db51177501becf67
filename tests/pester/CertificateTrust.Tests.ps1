# Private trust on TLS clients: -TrustedCertificate (objects and PEM, DER, PFX paths) and -CertificateThumbprint on
# Connect-Socket -UseTls and Protect-Socket, the socket's CertificateErrors, conflicting switches, Ctrl+C and two
# runspaces at once; against the module's own server and openssl s_server with a CA made by openssl here.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Certificates.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    $ProgressPreference = 'SilentlyContinue'

    $script:StartCount = @(Get-Socket).Count
    $script:Folder = Join-Path ([System.IO.Path]::GetTempPath()) "sc-trust-$PID"
    $null = New-Item -ItemType Directory -Force -Path $Folder
    $script:HasOpenssl = [bool] (Get-Command openssl -CommandType Application -ErrorAction Ignore)
    $script:Started = [System.Collections.Generic.List[object]]::new()
    $script:Jobs = [System.Collections.Generic.List[object]]::new()
    $script:Servers = [System.Collections.Generic.List[object]]::new()
    $script:Opened = [System.Collections.Generic.List[object]]::new()

    $script:ServerCert = New-SocketCertificate
    $script:OtherCert = New-SocketCertificate
    $script:ElsewhereCert = New-SocketCertificate -DnsName other.test
    $script:ExpiredCert = New-TestCertificate -NotBefore ([DateTimeOffset]::Now.AddDays(-10)) -NotAfter ([DateTimeOffset]::Now.AddDays(-1))
    $script:Sha256 = (Get-FileHash -Algorithm SHA256 -InputStream ([System.IO.MemoryStream]::new($ServerCert.RawData))).Hash

    # The server certificate as trust files: PEM (certificate only), DER, PFX without a password, a PEM bundle.
    $script:Files = @{
        Pem    = Join-Path $Folder 'server.crt.pem'
        Der    = Join-Path $Folder 'server.cer'
        Pfx    = Join-Path $Folder 'server-nopassword.pfx'
        Bundle = Join-Path $Folder 'bundle.pem'
        Locked = Join-Path $Folder 'locked.pfx'
        Junk   = Join-Path $Folder 'junk.txt'
    }
    $pem = { param($c) "-----BEGIN CERTIFICATE-----`n$([Convert]::ToBase64String($c.RawData, 'InsertLineBreaks'))`n-----END CERTIFICATE-----`n" }
    [System.IO.File]::WriteAllText($Files.Pem, (& $pem $ServerCert))
    [System.IO.File]::WriteAllBytes($Files.Der, $ServerCert.RawData)
    [System.IO.File]::WriteAllBytes($Files.Pfx, $ServerCert.Export('Pfx'))
    [System.IO.File]::WriteAllText($Files.Bundle, (& $pem $OtherCert) + (& $pem $ServerCert))
    [System.IO.File]::WriteAllBytes($Files.Locked, $ServerCert.Export('Pfx', 'secret'))
    [System.IO.File]::WriteAllText($Files.Junk, 'not a certificate')
}

AfterAll {
    Get-Socket | Close-Socket
    Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction Ignore
}

Describe 'Private trust' -Tag 'Tls', 'Certificate' {
    AfterEach {
        Clear-TlsTestState
    }

    Context '-TrustedCertificate' {
        It 'connects without -SkipCertificateCheck to a self-signed server it trusts, with CertificateErrors empty' {
            $server = Start-TrackedTlsServer $ServerCert
            $c = Connect-Tls $server @{ TrustedCertificate = $ServerCert }
            $c.IsEncrypted | Should -BeTrue
            $c.CertificateErrors | Should -BeNullOrEmpty
            $c | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'hello over TLS'
        }

        It 'trusts with Protect-Socket too, and says so on -Verbose' {
            $server = Start-TrackedTlsServer $ServerCert
            $plain = Connect-Socket -ComputerName localhost -Port $server.Port -TimeoutSec 10
            $Opened.Add($plain)
            $verbose = $plain | Protect-Socket -TrustedCertificate $ServerCert -TimeoutSec 10 -Verbose -ErrorAction Stop 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
            $plain.IsEncrypted | Should -BeTrue
            ($verbose -join ' ') | Should -Match 'Trusting, for this handshake only, 1 certificate'
        }

        It 'trusts the certificate given as a <Form> path' -ForEach @(
            @{ Form = 'PEM'; Key = 'Pem' }, @{ Form = 'DER'; Key = 'Der' }, @{ Form = 'PFX'; Key = 'Pfx' }, @{ Form = 'PEM bundle'; Key = 'Bundle' }
        ) {
            $server = Start-TrackedTlsServer $ServerCert
            (Connect-Tls $server @{ TrustedCertificate = $Files[$Key] }).CertificateErrors | Should -BeNullOrEmpty
        }

        It 'refuses a server whose certificate another trusted root does not vouch for' {
            $server = Start-TrackedTlsServer $ServerCert
            $before = @(Get-Socket).Count
            $err = { Connect-Tls $server @{ TrustedCertificate = $OtherCert } } |
                Should -Throw -ErrorId 'CertificateValidationFailed,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
            "$err" | Should -Match 'not issued by any of the certificates trusted for this call'
            "$err" | Should -Match '-TrustedCertificate'
            @(Get-Socket).Count | Should -Be $before
        }

        It 'still refuses a name mismatch from a trusted certificate' {
            $server = Start-TrackedTlsServer $ElsewhereCert
            $err = { Connect-Tls $server @{ TrustedCertificate = $ElsewhereCert } } |
                Should -Throw -ErrorId 'CertificateValidationFailed,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
            "$err" | Should -Match "name mismatch"
            "$err" | Should -Not -Match 'untrusted root'
        }

        It 'accepts the same certificate when -TargetHost names what it was issued for' {
            $server = Start-TrackedTlsServer $ElsewhereCert
            (Connect-Tls $server @{ TrustedCertificate = $ElsewhereCert; TargetHost = 'other.test' }).IsEncrypted | Should -BeTrue
        }

        It 'still refuses an expired certificate that it trusts' {
            $server = Start-TrackedTlsServer $ExpiredCert
            $err = { Connect-Tls $server @{ TrustedCertificate = $ExpiredCert } } |
                Should -Throw -ErrorId 'CertificateValidationFailed,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
            "$err" | Should -Match 'expired'
        }
    }

    Context 'A certificate authority made with openssl' {
        BeforeAll {
            if ($HasOpenssl) {
                [System.IO.File]::WriteAllText((Join-Path $Folder 'leaf.ext'), "subjectAltName=DNS:localhost,IP:127.0.0.1`nbasicConstraints=CA:FALSE`nextendedKeyUsage=serverAuth,clientAuth`n")
                $null = Invoke-Openssl -Require -WorkingDirectory $Folder @('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=SocketCmdlets Test CA',
                    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
                $null = Invoke-Openssl -Require -WorkingDirectory $Folder @('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost')
                $null = Invoke-Openssl -Require -WorkingDirectory $Folder @('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '1', '-extfile', 'leaf.ext')
                $Started | Stop-TestProcess
                $Started.Clear()
            }
        }

        It 'trusts a leaf served by Protect-Socket through its CA (ca.pem), the CA never in any store' {
            if (Skip-WithoutOpenssl) { return }
            $server = Start-TrackedTlsServer (Join-Path $Folder 'leaf.pem') @{ KeyPath = (Join-Path $Folder 'leaf.key') }
            $c = Connect-Tls $server @{ TrustedCertificate = (Join-Path $Folder 'ca.pem') }
            $c.CertificateErrors | Should -BeNullOrEmpty
            $c.RemoteCertificate.Issuer | Should -Be 'CN=SocketCmdlets Test CA'
        }

        It 'trusts openssl s_server''s CA-issued leaf through the CA, and refuses it without' {
            if (Skip-WithoutOpenssl) { return }
            $port = Get-FreePort
            $p = Start-TestProcess openssl @('s_server', '-accept', "127.0.0.1:$port", '-cert', (Join-Path $Folder 'leaf.pem'), '-key', (Join-Path $Folder 'leaf.key'), '-quiet', '-rev', '-naccept', '2')
            $Started.Add($p)
            Wait-Listening $port -Process $p
            $c = Connect-Socket -ComputerName localhost -Port $port -UseTls -TrustedCertificate (Join-Path $Folder 'ca.pem') -TimeoutSec 10 -ErrorAction Stop
            $Opened.Add($c)
            $c.CertificateErrors | Should -BeNullOrEmpty
            'trusted' | Send-SocketData -Socket $c -AppendNewLine
            $c | Receive-SocketData -Line -TimeoutSec 10 | Should -BeExactly 'detsurt'
            # s_server serves one connection at a time.
            $c | Close-Socket
            { Connect-Socket -ComputerName localhost -Port $port -UseTls -TrustedCertificate $OtherCert -TimeoutSec 10 -ErrorAction Stop } |
                Should -Throw -ErrorId 'CertificateValidationFailed,SocketCmdlets.Commands.ConnectSocketCommand'
        }
    }

    Context '-CertificateThumbprint' {
        It 'accepts the pinned certificate by its <Kind> thumbprint' -ForEach @(
            @{ Kind = 'SHA-256'; Pin = { $Sha256 } }
            @{ Kind = 'SHA-1'; Pin = { $ServerCert.Thumbprint } }
            @{ Kind = 'lower-case SHA-256 with colons'; Pin = { (($Sha256 -split '(..)' -ne '') -join ':').ToLowerInvariant() } }
        ) {
            $server = Start-TrackedTlsServer $ServerCert
            $c = Connect-Tls $server @{ CertificateThumbprint = (& $Pin) }
            $c.IsEncrypted | Should -BeTrue
            $c.CertificateErrors | Should -BeNullOrEmpty
        }

        It 'refuses another certificate with CertificateThumbprintMismatch, naming its SHA-256 thumbprint' {
            $server = Start-TrackedTlsServer $ServerCert
            $err = { Connect-Tls $server @{ CertificateThumbprint = $OtherCert.Thumbprint } } |
                Should -Throw -ErrorId 'CertificateThumbprintMismatch,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
            "$err" | Should -Match $Sha256
        }

        It 'refuses with Protect-Socket the same way' {
            $server = Start-TrackedTlsServer $ServerCert
            $plain = Connect-Socket -ComputerName localhost -Port $server.Port -TimeoutSec 10
            $Opened.Add($plain)
            { $plain | Protect-Socket -CertificateThumbprint $OtherCert.Thumbprint -TimeoutSec 10 -ErrorAction Stop } |
                Should -Throw -ErrorId 'CertificateThumbprintMismatch,SocketCmdlets.Commands.ProtectSocketCommand'
            $plain.IsEncrypted | Should -BeFalse
        }

        It 'accepts a pinned certificate whatever its name: the pin names the certificate' {
            $server = Start-TrackedTlsServer $ElsewhereCert
            (Connect-Tls $server @{ CertificateThumbprint = $ElsewhereCert.Thumbprint }).IsEncrypted | Should -BeTrue
        }

        It 'accepts with both a pin and a root when the root vouches for a certificate that is not pinned' {
            $server = Start-TrackedTlsServer $ServerCert
            (Connect-Tls $server @{ CertificateThumbprint = $OtherCert.Thumbprint; TrustedCertificate = $ServerCert }).IsEncrypted | Should -BeTrue
        }
    }

    Context 'CertificateErrors' {
        It 'is empty on a socket that is not encrypted' {
            $pair = New-ConnectedPair
            try {
                $pair.Client.CertificateErrors | Should -BeNullOrEmpty
            } finally {
                $pair | Close-ConnectedPair
            }
        }

        It 'says <Says> under -SkipCertificateCheck, and the socket connects' -ForEach @(
            @{ Says = 'untrusted root'; Certificate = { $ServerCert }; Pattern = 'untrusted root' }
            @{ Says = 'expired'; Certificate = { $ExpiredCert }; Pattern = 'expired' }
            @{ Says = 'name mismatch'; Certificate = { $ElsewhereCert }; Pattern = "name mismatch" }
        ) {
            $server = Start-TrackedTlsServer (& $Certificate)
            $c = Connect-Tls $server @{ SkipCertificateCheck = $true }
            $c.IsEncrypted | Should -BeTrue
            ($c.CertificateErrors -join "`n") | Should -Match $Pattern
        }

        It 'keeps the chain''s own words for an untrusted root' {
            $server = Start-TrackedTlsServer $ServerCert
            $c = Connect-Tls $server @{ SkipCertificateCheck = $true }
            # The runtime's status text, in parentheses after the module's words.
            ($c.CertificateErrors -join "`n") | Should -Match 'untrusted root[^\n]*\(.+\)'
        }
    }

    Context 'Bad arguments, before any connection' {
        It 'refuses <Switches> on <Command> as ConflictingParameters' -ForEach @(
            @{ Command = 'Connect-Socket'; Switches = '-SkipCertificateCheck -TrustedCertificate'; Extra = @{ UseTls = $true; SkipCertificateCheck = $true; TrustedCertificate = 'x.pem' } }
            @{ Command = 'Connect-Socket'; Switches = '-SkipCertificateCheck -CertificateThumbprint'; Extra = @{ UseTls = $true; SkipCertificateCheck = $true; CertificateThumbprint = ('AB' * 32) } }
            @{ Command = 'Connect-Socket'; Switches = '-TrustedCertificate without -UseTls'; Extra = @{ TrustedCertificate = 'x.pem' } }
            @{ Command = 'Protect-Socket'; Switches = '-SkipCertificateCheck -TrustedCertificate'; Extra = @{ SkipCertificateCheck = $true; TrustedCertificate = 'x.pem' } }
            @{ Command = 'Protect-Socket'; Switches = '-SkipCertificateCheck -CertificateThumbprint'; Extra = @{ SkipCertificateCheck = $true; CertificateThumbprint = ('AB' * 32) } }
        ) {
            $listener = Start-SocketListen -Port 0 -Address Loopback
            $Opened.Add($listener)
            $before = @(Get-Socket).Count
            $class = if ($Command -eq 'Connect-Socket') { 'ConnectSocketCommand' } else { 'ProtectSocketCommand' }
            $pair = if ($Command -eq 'Protect-Socket') { New-ConnectedPair } else { $null }
            try {
                $call = if ($Command -eq 'Connect-Socket') {
                    { Connect-Socket -ComputerName 127.0.0.1 -Port $listener.LocalEndPoint.Port @Extra -TimeoutSec 5 -ErrorAction Stop }
                } else {
                    { $pair.Client | Protect-Socket @Extra -TimeoutSec 5 -ErrorAction Stop }
                }
                & $call 2>$null | Out-Null
            } catch {
                $_.FullyQualifiedErrorId | Should -Be "ConflictingParameters,SocketCmdlets.Commands.$class"
            } finally {
                if ($pair) { $pair.Client.IsEncrypted | Should -BeFalse; $pair.Client.State | Should -Be 'Connected'; $pair | Close-ConnectedPair }
            }
            $Error[0].FullyQualifiedErrorId | Should -Be "ConflictingParameters,SocketCmdlets.Commands.$class"
            # Nothing connected: no new socket, and the listener has no connection waiting.
            @(Get-Socket).Count | Should -Be $before
            @(Wait-Socket -Socket $listener -Read -TimeoutSec 1) | Should -BeNullOrEmpty
        }

        It 'refuses a thumbprint that is not 40 or 64 hex digits as InvalidThumbprint' {
            { Connect-Socket -ComputerName 127.0.0.1 -Port 9 -UseTls -CertificateThumbprint 'XYZ' -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidThumbprint,SocketCmdlets.Commands.ConnectSocketCommand'
        }

        It 'reports <ErrorId> for <Case> given to -TrustedCertificate' -ForEach @(
            @{ Case = 'a missing file'; Value = { Join-Path $Folder 'missing.pem' }; ErrorId = 'FileNotFound' }
            @{ Case = 'a file that is no certificate'; Value = { $Files.Junk }; ErrorId = 'CertificateLoadFailed' }
            @{ Case = 'a password-protected PFX path'; Value = { $Files.Locked }; ErrorId = 'CertificateLoadFailed' }
            @{ Case = 'an object that is no certificate'; Value = { 42 }; ErrorId = 'CertificateLoadFailed' }
        ) {
            $before = @(Get-Socket).Count
            $err = { Connect-Socket -ComputerName 127.0.0.1 -Port 9 -UseTls -TrustedCertificate (& $Value) -ErrorAction Stop } |
                Should -Throw -ErrorId "$ErrorId,SocketCmdlets.Commands.ConnectSocketCommand" -PassThru
            if ($Case -like '*password*') { "$err" | Should -Match 'X509Certificate2 object' }
            @(Get-Socket).Count | Should -Be $before
        }
    }

    Context 'Ctrl+C and two runspaces' {
        It 'ends a handshake with -TrustedCertificate against a silent peer on Ctrl+C, with no error' {
            $pair = New-ConnectedPair
            $job = Start-SecondPowerShell -ArgumentList $pair.Client, $ServerCert { param($s, $c) $s | Protect-Socket -TrustedCertificate $c -Verbose }
            try {
                Wait-Until -TimeoutSec 10 { @($job.PowerShell.Streams.Verbose | Where-Object { "$_" -match 'Starting the TLS handshake' }).Count -gt 0 }
                Stop-SecondPowerShell $job | Should -BeTrue
                Get-StopError $job | Should -BeNullOrEmpty
                Get-ErrorVariable $job | Should -BeNullOrEmpty
            } finally {
                Remove-SecondPowerShell $job
                $pair | Close-ConnectedPair
            }
        }

        It 'keeps the trust of each call to itself when two runspaces connect at once' {
            $good = Start-TrackedTlsServer $ServerCert
            $bad = Start-TrackedTlsServer $ServerCert
            $trusting = Start-SecondPowerShell -ArgumentList $good.Port, $ServerCert {
                param($port, $c)
                $s = Connect-Socket -ComputerName localhost -Port $port -UseTls -TrustedCertificate $c -TimeoutSec 20 -ErrorAction Stop
                $s | Receive-SocketData -Line -TimeoutSec 20
                $s | Close-Socket
            }
            $distrusting = Start-SecondPowerShell -ArgumentList $bad.Port, $OtherCert {
                param($port, $c)
                try {
                    $null = Connect-Socket -ComputerName localhost -Port $port -UseTls -TrustedCertificate $c -TimeoutSec 20 -ErrorAction Stop
                    'connected'
                } catch {
                    $_.FullyQualifiedErrorId
                }
            }
            $Jobs.Add($trusting); $Jobs.Add($distrusting)
            Wait-SecondPowerShell $trusting -TimeoutSec 30 | Should -Be 'hello over TLS'
            Wait-SecondPowerShell $distrusting -TimeoutSec 30 | Should -Be 'CertificateValidationFailed,SocketCmdlets.Commands.ConnectSocketCommand'
        }
    }
}

Describe 'Trust on Join-Socket and Test-SocketConnection' -Tag 'Tls', 'Trust' {
    BeforeAll {
        $script:SelfSigned = New-SocketCertificate
    }

    It 'Join-Socket -UseTls -TrustedCertificate relays to a server whose self-signed certificate it trusts' {
        $server = Start-TlsTestServer -Certificate $SelfSigned
        $pair = New-ConnectedPair
        $join = $null
        try {
            $join = Start-SecondPowerShell -ArgumentList $pair.Peer, $server.Port, $SelfSigned {
                param($s, $port, $trusted)
                Join-Socket -Socket $s -ComputerName localhost -Port $port -UseTls -TrustedCertificate $trusted -TimeoutSec 10 -ErrorAction Stop
            }
            $pair.Client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'hello over TLS'
            $pair.Client | Close-Socket
            $session = @(Wait-SecondPowerShell $join -TimeoutSec 30)
            $join.PowerShell.Streams.Error | Should -BeNullOrEmpty
            $session.Count | Should -Be 1
        } finally {
            Remove-SecondPowerShell $join
            $server | Stop-TlsTestServer
            $pair.Close()
        }
    }

    It 'Join-Socket refuses a certificate that is not pinned, and keeps -Socket open' {
        $server = Start-TlsTestServer -Certificate $SelfSigned
        $pair = New-ConnectedPair
        try {
            { Join-Socket -Socket $pair.Peer -ComputerName localhost -Port $server.Port -UseTls -CertificateThumbprint ('00' * 32) -TimeoutSec 10 -ErrorAction Stop } |
                Should -Throw -ErrorId 'CertificateThumbprintMismatch,SocketCmdlets.Commands.JoinSocketCommand'
            $pair.Peer.State | Should -Be 'Connected'
        } finally {
            $server | Stop-TlsTestServer
            $pair.Close()
        }
    }

    It 'Test-SocketConnection -UseTls judges the certificate by -TrustedCertificate, and lists an untrusted root without it' {
        $trusted = Start-TlsTestServer -Certificate $SelfSigned
        $untrusted = Start-TlsTestServer -Certificate $SelfSigned
        try {
            $good = Test-SocketConnection -ComputerName localhost -Port $trusted.Port -UseTls -TrustedCertificate $SelfSigned -TimeoutSec 10
            $good.Open | Should -BeTrue
            @($good.CertificateErrors) | Should -BeNullOrEmpty
            $bad = Test-SocketConnection -ComputerName localhost -Port $untrusted.Port -UseTls -TimeoutSec 10
            $bad.Open | Should -BeTrue
            @($bad.CertificateErrors).Count | Should -BeGreaterThan 0
        } finally {
            $trusted, $untrusted | Stop-TlsTestServer
        }
    }

    It 'Test-SocketConnection lists a certificate that is not pinned' {
        $server = Start-TlsTestServer -Certificate $SelfSigned
        try {
            $result = Test-SocketConnection -ComputerName localhost -Port $server.Port -UseTls -CertificateThumbprint ('00' * 32) -TimeoutSec 10
            $result.Open | Should -BeTrue
            @($result.CertificateErrors).Count | Should -BeGreaterThan 0
        } finally {
            $server | Stop-TlsTestServer
        }
    }

    It 'refuses -TrustedCertificate with -SkipCertificateCheck, and without -UseTls, before connecting' {
        $pair = New-ConnectedPair
        try {
            { Join-Socket -Socket $pair.Peer -ComputerName localhost -Port 1 -UseTls -SkipCertificateCheck -TrustedCertificate $SelfSigned -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.JoinSocketCommand'
            { Join-Socket -Socket $pair.Peer -ComputerName localhost -Port 1 -TrustedCertificate $SelfSigned -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.JoinSocketCommand'
            { Test-SocketConnection -ComputerName localhost -Port 1 -UseTls -SkipCertificateCheck -CertificateThumbprint ('00' * 32) -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.TestSocketConnectionCommand'
            { Test-SocketConnection -ComputerName localhost -Port 1 -TrustedCertificate $SelfSigned -ErrorAction Stop } |
                Should -Throw -ErrorId 'TlsParameterWithoutUseTls,SocketCmdlets.Commands.TestSocketConnectionCommand'
        } finally {
            $pair.Close()
        }
    }
}

Describe 'Private trust cleanup' -Tag 'Tls', 'Certificate' {
    It 'leaves no socket open' {
        # The test servers' second runspaces close their sockets as they end: give them a moment (bounded).
        try {
            Wait-Until -TimeoutSec 10 -Because 'the sockets of the tests to be closed' { @(Get-Socket).Count -le $StartCount }
        } catch {
            # The assertion below fails with the list of what is still open.
        }
        @(Get-Socket).Count | Should -Be $StartCount -Because "these are still open: $(Get-Socket | Format-List Id, Name, State, LocalEndPoint, RemoteEndPoint, Owner | Out-String)"
    }
}

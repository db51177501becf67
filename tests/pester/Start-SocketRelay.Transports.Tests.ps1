# Start-SocketRelay across transports and peers: TLS terminated and originated (openssl s_server), Unix<->TCP, IPv6,
# 200 concurrent python3 clients with SHA-256, socat as client and server. Loopback only; every wait is bounded.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Certificates.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    $ProgressPreference = 'SilentlyContinue'
    . (Join-Path $PSScriptRoot 'Relay.Common.ps1')
}

AfterAll {
    Stop-RelayTestPeers
    Get-Socket | Close-Socket
}

Describe 'Start-SocketRelay transports' -Tag 'Relay' {
    BeforeEach {
        $server = Start-SocketListen -Port 0 -Address Loopback | Use-Socket
        $serverPort = $server.LocalEndPoint.Port
    }

    AfterEach {
        Clear-RelayTestState
    }

    Context 'transports' {
        It 'terminates TLS with -Certificate in front of a plain server' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort; Certificate = $ServerCert }
            $client = Connect-Socket -ComputerName localhost -Port $relay.LocalPort -UseTls -SkipCertificateCheck -TimeoutSec 10 | Use-Socket
            $peer = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            'over tls' | Send-SocketData -Socket $client -AppendNewLine
            try { $peer | Receive-SocketData -Line -TimeoutSec 10 -ErrorAction Stop | Should -Be 'over tls' } catch { Start-Sleep 1; $relay | Receive-Job | Format-List * | Out-String | Write-Host; $peer | Format-List * | Out-String | Write-Host; throw }
            $peer.IsEncrypted | Should -BeFalse
            'plain reply' | Send-SocketData -Socket $peer -AppendNewLine
            $client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'plain reply'
        }

        It 'originates TLS with -UseTls towards openssl s_server' {
            if (-not $OpenSsl) { Set-ItResult -Skipped -Because 'openssl is not installed (Debian package openssl)'; return }
            $files = Export-TestCertificate -Certificate $ServerCert -Folder $Folder -Name relay -Password 'x'
            $port = Get-FreePort
            $openssl = Start-TestProcess $OpenSsl.Source -RedirectInput -ArgumentList 's_server', '-accept', "127.0.0.1:$port", '-cert', $files.CertificatePem, '-key', $files.KeyPem, '-rev', '-naccept', '1'
            try {
                Wait-Until -TimeoutSec 20 -Because 'openssl s_server to listen' { Test-Listening $port }
                $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $port; UseTls = $true; SkipCertificateCheck = $true }
                $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
                'hello' | Send-SocketData -Socket $client -AppendNewLine
                $client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'olleh'
            } finally {
                Stop-TestProcess $openssl -GraceSec 5
            }
        }

        It 'listens on a Unix socket and forwards to TCP' {
            if ($IsWindows) { Set-ItResult -Skipped -Because 'Unix domain socket paths are not tested on Windows'; return }
            $path = New-SocketPath
            $relay = Start-TestRelay @{ ListenPath = $path; ComputerName = '127.0.0.1'; Port = $serverPort }
            $relay.LocalEndPoint | Should -Be $path
            $client = Connect-Socket -Path $path -TimeoutSec 10 | Use-Socket
            $peer = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            'from unix' | Send-SocketData -Socket $client
            $peer | Receive-SocketData -TimeoutSec 10 | Should -Be 'from unix'
            $relay | Stop-Job
            Test-Path -LiteralPath $path | Should -BeFalse
        }

        It 'listens on TCP and forwards to a Unix socket with -Path' {
            if ($IsWindows) { Set-ItResult -Skipped -Because 'Unix domain socket paths are not tested on Windows'; return }
            $path = New-SocketPath
            $unix = Start-SocketListen -Path $path | Use-Socket
            $relay = Start-TestRelay @{ Path = $path }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            $peer = $unix | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            'to unix' | Send-SocketData -Socket $client
            $peer | Receive-SocketData -TimeoutSec 10 | Should -Be 'to unix'
        }

        It 'relays IPv6 to IPv6' {
            $v6 = Start-SocketListen -Port 0 -Address '::1' -AddressFamily InterNetworkV6 | Use-Socket
            $relay = Start-TestRelay @{ ListenAddress = '::1'; ComputerName = '::1'; Port = $v6.LocalEndPoint.Port }
            $relay.LocalEndPoint | Should -Be "[::1]:$($relay.LocalPort)"
            $client = Connect-Socket -ComputerName '::1' -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            $peer = $v6 | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            'six' | Send-SocketData -Socket $client
            $peer | Receive-SocketData -TimeoutSec 10 | Should -Be 'six'
            $peer.RemoteEndPoint.Address.ToString() | Should -Be '::1'
        }

        It 'relays 200 concurrent python3 clients with SHA-256 equal at both ends' {
            if (-not $Python) { Set-ItResult -Skipped -Because 'python3 is not installed (Debian package python3)'; return }
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $EchoPort }
            $run = & $Python.Source $Peers clients $relay.LocalPort 200 200 (256KB)
            $run | Should -Be 'ok 200'
            # Python checked SHA-256 at its end; the relay must have recorded 200 clean sessions of 256 KiB each way.
            $closed = [System.Collections.Generic.List[object]]::new()
            Wait-Until -TimeoutSec 30 -Because '200 closed sessions' {
                foreach ($s in @($relay | Receive-Job)) { if ($s.EndReason -eq 'Closed') { $closed.Add($s) } }
                $closed.Count -ge 200
            }
            ($closed | Measure-Object BytesToTarget -Sum).Sum | Should -Be (200 * 256KB)
            ($closed | Measure-Object BytesToSource -Sum).Sum | Should -Be (200 * 256KB)
        }

        It 'carries socat''s half-close: socat sends, half-closes and reads the answer to the end' {
            if (-not ($Socat -and $Python)) { Set-ItResult -Skipped -Because 'socat and python3 are needed (Debian packages socat, python3)'; return }
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $EchoPort }
            $out = 'through socat' | & $Socat.Source -t 10 - "TCP:127.0.0.1:$($relay.LocalPort)"
            $out | Should -Be 'through socat'
            (Receive-Session $relay).EndReason | Should -Be 'Closed'
        }

        It 'forwards to a socat server that answers after end of stream' {
            if (-not $Socat) { Set-ItResult -Skipped -Because 'socat is not installed (Debian package socat)'; return }
            $port = Get-FreePort
            $socat = Start-TestProcess $Socat.Source -RedirectInput -ArgumentList "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr", 'SYSTEM:tr a-z A-Z'
            try {
                Wait-Until -TimeoutSec 20 -Because 'socat to listen' { Test-Listening $port }
                $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $port }
                $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
                'shout' | Send-SocketData -Socket $client
                $client | Close-Socket -Direction Send
                $client | Receive-SocketData -ToEnd -TimeoutSec 10 | Should -Be 'SHOUT'
            } finally {
                Stop-TestProcess $socat -GraceSec 5
            }
        }
    }
}

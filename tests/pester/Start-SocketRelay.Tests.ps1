# Start-SocketRelay: the port forwarder as a job. Job life cycle, sessions in Receive-Job, Stop-Job and Remove-Module,
# limits and allow/deny, refused targets, TLS both ways, Unix<->TCP, IPv6, python3, socat and openssl as peers,
# 200 concurrent clients and no leaks. Loopback only; every wait is bounded.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Certificates.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    $ProgressPreference = 'SilentlyContinue'
    $script:ServerCert = New-TestCertificate
    $script:Folder = Join-Path ([System.IO.Path]::GetTempPath()) "sc-relay-$PID"
    $null = New-Item -ItemType Directory -Force -Path $Folder
    $script:Serial = 0
    $script:Python = Get-Command python3 -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    $script:Socat = Get-Command socat -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    $script:OpenSsl = Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    $script:Peers = Join-Path $PSScriptRoot 'RelayPeers.py'

    $script:Opened = [System.Collections.Generic.List[object]]::new()
    $script:Relays = [System.Collections.Generic.List[object]]::new()
    function Use-Socket {
        param([Parameter(ValueFromPipeline)] $Socket)
        process { if ($null -ne $Socket) { $Opened.Add($Socket); $Socket } }
    }

    function Start-TestRelay {
        # Start-SocketRelay on a free loopback port; the relay is stopped and removed after the test.
        param([hashtable] $Relay)
        if (-not $Relay.ContainsKey('ListenPath') -and -not $Relay.ContainsKey('ListenPort')) { $Relay.ListenPort = 0 }
        if (-not $Relay.ContainsKey('ListenPath') -and -not $Relay.ContainsKey('ListenAddress')) { $Relay.ListenAddress = '127.0.0.1' }
        $job = Start-SocketRelay @Relay -ErrorAction Stop
        $Relays.Add($job)
        $job
    }

    function Receive-Session {
        # Waits (bounded) until the relay has reported -Count sessions and returns them.
        param([Parameter(Mandatory)] $Job, [int] $Count = 1)
        $all = [System.Collections.Generic.List[object]]::new()
        Wait-Until -TimeoutSec 20 -Because "$Count session(s) from the relay" {
            foreach ($s in @($Job | Receive-Job)) { $all.Add($s) }
            $all.Count -ge $Count
        }
        $all.ToArray()
    }

    function New-SocketPath {
        $script:Serial++
        Join-Path ([System.IO.Path]::GetTempPath()) "sc-relay-$PID-$Serial.sock"
    }

    function Get-FreePort {
        $probe = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
        try { $probe.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0)); $probe.LocalEndPoint.Port } finally { $probe.Dispose() }
    }

    function Start-Peer {
        # Starts a program with redirected standard streams; stop it with Stop-Peer (by its id).
        param([string] $FilePath, [string[]] $ArgumentList)
        $info = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
        foreach ($a in $ArgumentList) { $info.ArgumentList.Add($a) }
        $info.RedirectStandardInput = $true
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $info.UseShellExecute = $false
        [System.Diagnostics.Process]::Start($info)
    }

    function Stop-Peer {
        param($Process)
        if ($null -eq $Process) { return }
        try { $Process.StandardInput.Close() } catch { }
        if (-not $Process.WaitForExit(5000)) { Stop-Process -Id $Process.Id -Force -ErrorAction SilentlyContinue; $null = $Process.WaitForExit(5000) }
        $Process.Dispose()
    }

    function Test-Listening {
        # True when a TCP listener is on the port (asked of the system, so a peer that accepts once is not used up).
        param([int] $Port)
        @([System.Net.NetworkInformation.IPGlobalProperties]::GetIPGlobalProperties().GetActiveTcpListeners() | Where-Object Port -EQ $Port).Count -gt 0
    }

    function Get-RelayThread {
        # The names of this process's threads that belong to relays (Linux shows thread names in /proc).
        if (-not (Test-Path /proc/self/task)) { return @() }
        @(Get-ChildItem /proc/self/task -ErrorAction SilentlyContinue | ForEach-Object {
                Get-Content (Join-Path $_.FullName 'comm') -ErrorAction SilentlyContinue } | Where-Object { $_ -like 'SocketRelay*' })
    }

    # One python echo server for the tests that need a target that answers.
    if ($Python) {
        $script:Echo = Start-Peer -FilePath $Python.Source -ArgumentList $Peers, 'echo-server'
        $script:EchoPort = [int]$Echo.StandardOutput.ReadLine()
    }
}

AfterAll {
    foreach ($job in $Relays) { $job | Stop-Job; $job | Remove-Job -Force -ErrorAction SilentlyContinue }
    Get-Socket | Close-Socket
    if ($Python) { Stop-Peer $Echo }
    Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction Ignore
}

Describe 'Start-SocketRelay' -Tag 'Relay' {
    BeforeEach {
        $server = Start-SocketListen -Port 0 -Address Loopback | Use-Socket
        $serverPort = $server.LocalEndPoint.Port
    }

    AfterEach {
        $Opened | Close-Socket
        $Opened.Clear()
        foreach ($job in $Relays) { $job | Stop-Job; $job | Remove-Job -Force -ErrorAction SilentlyContinue }
        $Relays.Clear()
    }

    Context 'job life cycle' {
        It 'returns a running SocketRelayJob that Get-Job lists, with its endpoints and counters' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort; Name = 'fwd' }
            $relay.PSJobTypeName | Should -Be 'SocketRelayJob'
            $relay.State | Should -Be 'Running'
            $relay.LocalPort | Should -BeGreaterThan 0
            $relay.LocalEndPoint | Should -Be "127.0.0.1:$($relay.LocalPort)"
            $relay.Target | Should -Be "127.0.0.1:$serverPort"
            (Get-Job -Name fwd).Id | Should -Be $relay.Id
            $relay.RejectedConnections | Should -Be 0
            $relay.BytesToTarget, $relay.BytesToSource | Should -Be 0, 0
        }

        It 'forwards a connection both ways and Receive-Job yields its session' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            $peer = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            'request' | Send-SocketData -Socket $client -AppendNewLine
            $peer | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'request'
            Wait-Until -TimeoutSec 10 { $relay.ActiveConnections -eq 1 -and $relay.BytesToTarget -eq 8 }
            'reply!' | Send-SocketData -Socket $peer
            $peer | Close-Socket -Direction Send
            $client | Receive-SocketData -ToEnd -TimeoutSec 10 | Should -Be 'reply!'
            $client | Close-Socket -Direction Send
            $session = Receive-Session $relay
            $session.EndReason | Should -Be 'Closed'
            $session.BytesToTarget | Should -Be 8
            $session.BytesToSource | Should -Be 6
            $session.SourceEndPoint | Should -Be ([SocketCmdlets.NetSocket]::Format($client.LocalEndPoint))
            $session.TargetEndPoint | Should -Be "127.0.0.1:$serverPort"
            $relay.TotalConnections | Should -Be 1
            $relay.ActiveConnections | Should -Be 0
        }

        It 'Stop-Job closes the listener and the relayed connections, whose sessions end as Stopped' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            $peer = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            $relay | Stop-Job
            $relay.State | Should -Be 'Stopped'
            @($client | Receive-SocketData -ToEnd -TimeoutSec 10).Count | Should -Be 0
            @($peer | Receive-SocketData -ToEnd -TimeoutSec 10).Count | Should -Be 0
            ($relay | Receive-Job).EndReason | Should -Be 'Stopped'
            { Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
        }

        It 'Wait-Job waits until the relay is stopped, and Remove-Job removes it' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort }
            $relay | Wait-Job -Timeout 1 | Should -BeNullOrEmpty
            $relay | Stop-Job
            ($relay | Wait-Job -Timeout 10).State | Should -Be 'Stopped'
            $relay | Remove-Job
            Get-Job -Id $relay.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'writes a connection log with Receive-Job | Export-Csv' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort }
            foreach ($i in 1..3) {
                $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
                $peer = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
                "line $i" | Send-SocketData -Socket $client
                $client | Close-Socket -Direction Send
                $null = $peer | Receive-SocketData -ToEnd -TimeoutSec 10
                $peer | Close-Socket
            }
            $sessions = Receive-Session $relay -Count 3
            $csv = Join-Path $Folder 'log.csv'
            $sessions | Export-Csv -LiteralPath $csv -NoTypeInformation
            $rows = @(Import-Csv -LiteralPath $csv)
            $rows.Count | Should -Be 3
            $rows[0].PSObject.Properties.Name | Should -Contain 'SourceEndPoint'
            $rows.BytesToTarget | Should -Be '6', '6', '6'
            $rows.EndReason | Should -Be 'Closed', 'Closed', 'Closed'
        }

        It 'Remove-Module stops the relays of its session' {
            $job = Start-SecondPowerShell -ArgumentList $serverPort {
                param($p)
                $r = Start-SocketRelay -ListenPort 0 -ListenAddress 127.0.0.1 -ComputerName 127.0.0.1 -Port $p
                Remove-Module SocketCmdlets
                $r.LocalPort
                $r.JobStateInfo.State
            }
            try {
                $port, $state = Wait-SecondPowerShell $job -TimeoutSec 30
                $state | Should -Be 'Stopped'
                { Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -ErrorAction Stop } |
                    Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'leaves no thread or descriptor behind after 1,000 relayed connections and Stop-Job' {
            if (-not $Python) { Set-ItResult -Skipped -Because 'python3 is not installed (Debian package python3)'; return }
            Get-RelayThread | Should -BeNullOrEmpty -Because 'the relays of the earlier tests were stopped'
            Invoke-FullGC
            $before = Get-ResourceCount
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $EchoPort }
            $run = & $Python.Source $Peers clients $relay.LocalPort 1000 20 1024
            $run | Should -Be 'ok 1000'
            Wait-Until -TimeoutSec 20 { $relay.ActiveConnections -eq 0 }
            $relay.TotalConnections | Should -Be 1000
            $relay | Stop-Job
            $relay | Remove-Job
            Wait-Until -TimeoutSec 20 -Because 'the descriptors to go back to where they were' {
                Invoke-FullGC
                (Get-ResourceCount).Handles -le $before.Handles
            }
            Get-RelayThread | Should -BeNullOrEmpty
        }
    }

    Context 'limits' {
        It 'closes clients beyond -MaxConnections at once and counts them' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort; MaxConnections = 1 }
            $first = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            $null = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            Wait-Until -TimeoutSec 10 { $relay.ActiveConnections -eq 1 }
            $second = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            @($second | Receive-SocketData -ToEnd -TimeoutSec 10).Count | Should -Be 0
            $relay.RejectedConnections | Should -Be 1
            $relay.TotalConnections | Should -Be 1
            'still relayed' | Send-SocketData -Socket $first
            $first.State | Should -Be 'Connected'
        }

        It 'relays only -AllowAddress clients and closes a -DenyAddress client (127.0.0.2 vs 127.0.0.1)' {
            if (-not $IsLinux) { Set-ItResult -Skipped -Because 'binding clients to 127.0.0.2 and 127.0.0.3 needs Linux (the whole 127.0.0.0/8 on lo)'; return }
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort; ListenAddress = 'Any'; AllowAddress = '127.0.0.0/8', '::1'; DenyAddress = '127.0.0.2/32' }
            $denied = New-Socket -AddressFamily InterNetwork | Register-SocketBinding -Address 127.0.0.2 -Port 0 | Use-Socket
            $null = $denied | Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10
            @($denied | Receive-SocketData -ToEnd -TimeoutSec 10 -ErrorAction SilentlyContinue).Count | Should -Be 0
            $relay.RejectedConnections | Should -Be 1
            $allowed = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            $peer = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            'allowed' | Send-SocketData -Socket $allowed
            $peer | Receive-SocketData -TimeoutSec 10 | Should -Be 'allowed'
            $relay.TotalConnections | Should -Be 1
        }

        It 'refuses a client outside -AllowAddress' {
            if (-not $IsLinux) { Set-ItResult -Skipped -Because 'binding clients to 127.0.0.2 and 127.0.0.3 needs Linux (the whole 127.0.0.0/8 on lo)'; return }
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort; AllowAddress = '127.0.0.1' }
            $outside = New-Socket -AddressFamily InterNetwork | Register-SocketBinding -Address 127.0.0.3 -Port 0 | Use-Socket
            $null = $outside | Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10
            @($outside | Receive-SocketData -ToEnd -TimeoutSec 10 -ErrorAction SilentlyContinue).Count | Should -Be 0
            $relay.RejectedConnections | Should -Be 1
            $relay.TotalConnections | Should -Be 0
        }

        It 'closes an idle connection after -IdleTimeoutSec' {
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $serverPort; IdleTimeoutSec = 0.3 }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            $null = $server | Receive-SocketConnection -TimeoutSec 10 | Use-Socket
            @($client | Receive-SocketData -ToEnd -TimeoutSec 10).Count | Should -Be 0
            (Receive-Session $relay).EndReason | Should -Be 'IdleTimeout'
        }
    }

    Context 'bad input' {
        It 'rejects invalid CIDR text with InvalidAddressFilter before anything is bound' {
            $port = Get-FreePort
            { Start-SocketRelay -ListenPort $port -ListenAddress 127.0.0.1 -ComputerName 127.0.0.1 -Port $serverPort -AllowAddress '10.0.0.0/33' -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidAddressFilter,SocketCmdlets.Commands.StartSocketRelayCommand'
            { Start-SocketRelay -ListenPort $port -ComputerName 127.0.0.1 -Port $serverPort -DenyAddress 'nonsense' -ErrorAction Stop } |
                Should -Throw -ExpectedMessage '*nonsense*'
            $listener = Start-SocketListen -Port $port -Address 127.0.0.1 | Use-Socket
            $listener.State | Should -Be 'Listening'
        }

        It 'reports a listening port in use as AddressInUse' {
            { Start-SocketRelay -ListenPort $serverPort -ListenAddress 127.0.0.1 -ComputerName 127.0.0.1 -Port 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'AddressInUse,SocketCmdlets.Commands.StartSocketRelayCommand'
        }

        It 'reports a refused target per connection, closes the client and keeps running' {
            $closedPort = Get-FreePort
            $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $closedPort }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
            @($client | Receive-SocketData -ToEnd -TimeoutSec 10 -ErrorAction SilentlyContinue).Count | Should -Be 0
            $session = Receive-Session $relay
            $session.EndReason | Should -Be 'Error'
            $session.Error | Should -Match 'ConnectionRefused'
            $relay.State | Should -Be 'Running'
        }

        It 'refuses -SkipCertificateCheck without -UseTls' {
            { Start-SocketRelay -ListenPort 0 -ComputerName 127.0.0.1 -Port 1 -SkipCertificateCheck -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.StartSocketRelayCommand'
        }
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
            $openssl = Start-Peer -FilePath $OpenSsl.Source -ArgumentList 's_server', '-accept', "127.0.0.1:$port", '-cert', $files.CertificatePem, '-key', $files.KeyPem, '-rev', '-naccept', '1'
            try {
                Wait-Until -TimeoutSec 20 -Because 'openssl s_server to listen' { Test-Listening $port }
                $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $port; UseTls = $true; SkipCertificateCheck = $true }
                $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
                'hello' | Send-SocketData -Socket $client -AppendNewLine
                $client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'olleh'
            } finally {
                Stop-Peer $openssl
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
            $socat = Start-Peer -FilePath $Socat.Source -ArgumentList "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr", 'SYSTEM:tr a-z A-Z'
            try {
                Wait-Until -TimeoutSec 20 -Because 'socat to listen' { Test-Listening $port }
                $relay = Start-TestRelay @{ ComputerName = '127.0.0.1'; Port = $port }
                $client = Connect-Socket -ComputerName 127.0.0.1 -Port $relay.LocalPort -TimeoutSec 10 | Use-Socket
                'shout' | Send-SocketData -Socket $client
                $client | Close-Socket -Direction Send
                $client | Receive-SocketData -ToEnd -TimeoutSec 10 | Should -Be 'SHOUT'
            } finally {
                Stop-Peer $socat
            }
        }
    }
}

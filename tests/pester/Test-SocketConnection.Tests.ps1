# Test-SocketConnection: every status, many hosts and ports, throttle, -Count, -Quiet, -Wait, pipeline binding, TLS
# facts, bad input, Ctrl+C and descriptors.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Certificates.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    $script:Cmdlet = 'SocketCmdlets.Commands.TestSocketConnectionCommand'
    $script:Listener = Start-SocketListen -Port 0 -Address Loopback
    $script:OpenPort = $Listener.LocalEndPoint.Port
    $script:ClosedPort = Get-FreePort

    function New-FullListener {
        # A listener with a backlog of 1 whose queue is full: the kernel drops further SYNs, so a connect to it gets no
        # answer (a filtered port) without leaving loopback.
        $listener = Start-SocketListen -Port 0 -Address Loopback -Backlog 1
        $port = $listener.LocalEndPoint.Port
        $fillers = [System.Collections.Generic.List[System.Net.Sockets.Socket]]::new()
        $attempts = foreach ($i in 1..6) {
            $s = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
            $fillers.Add($s)
            $s.ConnectAsync([System.Net.IPAddress]::Loopback, $port)
        }
        Wait-Until -TimeoutSec 20 -Because 'a first connection to be queued' { @($attempts | Where-Object IsCompleted).Count -gt 0 }
        # Twice in a row, so a connect that is merely slow under load is not taken for a dropped one.
        $done = -1; $stable = 0; $rounds = 0
        while ($stable -lt 2 -and $rounds -lt 60) {
            Start-Sleep -Milliseconds 300
            $now = @($attempts | Where-Object IsCompleted).Count
            if ($now -eq $done) { $stable++ } else { $stable = 0 }
            $done = $now; $rounds++
        }
        if ($done -eq $attempts.Count) { throw 'The listener''s queue never filled, so no connect blocks here.' }
        [pscustomobject]@{ Listener = $listener; Port = $port; Fillers = $fillers }
    }

    function Remove-FullListener {
        param($Full)
        if ($null -eq $Full) { return }
        $Full.Fillers | ForEach-Object { $_.Dispose() }
        $Full.Listener | Close-Socket
    }

    function Get-SocketHandleCount {
        # The process's open sockets (entries of /proc/self/fd that link to socket:[...]).
        @([System.IO.Directory]::GetFileSystemEntries('/proc/self/fd') | Where-Object {
                try { ([System.IO.FileInfo]::new($_).LinkTarget) -like 'socket:*' } catch { $false }
            }).Count
    }

    $script:Full = New-FullListener
}

AfterAll {
    Remove-FullListener $Full
    Get-Socket | Close-Socket
}

Describe 'Test-SocketConnection statuses' -Tag 'TestSocketConnection' {
    It 'finds a listening port Open, with its address and the connect latency' {
        $r = Test-SocketConnection -ComputerName 127.0.0.1 -Port $OpenPort
        $r.Status | Should -Be 'Open'
        $r.Open | Should -BeTrue
        $r.RemoteAddress | Should -Be ([ipaddress] '127.0.0.1')
        $r.Port | Should -Be $OpenPort
        $r.LatencyMs | Should -BeGreaterOrEqual 0
        $r.Attempt | Should -Be 1
        $r.Detail | Should -BeNullOrEmpty
        $r.PSObject.TypeNames[0] | Should -Be 'SocketCmdlets.SocketConnectionTest'
    }

    It 'finds a port nobody listens on Refused, with no error' {
        $r = Test-SocketConnection 127.0.0.1 $ClosedPort -ErrorVariable failure
        $failure | Should -BeNullOrEmpty
        $r.Status | Should -Be 'Refused'
        $r.Open | Should -BeFalse
        $r.LatencyMs | Should -Not -BeNullOrEmpty
        $r.Detail | Should -Match 'refused'
    }

    It 'finds a port whose SYNs are dropped TimedOut after a sub-second -TimeoutSec' {
        $r = Test-SocketConnection 127.0.0.1 $Full.Port -TimeoutSec 0.3
        $r.Status | Should -Be 'TimedOut'
        $r.LatencyMs | Should -BeNullOrEmpty
        $r.Detail | Should -BeExactly 'No answer within 0.3 s.'
    }

    It 'reports a name that does not resolve as HostNotFound, one result per port, not as an error' {
        $r = @(Test-SocketConnection 'no-such-host.invalid' -Port 80, 443 -TimeoutSec 10 -ErrorVariable failure)
        $failure | Should -BeNullOrEmpty
        $r.Count | Should -Be 2
        $r.Status | Sort-Object -Unique | Should -Be 'HostNotFound'
        ($r.Port | Sort-Object) | Should -Be @(80, 443)
        $r[0].RemoteAddress | Should -BeNullOrEmpty
    }

    It 'finds Unreachable and TimedOut in a network namespace with an unreachable route and a silent link' {
        if (-not $IsLinux -or -not (Get-Command ip -CommandType Application -ErrorAction Ignore)) {
            Set-ItResult -Skipped -Because 'ip (iproute2) is missing, or this is not Linux'
            return
        }
        $ns = "socketcmdlets-probe-$PID"
        $null = & ip netns add $ns 2>&1
        if ($LASTEXITCODE -ne 0) {
            Set-ItResult -Skipped -Because "'ip netns add' needs root (CAP_SYS_ADMIN)"
            return
        }
        $child = $null
        try {
            & ip -n $ns link set lo up
            & ip -n $ns route add unreachable 10.99.0.0/24
            # A veth pair whose far end has no address, with a fixed neighbour entry (no ARP): what is sent there is
            # dropped, so connects through it get no answer, like a filtered port.
            & ip -n $ns link add probe0 type veth peer name probe1
            & ip -n $ns addr add 10.98.0.1/24 dev probe0
            & ip -n $ns link set probe0 up
            & ip -n $ns link set probe1 up
            & ip -n $ns neigh add 10.98.0.2 lladdr 02:00:00:00:00:02 dev probe0 nud permanent
            $script = Join-Path $TestDrive 'netns-probe.ps1'
            Set-Content -LiteralPath $script -Value @'
param($ModulePath)
Import-Module $ModulePath
Test-SocketConnection 10.99.0.1, 10.98.0.2 -Port 80 -TimeoutSec 1 -Ordered | ForEach-Object { "$($_.ComputerName) $($_.Status)" }
'@
            $child = Start-ChildPwsh -Namespace $ns -ToolManifest -File $script -ArgumentList $env:SOCKETCMDLETS_MODULE_PATH `
                -CacheHome (Join-Path ([System.IO.Path]::GetTempPath()) "socketcmdlets-netns-cache-$PID")
            Wait-TestProcess $child -TimeoutSec 120
            $child.ExitCode | Should -Be 0 -Because $child.StdErr
            @($child.StdOut -split "\r?\n" | Where-Object { $_ }) | Should -Be @('10.99.0.1 Unreachable', '10.98.0.2 TimedOut')
        } finally {
            $child | Stop-TestProcess
            $null = & ip netns del $ns 2>&1
        }
    }
}

Describe 'Test-SocketConnection over many hosts and ports' -Tag 'TestSocketConnection' {
    It 'probes every host × port' {
        $r = @(Test-SocketConnection -ComputerName 127.0.0.1, localhost -Port $OpenPort, $ClosedPort -TimeoutSec 5)
        $r.Count | Should -Be 4
        foreach ($h in '127.0.0.1', 'localhost') {
            ($r | Where-Object { $_.ComputerName -eq $h -and $_.Port -eq $OpenPort }).Status | Should -Be 'Open'
            ($r | Where-Object { $_.ComputerName -eq $h -and $_.Port -eq $ClosedPort }).Status | Should -Be 'Refused'
        }
    }

    It 'writes in input order with -Ordered, the slow probe first' {
        $r = @(Test-SocketConnection 127.0.0.1 -Port $Full.Port, $ClosedPort, $OpenPort -TimeoutSec 0.5 -Ordered)
        $r.Port | Should -Be @($Full.Port, $ClosedPort, $OpenPort)
        $r.Status | Should -Be @('TimedOut', 'Refused', 'Open')
    }

    It 'writes results as they complete without -Ordered: the timed-out probe last' {
        $r = @(Test-SocketConnection 127.0.0.1 -Port $Full.Port, $ClosedPort, $OpenPort -TimeoutSec 1)
        $r[-1].Port | Should -Be $Full.Port
    }

    It 'probes every address of a name with -AllAddresses' {
        $expected = @([System.Net.Dns]::GetHostAddresses('localhost') | ForEach-Object { if ($_.IsIPv4MappedToIPv6) { $_.MapToIPv4() } else { $_ } } |
                Where-Object { $_.AddressFamily -in 'InterNetwork', 'InterNetworkV6' } | Sort-Object -Unique { $_.ToString() })
        $r = @(Test-SocketConnection localhost $ClosedPort -AllAddresses -TimeoutSec 5)
        $r.Count | Should -Be $expected.Count
        ($r.RemoteAddress | ForEach-Object ToString | Sort-Object) | Should -Be ($expected | ForEach-Object ToString | Sort-Object)
    }

    It 'keeps at most -ThrottleLimit sockets open, and none afterwards' -Skip:(-not (Test-Path '/proc/self/fd')) {
        $before = Get-SocketHandleCount
        $job = Start-SecondPowerShell { param($Port) Test-SocketConnection 127.0.0.1 -Port (@($Port) * 12) -TimeoutSec 0.5 -ThrottleLimit 3 } -ArgumentList $Full.Port
        try {
            $peak = 0
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while (-not $job.Handle.IsCompleted -and $clock.Elapsed.TotalSeconds -lt 60) {
                $peak = [Math]::Max($peak, (Get-SocketHandleCount) - $before)
                Start-Sleep -Milliseconds 20
            }
            $r = @(Wait-SecondPowerShell $job -TimeoutSec 30)
        } finally {
            Remove-SecondPowerShell $job
        }
        $r.Count | Should -Be 12
        $r.Status | Sort-Object -Unique | Should -Be 'TimedOut'
        $peak | Should -BeGreaterThan 0
        $peak | Should -BeLessOrEqual 3
        Get-SocketHandleCount | Should -Be $before
    }

    It 'leaves no socket descriptor open after 10,000 probes' -Skip:(-not (Test-Path '/proc/self/fd')) {
        # Sockets, not all descriptors: the process maps assemblies as it first needs them, which adds files.
        $server = Start-SocketListen -Port 0 -Address Loopback
        try {
            Invoke-FullGC
            $before = Get-SocketHandleCount
            $ports = @($ClosedPort) * 9000 + @($server.LocalEndPoint.Port) * 1000
            $r = @(Test-SocketConnection 127.0.0.1 -Port $ports -TimeoutSec 10 -ThrottleLimit 200)
            $r.Count | Should -Be 10000
            @($r | Where-Object Status -EQ 'Refused').Count | Should -Be 9000
            @($r | Where-Object Status -EQ 'Open').Count | Should -Be 1000
            Invoke-FullGC
            Get-SocketHandleCount | Should -Be $before
        } finally {
            $server | Close-Socket
        }
    }
}

Describe 'Test-SocketConnection attempts and waits' -Tag 'TestSocketConnection' {
    It 'writes one result per attempt with -Count, numbered by Attempt' {
        $r = @(Test-SocketConnection 127.0.0.1 $OpenPort -Count 3 -IntervalSec 0.1)
        $r.Count | Should -Be 3
        $r.Attempt | Should -Be @(1, 2, 3)
        $r.Status | Sort-Object -Unique | Should -Be 'Open'
    }

    It 'writes one bool per host × port with -Quiet' {
        $r = @(Test-SocketConnection 127.0.0.1 -Port $OpenPort, $ClosedPort -Quiet -Ordered -Count 2 -IntervalSec 0.1)
        $r | Should -Be @($true, $false)
        $r[0] | Should -BeOfType [bool]
    }

    It 'waits with -Wait until a port opens (after about 2 s) and writes the open result' {
        $port = Get-FreePort
        $job = Start-SecondPowerShell { param($Port) Start-Sleep -Seconds 2; $l = Start-SocketListen -Port $Port -Address Loopback; Start-Sleep -Seconds 60; $l | Close-Socket } -ArgumentList $port
        try {
            $r = @(Test-SocketConnection 127.0.0.1 $port -Wait -WaitTimeoutSec 30 -IntervalSec 0.2 -ErrorVariable failure)
        } finally {
            Remove-SecondPowerShell $job
        }
        $failure | Should -BeNullOrEmpty
        $r.Count | Should -Be 1
        $r[0].Status | Should -Be 'Open'
        $r[0].Attempt | Should -BeGreaterThan 1
    }

    It 'ends -Wait with the error WaitTimeout when the port never opens' {
        $err = { Test-SocketConnection 127.0.0.1 $ClosedPort -Wait -WaitTimeoutSec 1 -IntervalSec 0.2 -ErrorAction Stop } |
            Should -Throw -ErrorId "WaitTimeout,$Cmdlet" -PassThru
        $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
        "$err" | Should -Match 'Refused'
    }

    It 'writes $false and no error for -Wait -Quiet that times out' {
        $r = @(Test-SocketConnection 127.0.0.1 $ClosedPort -Wait -WaitTimeoutSec 0.5 -IntervalSec 0.1 -Quiet -ErrorVariable failure)
        $failure | Should -BeNullOrEmpty
        $r | Should -Be @($false)
    }
}

Describe 'Test-SocketConnection pipeline input' -Tag 'TestSocketConnection' {
    It 'binds rows of Import-Csv by property name (HostName and Port)' {
        $csv = Join-Path $TestDrive 'targets.csv'
        "HostName,Port`n127.0.0.1,$OpenPort`nlocalhost,$ClosedPort" | Set-Content -LiteralPath $csv
        $r = @(Import-Csv -LiteralPath $csv | Test-SocketConnection -TimeoutSec 5 -Ordered)
        $r.ComputerName | Should -Be @('127.0.0.1', 'localhost')
        $r.Status | Should -Be @('Open', 'Refused')
    }

    It 'binds the IPAddress, DNSHostName and ComputerName properties, and strings by value' {
        $objects = @([pscustomobject]@{ IPAddress = '127.0.0.1' }, [pscustomobject]@{ DNSHostName = 'localhost' }, [pscustomobject]@{ ComputerName = '::1' })
        $r = @($objects | Test-SocketConnection -Port $ClosedPort -TimeoutSec 5 -Ordered)
        $r.ComputerName | Should -Be @('127.0.0.1', 'localhost', '::1')
        $s = @('127.0.0.1', 'localhost' | Test-SocketConnection -Port $OpenPort -Quiet -Ordered)
        $s | Should -Be @($true, $true)
    }
}

Describe 'Test-SocketConnection bad input' -Tag 'TestSocketConnection' {
    It 'refuses port <Port> before any probe' -TestCases @(@{ Port = 0 }, @{ Port = 65536 }, @{ Port = -1 }) {
        { Test-SocketConnection 127.0.0.1 $Port -ErrorAction Stop } | Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet"
    }

    It 'refuses -ThrottleLimit 0, a negative or zero -TimeoutSec and a zero -Count' {
        { Test-SocketConnection 127.0.0.1 $OpenPort -ThrottleLimit 0 } | Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet"
        { Test-SocketConnection 127.0.0.1 $OpenPort -TimeoutSec -1 } | Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet"
        { Test-SocketConnection 127.0.0.1 $OpenPort -TimeoutSec 0 } | Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet"
        { Test-SocketConnection 127.0.0.1 $OpenPort -Count 0 } | Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet"
    }

    It 'refuses an empty host name' {
        { Test-SocketConnection '' $OpenPort } | Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet"
    }

    It 'reports a blank host name as InvalidArgument and probes nothing for that input' {
        $r = @(Test-SocketConnection '  ', '127.0.0.1' $OpenPort -ErrorAction SilentlyContinue -ErrorVariable failure)
        $r | Should -BeNullOrEmpty
        $failure[0].FullyQualifiedErrorId | Should -Be "InvalidArgument,$Cmdlet"
    }

    It 'refuses -TargetHost without -UseTls' {
        { Test-SocketConnection 127.0.0.1 $OpenPort -TargetHost x } | Should -Throw -ErrorId "TlsParameterWithoutUseTls,$Cmdlet"
    }

    It 'refuses -Count with -Wait (separate parameter sets)' {
        { Test-SocketConnection 127.0.0.1 $OpenPort -Count 2 -Wait } | Should -Throw -ErrorId "AmbiguousParameterSet,$Cmdlet"
    }
}

Describe 'Test-SocketConnection -UseTls' -Tag 'TestSocketConnection' {
    BeforeAll {
        $script:Valid = New-TestCertificate
        $script:ValidFiles = Export-TestCertificate -Certificate $Valid -Folder $TestDrive -Name valid -Password 'probe'
        $script:Expired = New-TestCertificate -NotBefore ([DateTimeOffset]::Now.AddDays(-30)) -NotAfter ([DateTimeOffset]::Now.AddDays(-1))
        $script:ExpiredFiles = Export-TestCertificate -Certificate $Expired -Folder $TestDrive -Name expired -Password 'probe'
        $script:Servers = [System.Collections.Generic.List[object]]::new()

        function Start-TlsServer {
            param($Files)
            $port = Get-FreePort
            $p = Start-TestProcess openssl @('s_server', '-accept', "127.0.0.1:$port", '-cert', $Files.CertificatePem, '-key', $Files.KeyPem, '-quiet', '-naccept', '1')
            $Servers.Add($p)
            Wait-Listening $port -Process $p
            $port
        }
    }

    AfterEach {
        $Servers | Stop-TestProcess
        $Servers.Clear()
    }

    It 'reports the TLS facts of a valid certificate from openssl s_server' {
        Assert-Tool openssl openssl
        $port = Start-TlsServer $ValidFiles
        $r = Test-SocketConnection localhost $port -UseTls -TimeoutSec 10
        $r.Status | Should -Be 'Open'
        $r.Detail | Should -BeNullOrEmpty
        $r.TlsProtocol | Should -Not -BeNullOrEmpty
        $r.CipherSuite | Should -Not -BeNullOrEmpty
        $r.Certificate.Thumbprint | Should -Be $Valid.Thumbprint
        $r.NotAfter | Should -Be $Valid.NotAfter
        # Self-signed, so not trusted; but in date and for this name.
        $r.CertificateErrors | Should -Contain 'UntrustedRoot'
        $r.CertificateErrors | Should -Not -Contain 'NotTimeValid'
        $r.CertificateErrors | Should -Not -Contain 'NameMismatch'
    }

    It 'reports an expired certificate as data (NotTimeValid, NotAfter in the past), not as an error' {
        Assert-Tool openssl openssl
        $port = Start-TlsServer $ExpiredFiles
        $r = Test-SocketConnection localhost $port -UseTls -TimeoutSec 10 -ErrorVariable failure
        $failure | Should -BeNullOrEmpty
        $r.Status | Should -Be 'Open'
        $r.CertificateErrors | Should -Contain 'NotTimeValid'
        $r.NotAfter | Should -BeLessThan (Get-Date)
    }

    It 'reports NameMismatch for a -TargetHost the certificate does not name' {
        Assert-Tool openssl openssl
        $port = Start-TlsServer $ValidFiles
        $r = Test-SocketConnection 127.0.0.1 $port -UseTls -TargetHost 'other.example' -TimeoutSec 10
        $r.CertificateErrors | Should -Contain 'NameMismatch'
    }

    It 'keeps a port that does not speak TLS Open, with the handshake failure in Detail' {
        $r = Test-SocketConnection 127.0.0.1 $OpenPort -UseTls -TimeoutSec 0.5
        $r.Status | Should -Be 'Open'
        $r.TlsProtocol | Should -BeNullOrEmpty
        $r.Detail | Should -Match 'TLS handshake'
    }
}

Describe 'Test-SocketConnection Ctrl+C and format' -Tag 'TestSocketConnection' {
    It 'ends at once on Ctrl+C, with no error, and closes every probe socket' -Skip:(-not (Test-Path '/proc/self/fd')) {
        $before = Get-SocketHandleCount
        $job = Start-SecondPowerShell { param($Port) Test-SocketConnection 127.0.0.1 -Port (@($Port) * 50) -TimeoutSec 120 -ThrottleLimit 10 -Verbose } -ArgumentList $Full.Port
        try {
            Wait-Until -TimeoutSec 20 { @($job.PowerShell.Streams.Verbose | Where-Object Message -Match '^Connecting').Count -ge 10 }
            Stop-SecondPowerShell $job | Should -BeTrue
            Get-StopError $job | Should -BeNullOrEmpty
            Get-ErrorVariable $job | Should -BeNullOrEmpty
        } finally {
            Remove-SecondPowerShell $job
        }
        Wait-Until -TimeoutSec 10 -Because 'the probe sockets to be closed' { (Get-SocketHandleCount) -le $before }
    }

    It 'shows results as a table that fits 80 columns' {
        $lines = @(Test-SocketConnection 127.0.0.1, 'no-such-host.invalid' $OpenPort -TimeoutSec 5 | Format-Table | Out-String -Width 250) -split "\r?\n"
        ($lines | Where-Object { $_.TrimEnd().Length -gt 80 }) | Should -BeNullOrEmpty
        ($lines -join "`n") | Should -Match 'Status'
    }
}

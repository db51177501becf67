BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Stress.Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    # The driver: runs in a second PowerShell (a runspace of this process, the module imported there) so that a call
    # that hangs can be seen and stopped from here. Every choice comes from one seeded System.Random, so a seed replays
    # the same calls with the same arguments (what a call meets can still depend on timing: data in flight, timeouts).
    $DriverScript = {
        param([int] $Seed, [int] $Calls, $Progress, [string[]] $KnownIds, [string] $WorkDir)
        $ProgressPreference = 'SilentlyContinue'
        $WarningPreference = 'SilentlyContinue'
        $random = [System.Random]::new($Seed)

        function Chance([double] $P) { $random.NextDouble() -lt $P }
        # One of the given values; arrays and byte arrays come back whole.
        function Pick([object[]] $From) { , $From[$random.Next($From.Count)] }
        function New-Bytes([int] $Length) { $b = [byte[]]::new($Length); $random.NextBytes($b); , $b }

        $pool = [System.Collections.Generic.List[object]]::new()
        $seen = [System.Collections.Generic.List[object]]::new()
        $seenIds = [System.Collections.Generic.HashSet[int]]::new()
        function Add-PoolSocket($Socket) {
            if ($Socket -is [SocketCmdlets.NetSocket]) {
                if ($seenIds.Add($Socket.Id)) { $seen.Add($Socket) }
                if (-not $pool.Contains($Socket)) { $pool.Add($Socket) }
            }
        }

        # The fixed points the random calls aim at: a listener to connect to, a port known to refuse, a UDP socket.
        $state = @{ Listener = $null; ListenPort = 0; ClosedPort = 0; UdpPort = 0 }
        $probe = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
        $state.ClosedPort = $probe.LocalEndPoint.Port
        $probe | Close-Socket
        $file = Join-Path $WorkDir 'payload.bin'
        [System.IO.File]::WriteAllBytes($file, (New-Bytes 65536))

        function Update-Pool {
            # Keeps every kind of socket at hand: listening, connected pairs, half-closed, new, bound, UDP, closed.
            if (-not $state.Listener -or $state.Listener.State -ne 'Listening') {
                $state.Listener = Start-SocketListen -Port 0 -Address 127.0.0.1 -Name 'driver-listener'
                $state.ListenPort = $state.Listener.LocalEndPoint.Port
                Add-PoolSocket $state.Listener
            }
            $connected = @($pool | Where-Object { $_.State -eq 'Connected' }).Count
            for ($attempt = 0; $connected -lt 4 -and $attempt -lt 10; $attempt++) {
                $c = Connect-Socket -ComputerName 127.0.0.1 -Port $state.ListenPort -TimeoutSec 5
                # The accept may take an older pending connection, one whose client was closed or reset since: then
                # the sends below fail, which is one more state for the random calls, not a failure of the driver.
                $p = $state.Listener | Receive-SocketConnection -TimeoutSec 5
                Add-PoolSocket $c; Add-PoolSocket $p
                if (Chance 0.3) { 'pending data' | Send-SocketData -Socket $c -AppendNewLine -TimeoutSec 5 -ErrorAction SilentlyContinue }
                if (Chance 0.3) { 'pending data' | Send-SocketData -Socket $p -AppendNewLine -TimeoutSec 5 -ErrorAction SilentlyContinue }
                if (Chance 0.2) { $c | Close-Socket -Direction Send -ErrorAction SilentlyContinue }
                $connected += 2
            }
            if (-not @($pool | Where-Object { $_.State -eq 'Created' })) { Add-PoolSocket (New-Socket -Name 'fresh') }
            if (-not @($pool | Where-Object { $_.State -eq 'Bound' -and $_.Protocol -eq 'Tcp' })) {
                Add-PoolSocket (New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0)
            }
            if (-not @($pool | Where-Object { $_.Protocol -eq 'Udp' -and $_.State -ne 'Closed' })) {
                $udp = New-Socket -Protocol Udp | Register-SocketBinding -Address 127.0.0.1 -Port 0
                $state.UdpPort = $udp.LocalEndPoint.Port
                Add-PoolSocket $udp
            }
            if (-not @($pool | Where-Object { $_.State -eq 'Closed' })) {
                $gone = New-Socket
                $gone | Close-Socket
                Add-PoolSocket $gone
            }
            # Bounded pool: drop closed sockets first (they stay in $seen for the final check), then close old ones.
            while ($pool.Count -gt 40) {
                $victim = $pool | Where-Object { $_.State -eq 'Closed' } | Select-Object -First 1
                if (-not $victim) {
                    $victim = $pool | Where-Object { $_ -ne $state.Listener } | Select-Object -First 1
                    $victim | Close-Socket
                }
                $null = $pool.Remove($victim)
            }
        }

        # Argument values: valid ones, out-of-range and negative ones, wrong types, null and empty.
        function Get-SocketValue {
            switch ($random.Next(100)) {
                { $_ -lt 82 } { return , (Pick $pool.ToArray()) }
                { $_ -lt 86 } { return $null }
                { $_ -lt 89 } { return 'not a socket' }
                { $_ -lt 92 } { return 42 }
                { $_ -lt 96 } { return , @((Pick $pool.ToArray()), (Pick $pool.ToArray())) }
                default { return [pscustomobject]@{ Id = 'x' } }
            }
        }
        function Get-IdValue {
            switch ($random.Next(10)) {
                { $_ -lt 5 } { return (Pick $pool.ToArray()).Id }
                5 { return 0 }
                6 { return -1 }
                7 { return 2147483647 }
                8 { return 'abc' }
                default { return , @((Pick $pool.ToArray()).Id, 987654) }
            }
        }
        function Get-PortValue { Pick @($state.ListenPort, $state.ListenPort, $state.ClosedPort, 0, 1, 65535, -1, 65536, 70000, 'http') }
        function Get-TimeoutValue {
            # Never 0 (no limit) and never long: every call that could block ends within a couple of seconds.
            Pick @(1, 1, 1, 1, 1, 1, 1, 1, 2, -1, -30, 'soon')
        }
        function Get-CountValue { Pick @(1, 1, 2, 3, 0, -1, 2147483647, 'many') }
        function Get-SwitchValue { Pick @($true, $true, $true, $false, 'yes') }
        function Get-NameValue { Pick @('alpha', 'web*', '', $null, '[unclosed', 'x' * 300) }
        function Get-EncodingValue { Pick @('utf8', 'ascii', 'unicode', 'utf-32', 1252, 65001, 'bogus', '', $null) }
        function Get-HostValue { Pick @('127.0.0.1', '127.0.0.1', 'localhost', '::1', '[::1]', '', ' ', $null) }
        function Get-BindAddressValue { Pick @('Loopback', '127.0.0.1', '::1', 'localhost', '', '192.0.2.1', '::ffff:127.0.0.1', $null) }
        function Get-UnixPathValue {
            Pick @((Join-Path $WorkDir "u$($random.Next(4)).sock"), (Join-Path $WorkDir 'no/such/dir/x.sock'), (Join-Path $WorkDir ('p' * 200)), '', $null)
        }
        function Get-DataValue {
            switch ($random.Next(14)) {
                0 { return 'hello' }
                1 { return '' }
                2 { return $null }
                3 { return , (New-Bytes ($random.Next(1, 3000))) }
                4 { return , [byte[]]::new(0) }
                5 { return 42 }
                6 { return , @('a', 'b', 'c') }
                7 { return , (Pick $pool.ToArray()) }
                8 { return [char] 'x' }
                9 { return @{ key = 'value' } }
                10 { return "ünïcødé € $([char]0xD83D)$([char]0xDE00)" }
                11 { return , (New-Bytes 200000) }
                12 { return [byte] 7 }
                default { return , @() }
            }
        }

        # Which parameters each cmdlet gets; blocking cmdlets always get a short -TimeoutSec (or -Poll).
        $generators = [ordered]@{
            'New-Socket'              = {
                if (Chance 0.5) { $p.Protocol = Pick @('Tcp', 'Udp', 'Icmp', '') }
                if (Chance 0.4) { $p.AddressFamily = Pick @('InterNetwork', 'InterNetworkV6', 'Unix', 'Bogus') }
                if (Chance 0.3) { $p.Name = Get-NameValue }
                foreach ($s in 'NoDelay', 'KeepAlive', 'ReuseAddress', 'Broadcast') { if (Chance 0.15) { $p[$s] = Get-SwitchValue } }
                if (Chance 0.15) { $p.ReceiveBufferSize = Pick @(1, 65536, 0, -1, 'big') }
                if (Chance 0.15) { $p.SendBufferSize = Pick @(1, 65536, 0, -1) }
                if (Chance 0.1) { $p.Ttl = Pick @(1, 64, 255, 0, 256) }
                if (Chance 0.1) { $pipe.Add((Get-NameValue)) }
            }
            'Register-SocketBinding'  = {
                if (Chance 0.6) { $p.Socket = Get-SocketValue } elseif (Chance 0.7) { $p.Id = Get-IdValue }
                if (Chance 0.85) { $p.Address = Get-BindAddressValue; if (Chance 0.8) { $p.Port = Pick @(0, 0, 0, $state.ListenPort, -1, 65536) } }
                else { $p.Path = Get-UnixPathValue }
            }
            'Start-SocketListen'      = {
                switch ($random.Next(3)) {
                    0 { $p.Socket = Get-SocketValue }
                    1 { $p.Id = Get-IdValue }
                    default {
                        if (Chance 0.8) { $p.Port = Pick @(0, 0, $state.ListenPort, -1, 70000); $p.Address = Get-BindAddressValue }
                        else { $p.Path = Get-UnixPathValue }
                        if (Chance 0.3) { $p.Name = Get-NameValue }
                        if (Chance 0.2) { $p.AddressFamily = Pick @('InterNetwork', 'InterNetworkV6', 'Unix') }
                        if (Chance 0.2) { $p.ReuseAddress = Get-SwitchValue }
                    }
                }
                if (Chance 0.3) { $p.Backlog = Pick @(1, 5, 0, -1) }
            }
            'Receive-SocketConnection' = {
                if (Chance 0.8) { $p.Socket = Get-SocketValue } else { $p.Id = Get-IdValue }
                if (Chance 0.3) { $p.Count = Get-CountValue }
                if (Chance 0.2) { $p.Continuous = Get-SwitchValue }
                if (Chance 0.2) { $p.Name = Get-NameValue }
                $p.TimeoutSec = Get-TimeoutValue
            }
            'Connect-Socket'          = {
                if (Chance 0.5) { $p.Socket = Get-SocketValue } elseif (Chance 0.4) { $p.Id = Get-IdValue }
                if (Chance 0.85) { $p.ComputerName = Get-HostValue; $p.Port = Get-PortValue } else { $p.Path = Get-UnixPathValue }
                if (Chance 0.2) { $p.Name = Get-NameValue }
                if (Chance 0.1) { $p.NoDelay = Get-SwitchValue }
                if (Chance 0.1) { $p.UseTls = Get-SwitchValue }
                if (Chance 0.1) { $p.SkipCertificateCheck = Get-SwitchValue }
                if (Chance 0.05) { $p.TargetHost = Get-NameValue }
                $p.TimeoutSec = Get-TimeoutValue
            }
            'Send-SocketData'         = {
                $mode = $random.Next(4)
                if ($mode -eq 0) { $p.Socket = Get-SocketValue; $p.Data = Get-DataValue }
                elseif ($mode -eq 1) { $p.Socket = Get-SocketValue; $n = $random.Next(0, 4); for ($k = 0; $k -lt $n; $k++) { $pipe.Add((Get-DataValue)) } }
                elseif ($mode -eq 2) { $p.Data = Get-DataValue; $pipe.Add((Get-SocketValue)) }
                else { $p.Id = Get-IdValue; if (Chance 0.5) { $p.Data = Get-DataValue } }
                if (Chance 0.1) { $p.Path = Pick @($file, (Join-Path $WorkDir 'missing.bin'), $WorkDir, '') }
                if (Chance 0.15) { $p.Encoding = Get-EncodingValue }
                if (Chance 0.2) { $p.AppendNewLine = Get-SwitchValue }
                if (Chance 0.05) { $p.NewLine = Pick @("`r`n", '', $null) }
                if (Chance 0.1) { $p.ComputerName = Get-HostValue }
                if (Chance 0.1) { $p.Port = Pick @($state.UdpPort, $state.ClosedPort, 0, 70000) }
                if (Chance 0.1) { $p.Unbuffered = Get-SwitchValue }
                if (Chance 0.1) { $p.PassThru = Get-SwitchValue }
                $p.TimeoutSec = Get-TimeoutValue
            }
            'Receive-SocketData'      = {
                if (Chance 0.8) { $p.Socket = Get-SocketValue } else { $p.Id = Get-IdValue }
                if (Chance 0.15) { $p.Encoding = Get-EncodingValue }
                if (Chance 0.3) { $p.AsByteStream = Get-SwitchValue }
                if (Chance 0.3) { $p.Line = Get-SwitchValue }
                if (Chance 0.15) { $p.Delimiter = Pick @(';', "`r`n", '', $null) }
                if (Chance 0.2) { $p.Count = Get-CountValue }
                if (Chance 0.2) { $p.ByteCount = Pick @(1, 5, 13, 0, -1, 3GB, [long]::MaxValue) }
                if (Chance 0.15) { $p.ToEnd = Get-SwitchValue }
                if (Chance 0.08) { $p.OutFile = Pick @((Join-Path $WorkDir 'out.bin'), (Join-Path $WorkDir 'no/such/dir/out.bin'), '') }
                if (Chance 0.2) { $p.MaxRecordLength = Pick @(1, 16, 1MB, 0, -5, 2147483647) }
                if (Chance 0.15) { $p.ReadCount = Pick @(0, 1, 2, 1000, -1, 'all') }
                $p.TimeoutSec = Get-TimeoutValue
            }
            'Invoke-SocketRequest'    = {
                if (Chance 0.8) { $p.Socket = Get-SocketValue } else { $p.Id = Get-IdValue }
                # Requests always come from the pipeline (at least one), so the socket is never moved there and no
                # mandatory parameter is ever left for PowerShell to prompt for.
                $n = $random.Next(1, 4); for ($k = 0; $k -lt $n; $k++) { $pipe.Add((Get-DataValue)) }
                switch ($random.Next(5)) {
                    0 { $p.Line = Get-SwitchValue }
                    1 { $p.Delimiter = Pick @(';', "`r`n", '', $null) }
                    2 { $p.ByteCount = Pick @(1, 5, 64, 0, -1, 2GB) }
                    3 { $p.Line = $true; $p.ByteCount = 4 }
                    default { }
                }
                if (Chance 0.2) { $p.Count = Get-CountValue }
                if (Chance 0.3) { $p.AppendNewLine = Get-SwitchValue }
                if (Chance 0.05) { $p.NewLine = Pick @("`r`n", '', $null) }
                if (Chance 0.15) { $p.Encoding = Get-EncodingValue }
                if (Chance 0.2) { $p.AsByteStream = Get-SwitchValue }
                if (Chance 0.1) { $p.MaxRecordLength = Pick @(1, 16, 0) }
                $p.TimeoutSec = Get-TimeoutValue
            }
            'Close-Socket'            = {
                if (Chance 0.7) { $p.Socket = Get-SocketValue } else { $p.Id = Get-IdValue }
                if (Chance 0.3) { $p.Direction = Pick @('Send', 'Both', 'Receive') }
                if (Chance 0.2) { $p.PassThru = Get-SwitchValue }
            }
            'Get-Socket'              = {
                if (Chance 0.3) { $p.Id = Get-IdValue }
                if (Chance 0.3) { $p.Name = Get-NameValue }
                if (Chance 0.3) { $p.State = Pick @('Connected', 'Closed', 'Listening', 'Bogus', @('Bound', 'HalfClosed')) }
            }
            'Wait-Socket'             = {
                if (Chance 0.8) { $p.Socket = Get-SocketValue } else { $p.Id = Get-IdValue }
                if (Chance 0.4) { $p.Read = Get-SwitchValue }
                if (Chance 0.4) { $p.Write = Get-SwitchValue }
                # -Poll, -TimeoutSec, or both (ConflictingParameters); never neither, which could wait forever.
                switch ($random.Next(4)) {
                    0 { $p.Poll = $true }
                    1 { $p.Poll = Get-SwitchValue; $p.TimeoutSec = Get-TimeoutValue }
                    default { $p.TimeoutSec = Get-TimeoutValue }
                }
            }
            'Get-SocketOption'        = {
                if (Chance 0.8) { $p.Socket = Get-SocketValue } else { $p.Id = Get-IdValue }
            }
            'Set-SocketOption'        = {
                if (Chance 0.8) { $p.Socket = Get-SocketValue } else { $p.Id = Get-IdValue }
                foreach ($s in 'NoDelay', 'KeepAlive', 'ReuseAddress', 'Broadcast', 'MulticastLoopback', 'DualMode', 'PassThru') { if (Chance 0.12) { $p[$s] = Get-SwitchValue } }
                # Lingering is kept short: a close with unsent data waits up to -LingerSec, as documented.
                if (Chance 0.15) { $p.LingerSec = Pick @(-1, 0, 1, -2, 65536) }
                if (Chance 0.1) { $p.KeepAliveTimeSec = Pick @(1, 60, 0, -1) }
                if (Chance 0.1) { $p.KeepAliveIntervalSec = Pick @(1, 0) }
                if (Chance 0.1) { $p.KeepAliveRetryCount = Pick @(1, 255, 0, 256) }
                if (Chance 0.1) { $p.ReceiveBufferSize = Pick @(1, 65536, 0, -1) }
                if (Chance 0.1) { $p.SendBufferSize = Pick @(1, 65536, 0) }
                if (Chance 0.1) { $p.Ttl = Pick @(1, 64, 0, 256) }
                if (Chance 0.1) { $p.MulticastTtl = Pick @(0, 1, 255, -1, 256) }
                if (Chance 0.1) { $p.ReceiveTimeoutSec = Pick @(0, 1, -1) }
                if (Chance 0.1) { $p.SendTimeoutSec = Pick @(0, 1, -1) }
            }
            'Protect-Socket'          = {
                if (Chance 0.8) { $p.Socket = Get-SocketValue } else { $p.Id = Get-IdValue }
                if (Chance 0.3) { $p.TargetHost = Get-NameValue }
                if (Chance 0.4) { $p.SkipCertificateCheck = Get-SwitchValue }
                if (Chance 0.2) { $p.Certificate = Pick @((Join-Path $WorkDir 'missing.pfx'), $file, 42, '') }
                if (Chance 0.1) { $p.KeyPath = Pick @((Join-Path $WorkDir 'missing.key'), '') }
                if (Chance 0.1) { $p.RequireClientCertificate = Get-SwitchValue }
                if (Chance 0.1) { $p.TlsProtocol = Pick @('Tls12', 'Tls13', 'Ssl3', @('Tls12', 'Tls13')) }
                if (Chance 0.1) { $p.ApplicationProtocol = Pick @('h2', '', @('h2', 'http/1.1'), ('x' * 300)) }
                $p.TimeoutSec = Get-TimeoutValue
            }
            'Add-SocketMulticastGroup' = {
                if (Chance 0.8) { $p.Socket = Get-SocketValue } else { $p.Id = Get-IdValue }
                # A real group is only ever joined on the loopback interface: nothing leaves the machine.
                switch ($random.Next(4)) {
                    0 { $p.Group = '239.1.2.3'; $p.LocalAddress = '127.0.0.1' }
                    1 { $p.Group = Pick @('127.0.0.1', '::1', 'bogus', '', $null); if (Chance 0.5) { $p.LocalAddress = '127.0.0.1' } }
                    2 { $p.Group = '239.1.2.3'; $p.LocalAddress = Pick @('192.0.2.1', 'bogus', '') }
                    default { $p.Group = '239.1.2.3'; $p.LocalAddress = '127.0.0.1'; $p.InterfaceIndex = Pick @(-1, 'one') }
                }
                if (Chance 0.2) { $p.PassThru = Get-SwitchValue }
            }
            'Remove-SocketMulticastGroup' = {
                if (Chance 0.8) { $p.Socket = Get-SocketValue } else { $p.Id = Get-IdValue }
                $p.Group = Pick @('239.1.2.3', '239.1.2.3', '127.0.0.1', 'bogus', $null)
                $p.LocalAddress = Pick @('127.0.0.1', '127.0.0.1', '192.0.2.1')
            }
        }
        # How often each cmdlet is drawn: the socket life cycle more often than the rest.
        $weights = @{ 'Send-SocketData' = 5; 'Receive-SocketData' = 5; 'Connect-Socket' = 3; 'Close-Socket' = 3; 'Register-SocketBinding' = 2; 'Start-SocketListen' = 2; 'Receive-SocketConnection' = 2; 'Set-SocketOption' = 2; 'New-Socket' = 2 }
        $deck = foreach ($name in $generators.Keys) { $w = if ($weights.ContainsKey($name)) { $weights[$name] } else { 1 }; for ($k = 0; $k -lt $w; $k++) { $name } }
        $commandClass = @{}
        foreach ($name in $generators.Keys) { $commandClass[$name] = (Get-Command $name).ImplementingType.FullName }

        function Format-Value($Value) {
            if ($null -eq $Value) { return '$null' }
            if ($Value -is [SocketCmdlets.NetSocket]) { return "<socket $($Value.Id) $($Value.Protocol) $($Value.State)>" }
            if ($Value -is [byte[]]) { return "<byte[$($Value.Length)]>" }
            if ($Value -is [string]) { return "'" + $(if ($Value.Length -gt 40) { $Value.Substring(0, 40) + "...($($Value.Length))" } else { $Value }) + "'" }
            if ($Value -is [System.Collections.IDictionary]) { return '@{...}' }
            if ($Value -is [System.Collections.IEnumerable]) { return '@(' + ((@($Value) | ForEach-Object { Format-Value $_ }) -join ', ') + ')' }
            "$Value"
        }

        $successes = 0
        $errorsById = @{}
        $examples = @{}
        $targetStates = @{}
        $unknown = [System.Collections.Generic.List[object]]::new()
        $violations = [System.Collections.Generic.List[string]]::new()
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        for ($i = 1; $i -le $Calls; $i++) {
            if ($i % 20 -eq 1) { Update-Pool }
            $name = Pick $deck
            $p = [ordered]@{}
            $pipe = [System.Collections.Generic.List[object]]::new()
            . $generators[$name]
            if ($p.Contains('Socket') -and $pipe.Count -eq 0 -and (Chance 0.4)) {
                # The socket from the pipeline instead of by name.
                $pipe.Add($p.Socket)
                $p.Remove('Socket')
            }
            $target = if ($p.Contains('Socket')) { $p.Socket } elseif ($pipe.Count -gt 0) { $pipe[0] } else { $null }
            $targetState = if ($target -is [SocketCmdlets.NetSocket]) { [string] $target.State } else { 'no socket' }
            $targetStates[$targetState] = 1 + $(if ($targetStates.ContainsKey($targetState)) { $targetStates[$targetState] } else { 0 })
            $description = "$(if ($pipe.Count) { ((@($pipe) | ForEach-Object { Format-Value $_ }) -join ', ') + ' | ' })$name " +
                (($p.Keys | ForEach-Object { "-$($_) $(Format-Value $p[$_])" }) -join ' ')
            $Progress.Index = $i
            $Progress.Call = $description
            $Progress.Since = [System.Diagnostics.Stopwatch]::GetTimestamp()
            try {
                $output = if ($pipe.Count -gt 0) {
                    @($pipe.ToArray() | & $name @p -ErrorAction Stop)
                } else {
                    @(& $name @p -ErrorAction Stop)
                }
                $successes++
                foreach ($o in $output) { Add-PoolSocket $o }
            } catch {
                $record = $_
                if ($record -isnot [System.Management.Automation.ErrorRecord]) {
                    $unknown.Add([pscustomobject]@{ Index = $i; Call = $description; Id = '(not an ErrorRecord)'; Type = $record.GetType().FullName; Message = "$record" })
                    continue
                }
                $fqid = [string] $record.FullyQualifiedErrorId
                $id, $suffix = $fqid.Split(',', 2)
                $errorsById[$id] = 1 + $(if ($errorsById.ContainsKey($id)) { $errorsById[$id] } else { 0 })
                if (-not $examples.ContainsKey($id)) {
                    $chain = @(for ($e = $record.Exception; $e; $e = $e.InnerException) { "$($e.GetType().Name): $($e.Message)" }) -join ' <- '
                    $examples[$id] = "#$i $description  =>  $chain"
                }
                if ($KnownIds -notcontains $id -or $suffix -ne $commandClass[$name]) {
                    $unknown.Add([pscustomobject]@{ Index = $i; Call = $description; Id = $fqid; Type = $record.Exception.GetType().FullName; Message = "$record" })
                } elseif ($record.CategoryInfo.Category -eq 'NotSpecified') {
                    $violations.Add("#$i $description -> $fqid has the category NotSpecified")
                }
            }
        }
        $clock.Stop()
        $Progress.Index = $Calls + 1
        $Progress.Call = 'done'
        [pscustomobject]@{
            Calls = $Calls; Successes = $successes; ErrorsById = $errorsById; Examples = $examples; TargetStates = $targetStates
            Unknown = $unknown.ToArray(); Violations = $violations.ToArray(); Seen = $seen.ToArray(); Seconds = $clock.Elapsed.TotalSeconds
        }
    }
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Bad input: random calls with random arguments on sockets in random states' -Tag 'Stress', 'BadInput' {
    BeforeAll {
        $calls = Select-StressSize -Full 4000 -Quick 300
        $seed = if ($env:SOCKETCMDLETS_STRESS_SEED) { [int] $env:SOCKETCMDLETS_STRESS_SEED } else { Get-Random -Minimum 1 -Maximum ([int]::MaxValue) }
        # A call that makes no progress for this long hangs (the longest legitimate one waits -TimeoutSec 2).
        $hangSec = 30
        # Descriptors once the driver's runspace is gone and every socket is closed: sockets must come back exactly
        # (2 for a socket the runtime may still be tearing down); other descriptors within 4, as in the churn.
        # Assemblies are left out: the random calls reach code (TLS, certificates, encodings) the process had not
        # loaded before, and each assembly loaded keeps one descriptor for the life of the process.
        $socketTolerance = 2
        $otherTolerance = 4
    }

    AfterEach {
        Get-Socket | Close-Socket
        if ($script:workDir) { Remove-Item -Recurse -Force -LiteralPath $script:workDir -ErrorAction SilentlyContinue }
    }

    It 'ends every call in success or a known error id, never hangs, and leaves nothing open' {
        Write-Host "    seed $seed (replay: SOCKETCMDLETS_STRESS_SEED=$seed)" -ForegroundColor DarkCyan
        Write-StressFigure 'bad input' 'seed' $seed
        # Files of the random calls (-Path, -OutFile, Unix socket paths); AfterEach removes the folder.
        $script:workDir = Join-Path ([System.IO.Path]::GetTempPath()) "socketcmdlets-badinput-$PID-$seed"
        $workDir = $script:workDir
        $null = New-Item -ItemType Directory -Force -Path $workDir
        Invoke-FullGC
        $before = Get-DescriptorCount
        $progress = [hashtable]::Synchronized(@{ Index = 0; Call = 'starting'; Since = [System.Diagnostics.Stopwatch]::GetTimestamp() })
        $job = Start-SecondPowerShell -ScriptBlock $DriverScript -ArgumentList $seed, $calls, $progress, (Get-KnownErrorId), $workDir
        $hung = $null
        try {
            $lastIndex = -1
            $lastChange = [System.Diagnostics.Stopwatch]::StartNew()
            while (-not $job.Handle.IsCompleted) {
                if ($progress.Index -ne $lastIndex) { $lastIndex = $progress.Index; $lastChange.Restart() }
                if ($lastChange.Elapsed.TotalSeconds -gt $hangSec) { $hung = "call #$($progress.Index) made no progress for $hangSec s: $($progress.Call)"; break }
                $null = $job.Handle.AsyncWaitHandle.WaitOne(250)
            }
            if ($hung) {
                # Closing every socket releases a call blocked in the kernel, which Ctrl+C alone may not reach.
                Get-Socket | Close-Socket
                $stopped = Stop-SecondPowerShell $job -TimeoutSec 10
                $hung += $(if ($stopped) { ' (Ctrl+C stopped it)' } else { ' (and Ctrl+C did not stop it)' })
            } else {
                $result = Wait-SecondPowerShell $job -TimeoutSec 30
                $driverErrors = @($job.PowerShell.Streams.Error)
            }
        } finally {
            Remove-SecondPowerShell $job
        }
        $hung | Should -BeNullOrEmpty -Because "seed $seed"
        $driverErrors | Should -HaveCount 0 -Because "the driver itself must not fail (seed $seed): $($driverErrors -join '; ')"
        $result | Should -Not -BeNullOrEmpty

        Write-StressFigure 'bad input' 'calls' $result.Calls
        Write-StressFigure 'bad input' 'calls/s' ($result.Calls / $result.Seconds)
        Write-StressFigure 'bad input' 'successes' $result.Successes
        foreach ($id in $result.ErrorsById.Keys | Sort-Object) {
            Write-StressFigure 'bad input' "errors: $id" $result.ErrorsById[$id]
        }
        Write-StressFigure 'bad input' 'target socket states' (($result.TargetStates.Keys | Sort-Object | ForEach-Object { "$_ $($result.TargetStates[$_])" }) -join ', ')
        Write-StressFigure 'bad input' 'unknown error ids' $result.Unknown.Count

        # Every socket the driver saw, and every one it did not (Connect-Socket without -Socket, say), closes with
        # Get-Socket | Close-Socket; none of them is open behind the registry's back.
        Get-Socket | Close-Socket
        Assert-NoSocketLeft -Socket $result.Seen
        Invoke-FullGC
        $after = Get-DescriptorCount
        Write-StressFigure 'bad input' 'sockets seen' $result.Seen.Count
        if ($before) {
            Write-StressFigure 'bad input' 'socket fds before -> after' "$($before.Sockets) -> $($after.Sockets)"
            Write-StressFigure 'bad input' 'other fds before -> after' "$($before.Other) -> $($after.Other)"
            Write-StressFigure 'bad input' 'assembly fds before -> after' "$($before.Assemblies) -> $($after.Assemblies)"
        }
        foreach ($id in $result.Examples.Keys | Sort-Object) { Write-Host "    e.g. $id <- $($result.Examples[$id])" -ForegroundColor DarkGray }

        $unknownText = ($result.Unknown | Select-Object -First 15 | ForEach-Object { "#$($_.Index) $($_.Call) -> $($_.Id) [$($_.Type)] $($_.Message)" }) -join "`n"
        $result.Unknown | Should -HaveCount 0 -Because "every error must have a known id (seed $seed):`n$unknownText`n"
        $result.Violations | Should -HaveCount 0 -Because "errors need a precise category (seed $seed):`n$(($result.Violations | Select-Object -First 15) -join "`n")`n"
        ($result.Successes + ($result.ErrorsById.Values | Measure-Object -Sum).Sum) | Should -Be $result.Calls
        if ($before) {
            ($after.Sockets - $before.Sockets) | Should -BeLessOrEqual $socketTolerance -Because "socket descriptors went from $($before.Sockets) to $($after.Sockets) (seed $seed)"
            ($after.Other - $before.Other) | Should -BeLessOrEqual $otherTolerance -Because "other descriptors went from $($before.Other) to $($after.Other) (seed $seed)"
        }

        # The host is alive and the module still works.
        $pair = New-ConnectedPair
        'still here' | Send-SocketData -Socket $pair.Client -AppendNewLine
        $pair.Peer | Receive-SocketData -Line -TimeoutSec 5 | Should -Be 'still here'
        $pair.Close()
        Assert-NoSocketLeft -Socket $pair.Client, $pair.Peer, $pair.Server
    }

    It 'reports an invalid wildcard in Get-Socket -Name as an error with a known id and a precise category' {
        # Found by the driver above: with a socket open, the pattern '[unclosed' escapes as a WildcardPatternException.
        $socket = New-Socket -Name 'listed'
        $record = $null
        try { Get-Socket -Name '[unclosed' -ErrorAction Stop } catch { $record = $_ }
        $socket | Close-Socket
        $record | Should -Not -BeNullOrEmpty -Because "'[unclosed' is not a valid wildcard pattern"
        $id, $class = $record.FullyQualifiedErrorId.Split(',', 2)
        $id | Should -BeIn (Get-KnownErrorId) -Because "the error was $($record.FullyQualifiedErrorId) [$($record.Exception.GetType().FullName)], category $($record.CategoryInfo.Category)"
        $class | Should -Be 'SocketCmdlets.Commands.GetSocketCommand'
        $record.CategoryInfo.Category | Should -Not -Be 'NotSpecified'
    }
}

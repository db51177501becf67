# UDP: datagrams with sendto and a default peer, datagram objects, broadcast and multicast. Loopback only (IPv6
# multicast runs inside a network namespace the test makes).
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    function New-Receiver {
        # A UDP socket bound to a free loopback port.
        param([ValidateSet('127.0.0.1', '::1')] [string] $Address = '127.0.0.1')
        $family = if ($Address -eq '::1') { 'InterNetworkV6' } else { 'InterNetwork' }
        New-Socket -Protocol Udp -AddressFamily $family -ErrorAction Stop | Register-SocketBinding -Address $Address -Port 0 -ErrorAction Stop
    }

    # A multicast group of the administratively scoped range that other runs are unlikely to use at the same time.
    $script:Group = '239.255.{0}.{1}' -f (($PID -shr 8) % 250 + 1), ($PID % 250 + 1)
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'UDP sockets' -Tag 'Udp' {
    AfterEach {
        Get-Socket | Close-Socket
    }

    Context 'Creating and binding' {
        It 'creates a UDP socket with New-Socket -Protocol Udp' {
            $s = New-Socket -Protocol Udp
            $s.Protocol | Should -Be 'Udp'
            $s.State | Should -Be 'Created'
            $s.Socket.SocketType | Should -Be 'Dgram'
        }

        It 'binds a receiver to a free loopback port with Register-SocketBinding' {
            $rx = New-Socket -Protocol Udp | Register-SocketBinding -Address Loopback -Port 0
            $rx.State | Should -Be 'Bound'
            $rx.LocalEndPoint.Port | Should -BeGreaterThan 0
            $rx.LocalEndPoint.Address.ToString() | Should -Be '127.0.0.1'
        }
    }

    Context 'Sending with -ComputerName/-Port and receiving datagrams' {
        BeforeEach {
            $rx = New-Receiver
            $port = $rx.LocalEndPoint.Port
            $tx = New-Socket -Protocol Udp
        }

        It 'sends each input object as one datagram' {
            'ping', 'second', 'third' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            $datagrams = @($rx | Receive-SocketData -Count 3 -TimeoutSec 5)
            $datagrams.Count | Should -Be 3
            $datagrams.Text | Should -Be @('ping', 'second', 'third')
        }

        It 'emits SocketDatagram objects with RemoteEndPoint, Data, Text and Length' {
            'ping' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            $d = $rx | Receive-SocketData -TimeoutSec 5
            $d.GetType().FullName | Should -Be 'SocketCmdlets.SocketDatagram'
            $d.Text | Should -BeExactly 'ping'
            $d.Length | Should -Be 4
            ConvertTo-Hex $d.Data | Should -Be '70 69 6E 67'
            $d.RemoteEndPoint.Port | Should -Be $tx.LocalEndPoint.Port
        }

        It 'shows the sender of a datagram to a dual-mode socket as 127.0.0.1, never ::ffff:' {
            $dual = New-Socket -Protocol Udp | Register-SocketBinding -Port 0
            $dual.DualMode | Should -BeTrue
            'ping' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $dual.LocalEndPoint.Port
            $d = $dual | Receive-SocketData -TimeoutSec 5
            $d.RemoteEndPoint.Address.ToString() | Should -Be '127.0.0.1'
            $table = ($d | Format-Table | Out-String -Width 200) -replace "\e\[[0-9;]*m"
            $table | Should -Match ([regex]::Escape("127.0.0.1:$($tx.LocalEndPoint.Port)"))
            $table | Should -Not -Match 'ffff'
        }

        It 'binds an unbound sender to a free port on its first datagram, so replies can come back' {
            $tx.State | Should -Be 'Created'
            'ping' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            $tx.State | Should -Be 'Bound'
            $tx.LocalEndPoint.Port | Should -BeGreaterThan 0
        }

        It 'gathers single bytes from the pipeline into one datagram' {
            [byte[]] (1, 2, 3) | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            'marker' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            $datagrams = @($rx | Receive-SocketData -Count 2 -TimeoutSec 5)
            ConvertTo-Hex $datagrams[0].Data | Should -Be '01 02 03'
            $datagrams[1].Text | Should -Be 'marker'
        }

        It 'sends a byte[] as one datagram, byte for byte' {
            $bytes = [byte[]] (0..255)
            , $bytes | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            $d = $rx | Receive-SocketData -TimeoutSec 5
            $d.Length | Should -Be 256
            Get-Sha256 $d.Data | Should -Be (Get-Sha256 $bytes)
        }

        It 'sends the largest IPv4 datagram (65,507 bytes) whole' {
            $bytes = New-RandomBytes 65507
            , $bytes | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            $d = $rx | Receive-SocketData -TimeoutSec 5
            $d.Length | Should -Be 65507
            Get-Sha256 $d.Data | Should -Be (Get-Sha256 $bytes)
        }

        It 'receives -Count datagrams and leaves the rest for the next call' {
            'a', 'b', 'c' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            (@($rx | Receive-SocketData -Count 2 -TimeoutSec 5)).Text | Should -Be @('a', 'b')
            ($rx | Receive-SocketData -TimeoutSec 5).Text | Should -Be 'c'
        }

        It 'writes the payloads only with -AsByteStream' {
            'ab', 'cd' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            $payloads = @($rx | Receive-SocketData -Count 2 -AsByteStream -TimeoutSec 5)
            $payloads.Count | Should -Be 2
            $payloads[0].GetType().FullName | Should -Be 'System.Byte[]'
            ConvertTo-Hex $payloads[0] | Should -Be '61 62'
            ConvertTo-Hex $payloads[1] | Should -Be '63 64'
        }

        It 'decodes Text with -Encoding' {
            , [System.Text.Encoding]::Unicode.GetBytes('hé') | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            ($rx | Receive-SocketData -Encoding unicode -TimeoutSec 5).Text | Should -BeExactly 'hé'
        }

        It 'streams datagrams with -Continuous until -TimeoutSec passes with none, then reports ReceiveTimeout' {
            'one', 'two' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            $received = @($rx | Receive-SocketData -Continuous -TimeoutSec 1 -ErrorAction SilentlyContinue -ErrorVariable failure)
            $received.Text | Should -Be @('one', 'two')
            $failure.Count | Should -Be 1
            $failure[0].FullyQualifiedErrorId | Should -Be 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }

        It 'streams datagrams with -ToEnd as they arrive, until the socket is closed from another runspace, with no error' {
            $job = Start-SecondPowerShell -ArgumentList $rx {
                param($s)
                $s | Receive-SocketData -ToEnd -Verbose | ForEach-Object { $_.Text }
            }
            try {
                Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
                'first', 'second' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
                # Each datagram reaches the other runspace's output before the call ends.
                Wait-Until -TimeoutSec 10 { @($job.PowerShell.Streams.Verbose | Where-Object Message -Match 'Received a datagram').Count -eq 2 }
                $rx | Close-Socket
                $output = Wait-SecondPowerShell $job -TimeoutSec 10
                @($output) | Should -Be @('first', 'second')
                @($job.PowerShell.Streams.Error | ForEach-Object FullyQualifiedErrorId) | Should -BeNullOrEmpty
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'ends a blocked -Continuous receive on Ctrl+C with no error' {
            $job = Start-SecondPowerShell -ArgumentList $rx { param($s) $s | Receive-SocketData -Continuous -Verbose }
            try {
                Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
                Stop-SecondPowerShell $job | Should -BeTrue
                Get-StopError $job | Should -BeNullOrEmpty
                Get-ErrorVariable $job | Should -BeNullOrEmpty
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'sends to -RemoteEndPoint' {
            'by endpoint' | Send-SocketData -Socket $tx -RemoteEndPoint ([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, $port))
            ($rx | Receive-SocketData -TimeoutSec 5).Text | Should -Be 'by endpoint'
        }

        It 'sends by -Id' {
            Send-SocketData -Id $tx.Id -Data 'by id' -ComputerName 127.0.0.1 -Port $port
            ($rx | Receive-SocketData -TimeoutSec 5).Text | Should -Be 'by id'
        }
    }

    Context 'One conversion of objects to bytes for streams and datagrams' {
        BeforeEach {
            $rx = New-Receiver
            $port = $rx.LocalEndPoint.Port
            $tx = New-Socket -Protocol Udp
        }

        It 'sends -Data <Case> as the same bytes over TCP and as one datagram over UDP: <Hex>' -ForEach @(
            @{ Case = '@([byte]1, [byte]2)'; Value = @([byte] 1, [byte] 2); Extra = @{}; Hex = '01 02' }
            @{ Case = '[byte[]] (1, 2)'; Value = [byte[]] (1, 2); Extra = @{}; Hex = '01 02' }
            @{ Case = "'é'"; Value = 'é'; Extra = @{}; Hex = 'C3 A9' }
            @{ Case = "'a' -AppendNewLine"; Value = 'a'; Extra = @{ AppendNewLine = $true }; Hex = '61 0A' }
            @{ Case = "'a', 'b' -AppendNewLine -NewLine CRLF"; Value = @('a', 'b'); Extra = @{ AppendNewLine = $true; NewLine = "`r`n" }; Hex = '61 0D 0A 62 0D 0A' }
            @{ Case = "[char[]] 'ab'"; Value = [char[]] 'ab'; Extra = @{}; Hex = '61 62' }
            @{ Case = '42'; Value = 42; Extra = @{}; Hex = '34 32' }
            @{ Case = "@([byte]1, 'x')"; Value = @([byte] 1, 'x'); Extra = @{}; Hex = '01 78' }
            @{ Case = "'A' -Encoding unicode"; Value = 'A'; Extra = @{ Encoding = 'unicode' }; Hex = '41 00' }
            @{ Case = "'A' -Encoding utf32"; Value = 'A'; Extra = @{ Encoding = 'utf32' }; Hex = '41 00 00 00' }
            @{ Case = "'é' -Encoding ascii (unencodable: ?)"; Value = 'é'; Extra = @{ Encoding = 'ascii' }; Hex = '3F' }
            @{ Case = "[char] 'é'"; Value = [char] 'é'; Extra = @{}; Hex = 'C3 A9' }
            @{ Case = 'a surrogate pair'; Value = [char]::ConvertFromUtf32(0x1F600); Extra = @{}; Hex = 'F0 9F 98 80' }
            @{ Case = '$true'; Value = $true; Extra = @{}; Hex = '54 72 75 65' }
            @{ Case = '1.5 (invariant culture)'; Value = 1.5; Extra = @{}; Hex = '31 2E 35' }
            @{ Case = "@('a', `$null, 'b')"; Value = @('a', $null, 'b'); Extra = @{}; Hex = '61 62' }
            @{ Case = "@('x', @(1, 2)) (a nested collection as its text)"; Value = @('x', @(1, 2)); Extra = @{}; Hex = '78 31 20 32' }
            @{ Case = 'a string with a note property'; Value = ('hi' | Add-Member -NotePropertyName Note -NotePropertyValue 1 -PassThru); Extra = @{}; Hex = '68 69' }
            @{ Case = "'' -AppendNewLine"; Value = ''; Extra = @{ AppendNewLine = $true }; Hex = '0A' }
            @{ Case = "[byte[]] (1) -AppendNewLine (bytes get no line ending)"; Value = [byte[]] (1); Extra = @{ AppendNewLine = $true }; Hex = '01' }
        ) {
            $pair = New-ConnectedPair
            try {
                Send-SocketData -Socket $pair.Client -Data $Value @Extra -ErrorAction Stop
                $pair.Client | Close-Socket -Direction Send
                ConvertTo-Hex (Receive-AllBytes $pair.Peer -TimeoutSec 5) | Should -Be $Hex -Because 'that is what a stream gets'
            } finally {
                $pair.Close()
            }
            Send-SocketData -Socket $tx -Data $Value @Extra -ComputerName 127.0.0.1 -Port $port -ErrorAction Stop
            'marker' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            $datagrams = @($rx | Receive-SocketData -Count 2 -TimeoutSec 5)
            ConvertTo-Hex $datagrams[0].Data | Should -Be $Hex -Because 'one object is one datagram, with the bytes a stream gets'
            $datagrams[1].Text | Should -Be 'marker' -Because 'the object made one datagram, not one per item'
        }

        It 'sends piped <Case> as the bytes TCP gets, one datagram per object and one per run of single bytes' -ForEach @(
            @{ Case = "'a', 'b'"; Items = @('a', 'b'); Extra = @{}; Datagrams = @('61', '62') }
            @{ Case = "[byte] 1, [byte] 2, 'x', [byte] 3"; Items = @([byte] 1, [byte] 2, 'x', [byte] 3); Extra = @{}; Datagrams = @('01 02', '78', '03') }
            @{ Case = "1, 'é' -AppendNewLine"; Items = @(1, 'é'); Extra = @{ AppendNewLine = $true }; Datagrams = @('31 0A', 'C3 A9 0A') }
            @{ Case = '[byte[]] (1, 2), [byte[]] (3)'; Items = @(, [byte[]] (1, 2)) + @(, [byte[]] (3)); Extra = @{}; Datagrams = @('01 02', '03') }
            @{ Case = "[char] 'a', [byte] 7 -Encoding unicode"; Items = @([char] 'a', [byte] 7); Extra = @{ Encoding = 'unicode' }; Datagrams = @('61 00', '07') }
            @{ Case = '[byte] 1, [byte] 2 -Unbuffered (no change for datagrams)'; Items = @([byte] 1, [byte] 2); Extra = @{ Unbuffered = $true }; Datagrams = @('01 02') }
        ) {
            $pair = New-ConnectedPair
            try {
                $Items | Send-SocketData -Socket $pair.Client @Extra -ErrorAction Stop
                $pair.Client | Close-Socket -Direction Send
                ConvertTo-Hex (Receive-AllBytes $pair.Peer -TimeoutSec 5) | Should -Be ($Datagrams -join ' ') -Because 'a stream gets the bytes of every object, one after the other'
            } finally {
                $pair.Close()
            }
            $Items | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port @Extra -ErrorAction Stop
            'marker' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            $received = @($rx | Receive-SocketData -Count ($Datagrams.Count + 1) -TimeoutSec 5)
            @($received | Select-Object -First $Datagrams.Count | ForEach-Object { ConvertTo-Hex $_.Data }) | Should -Be $Datagrams
            $received[-1].Text | Should -Be 'marker' -Because 'no other datagram came between'
        }

        It 'sends the single bytes gathered before a command earlier in the pipeline failed, as over TCP' {
            $pair = New-ConnectedPair
            try {
                { & { [byte] 1; [byte] 2; throw 'the producer failed' } | Send-SocketData -Socket $pair.Client } | Should -Throw '*the producer failed*'
                $pair.Client | Close-Socket -Direction Send
                ConvertTo-Hex (Receive-AllBytes $pair.Peer -TimeoutSec 5) | Should -Be '01 02'
            } finally {
                $pair.Close()
            }
            { & { [byte] 1; [byte] 2; throw 'the producer failed' } | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port } | Should -Throw '*the producer failed*'
            $datagram = $rx | Receive-SocketData -TimeoutSec 5
            ConvertTo-Hex $datagram.Data | Should -Be '01 02'
        }

        It 'sends a received datagram given as data as its bytes, over TCP as over UDP' {
            'ping' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            $datagram = $rx | Receive-SocketData -TimeoutSec 5
            $pair = New-ConnectedPair
            try {
                $datagram | Send-SocketData -Socket $pair.Client -AppendNewLine -ErrorAction Stop
                $pair.Client | Close-Socket -Direction Send
                ConvertTo-Hex (Receive-AllBytes $pair.Peer -TimeoutSec 5) | Should -Be '70 69 6E 67' -Because 'its bytes, with no line ending'
            } finally {
                $pair.Close()
            }
            $other = New-Receiver
            $datagram | Send-SocketData -Socket $rx -RemoteEndPoint $other.LocalEndPoint -AppendNewLine -ErrorAction Stop
            ConvertTo-Hex ($other | Receive-SocketData -TimeoutSec 5).Data | Should -Be '70 69 6E 67'
        }

        It 'sends each piped string as a datagram of its own, with -AppendNewLine as over TCP' {
            'a', 'b' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port -AppendNewLine
            $datagrams = @($rx | Receive-SocketData -Count 2 -TimeoutSec 5)
            ConvertTo-Hex $datagrams[0].Data | Should -Be '61 0A'
            ConvertTo-Hex $datagrams[1].Data | Should -Be '62 0A'
        }

        It 'sends an empty string as an empty datagram' {
            '' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            'marker' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            $datagrams = @($rx | Receive-SocketData -Count 2 -TimeoutSec 5)
            $datagrams[0].Length | Should -Be 0
            $datagrams[1].Text | Should -Be 'marker'
        }

        It 'refuses a socket object as the data of a datagram with DataIsSocket' {
            $other = New-Socket -Protocol Udp
            { Send-SocketData -Socket $tx -Data $other -ComputerName 127.0.0.1 -Port $port -ErrorAction Stop } |
                Should -Throw -ErrorId 'DataIsSocket,SocketCmdlets.Commands.SendSocketDataCommand'
            $tx.BytesSent | Should -Be 0
        }
    }

    Context 'Replies and default peers' {
        BeforeEach {
            $rx = New-Receiver
            $port = $rx.LocalEndPoint.Port
            $tx = New-Socket -Protocol Udp
            'ping' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            $datagram = $rx | Receive-SocketData -TimeoutSec 5
        }

        It 'answers a datagram one pipeline away: $d | Send-SocketData -Data pong goes back to its sender' {
            $datagram | Send-SocketData -Data 'pong'
            $reply = $tx | Receive-SocketData -TimeoutSec 5
            $reply.Text | Should -Be 'pong'
            $reply.RemoteEndPoint.Port | Should -Be $port
        }

        It 'echoes a datagram with $d | Send-SocketData -Socket $rx' {
            $datagram | Send-SocketData -Socket $rx
            $echo = $tx | Receive-SocketData -TimeoutSec 5
            $echo.Text | Should -Be 'ping'
            $echo.RemoteEndPoint.Port | Should -Be $port
        }

        It 'sets a default peer with Connect-Socket, so no destination is needed' {
            $c = New-Socket -Protocol Udp | Connect-Socket -ComputerName 127.0.0.1 -Port $port
            $c.State | Should -Be 'Connected'
            $c.RemoteEndPoint.Port | Should -Be $port
            'to the default peer' | Send-SocketData -Socket $c
            $d = $rx | Receive-SocketData -TimeoutSec 5
            $d.Text | Should -Be 'to the default peer'
            $d.RemoteEndPoint.Port | Should -Be $c.LocalEndPoint.Port
        }

        It 'receives the default peer''s reply on a connected UDP socket' {
            $c = New-Socket -Protocol Udp | Connect-Socket -ComputerName 127.0.0.1 -Port $port
            'hi' | Send-SocketData -Socket $c
            $rx | Receive-SocketData -TimeoutSec 5 | Send-SocketData -Data 'hi back'
            ($c | Receive-SocketData -TimeoutSec 5).Text | Should -Be 'hi back'
        }
    }

    Context 'IPv6' {
        It 'sends and receives datagrams on ::1' {
            $rx = New-Receiver -Address '::1'
            $tx = New-Socket -Protocol Udp -AddressFamily InterNetworkV6
            'over IPv6' | Send-SocketData -Socket $tx -ComputerName ::1 -Port $rx.LocalEndPoint.Port
            $d = $rx | Receive-SocketData -TimeoutSec 5
            $d.Text | Should -Be 'over IPv6'
            $d.RemoteEndPoint.Address.ToString() | Should -Be '::1'
            $d | Send-SocketData -Data 'reply over IPv6'
            ($tx | Receive-SocketData -TimeoutSec 5).Text | Should -Be 'reply over IPv6'
        }
    }

    Context 'Datagram size over IPv6' {
        BeforeEach {
            $rx = New-Receiver -Address '::1'
            $tx = New-Socket -Protocol Udp -AddressFamily InterNetworkV6
        }

        It 'sends the largest IPv6 datagram (65,527 bytes) whole' {
            $bytes = New-RandomBytes 65527
            , $bytes | Send-SocketData -Socket $tx -ComputerName ::1 -Port $rx.LocalEndPoint.Port
            $d = $rx | Receive-SocketData -TimeoutSec 5
            $d.Length | Should -Be 65527
            Get-Sha256 $d.Data | Should -Be (Get-Sha256 $bytes)
        }

        It 'refuses a datagram over 65,527 bytes with DatagramTooLarge' {
            { , [byte[]]::new(65528) | Send-SocketData -Socket $tx -ComputerName ::1 -Port $rx.LocalEndPoint.Port -ErrorAction Stop } |
                Should -Throw -ErrorId 'DatagramTooLarge,SocketCmdlets.Commands.SendSocketDataCommand'
            $tx.BytesSent | Should -Be 0
        }
    }

    Context 'Bad input' {
        BeforeEach {
            $rx = New-Receiver
            $port = $rx.LocalEndPoint.Port
            $tx = New-Socket -Protocol Udp
        }

        It 'refuses a datagram over 65,507 bytes with DatagramTooLarge and sends nothing' {
            $err = { , [byte[]]::new(65508) | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port -ErrorAction Stop } |
                Should -Throw -ErrorId 'DatagramTooLarge,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            "$err" | Should -Match '65508'
            "$err" | Should -Match '65507'
            $tx.BytesSent | Should -Be 0
            'after' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            ($rx | Receive-SocketData -TimeoutSec 5).Text | Should -Be 'after'
        }

        It 'refuses an over-long datagram to the default peer of a connected socket too' {
            $c = New-Socket -Protocol Udp | Connect-Socket -ComputerName 127.0.0.1 -Port $port
            { , [byte[]]::new(65508) | Send-SocketData -Socket $c -ErrorAction Stop } |
                Should -Throw -ErrorId 'DatagramTooLarge,SocketCmdlets.Commands.SendSocketDataCommand'
            $c.BytesSent | Should -Be 0
        }

        It 'rejects -Port 0 by parameter validation' {
            { 'x' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port 0 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.SendSocketDataCommand'
            $tx.State | Should -Be 'Created'
        }

        It 'refuses a -RemoteEndPoint with port 0 before sending' {
            $err = { 'x' | Send-SocketData -Socket $tx -RemoteEndPoint ([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0)) -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidArgument,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            "$err" | Should -Match 'port 0'
            $tx.BytesSent | Should -Be 0
        }

        It 'reports InvalidSocketState for a datagram without a destination on an unconnected socket' {
            $err = { 'x' | Send-SocketData -Socket $tx -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.SendSocketDataCommand' -PassThru
            "$err" | Should -Match '-ComputerName'
            $err.TargetObject.Id | Should -Be $tx.Id
        }

        It 'refuses -<Option> on a UDP socket with ConflictingParameters and leaves the datagram for the next read' -ForEach @(
            @{ Option = 'Line'; Extra = @{ Line = $true } }
            @{ Option = 'ByteCount'; Extra = @{ ByteCount = 4 } }
            @{ Option = 'OutFile'; Extra = @{ OutFile = 'TestDrive:/udp.bin' } }
        ) {
            'kept' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $port
            { $rx | Receive-SocketData @Extra -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketDataCommand'
            ($rx | Receive-SocketData -TimeoutSec 5).Text | Should -Be 'kept'
        }

        It 'refuses Send-SocketData -Path on a UDP socket with ConflictingParameters' {
            $file = Join-Path $TestDrive 'datagram.txt'
            Set-Content -LiteralPath $file -Value 'file' -NoNewline
            { Send-SocketData -Socket $tx -Path $file -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.SendSocketDataCommand'
            $tx.BytesSent | Should -Be 0
        }

        It 'reports InvalidSocketState for Start-SocketListen on a UDP socket' {
            { $rx | Start-SocketListen -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.StartSocketListenCommand'
            $rx.State | Should -Be 'Bound'
        }

        It 'reports InvalidSocketState for Receive-SocketConnection on a UDP socket' {
            { $rx | Receive-SocketConnection -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ReceiveSocketConnectionCommand'
        }

        It 'reports InvalidSocketState for Receive-SocketData on a UDP socket that is neither bound nor connected' {
            { $tx | Receive-SocketData -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }
    }

    Context 'Broadcast' {
        BeforeEach {
            # Bound to every IPv4 interface: a broadcast is not addressed to 127.0.0.1.
            $rx = New-Socket -Protocol Udp -AddressFamily InterNetwork | Register-SocketBinding -Address Any -Port 0
            $port = $rx.LocalEndPoint.Port
        }

        It 'is refused by the system with AccessDenied without -Broadcast' {
            $tx = New-Socket -Protocol Udp -AddressFamily InterNetwork
            { 'x' | Send-SocketData -Socket $tx -ComputerName 127.255.255.255 -Port $port -ErrorAction Stop } |
                Should -Throw -ErrorId 'AccessDenied,SocketCmdlets.Commands.SendSocketDataCommand'
        }

        It 'says in the AccessDenied message where the datagram went and that broadcast needs -Broadcast' {
            $tx = New-Socket -Protocol Udp -AddressFamily InterNetwork
            $err = { 'x' | Send-SocketData -Socket $tx -ComputerName 127.255.255.255 -Port $port -ErrorAction Stop } |
                Should -Throw -PassThru
            "$err" | Should -Match ([regex]::Escape("127.255.255.255:$port"))
            "$err" | Should -Match '-Broadcast'
        }

        It 'arrives at a receiver bound to Any when the sender was made with New-Socket -Broadcast' {
            $tx = New-Socket -Protocol Udp -AddressFamily InterNetwork -Broadcast
            'to everyone' | Send-SocketData -Socket $tx -ComputerName 127.255.255.255 -Port $port
            $d = $rx | Receive-SocketData -TimeoutSec 5
            $d.Text | Should -Be 'to everyone'
            $d.RemoteEndPoint.Port | Should -Be $tx.LocalEndPoint.Port
        }

        It 'arrives when broadcast was allowed later with Set-SocketOption -Broadcast' {
            $tx = New-Socket -Protocol Udp -AddressFamily InterNetwork
            $tx | Set-SocketOption -Broadcast
            'allowed later' | Send-SocketData -Socket $tx -ComputerName 127.255.255.255 -Port $port
            ($rx | Receive-SocketData -TimeoutSec 5).Text | Should -Be 'allowed later'
        }
    }

    Context 'Multicast over IPv4 on loopback' {
        BeforeEach {
            $rx = New-Socket -Protocol Udp -AddressFamily InterNetwork | Register-SocketBinding -Address Any -Port 0
            $port = $rx.LocalEndPoint.Port
            $tx = New-Socket -Protocol Udp -AddressFamily InterNetwork
            # Multicast datagrams stay on this host: out of 127.0.0.1, time-to-live 0, looped back.
            $tx | Set-SocketOption -MulticastTtl 0 -MulticastLoopback
        }

        It 'delivers a datagram sent to the group to a member' {
            $rx | Add-SocketMulticastGroup -Group $Group -LocalAddress 127.0.0.1
            $tx | Add-SocketMulticastGroup -Group $Group -LocalAddress 127.0.0.1
            'to the group' | Send-SocketData -Socket $tx -ComputerName $Group -Port $port
            $d = $rx | Receive-SocketData -TimeoutSec 5
            $d.Text | Should -Be 'to the group'
            $d.RemoteEndPoint.Port | Should -Be $tx.LocalEndPoint.Port
        }

        It 'lists the joined group in MulticastGroups, and no more after Remove-SocketMulticastGroup' {
            $rx | Add-SocketMulticastGroup -Group $Group -LocalAddress 127.0.0.1
            $rx.MulticastGroups.IPAddressToString | Should -Be @($Group)
            $rx | Remove-SocketMulticastGroup -Group $Group
            $rx.MulticastGroups | Should -BeNullOrEmpty
        }

        It 'stops delivering once the members left the group (bounded wait)' {
            $rx | Add-SocketMulticastGroup -Group $Group -LocalAddress 127.0.0.1
            $tx | Add-SocketMulticastGroup -Group $Group -LocalAddress 127.0.0.1
            'while joined' | Send-SocketData -Socket $tx -ComputerName $Group -Port $port
            ($rx | Receive-SocketData -TimeoutSec 5).Text | Should -Be 'while joined'
            # Linux delivers a group's datagrams to every socket on the port while any socket of the host is a member
            # (IP_MULTICAST_ALL), so both sockets leave.
            $rx | Remove-SocketMulticastGroup -Group $Group
            $tx | Remove-SocketMulticastGroup -Group $Group
            'after leaving' | Send-SocketData -Socket $tx -ComputerName $Group -Port $port
            $late = @($rx | Receive-SocketData -TimeoutSec 1 -ErrorAction SilentlyContinue -ErrorVariable failure)
            $late | Should -BeNullOrEmpty
            $failure[0].FullyQualifiedErrorId | Should -Be 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        }

        It 'joins by -Id and writes the socket with -PassThru' {
            $out = Add-SocketMulticastGroup -Id $rx.Id -Group $Group -LocalAddress 127.0.0.1 -PassThru
            $out.Id | Should -Be $rx.Id
            $rx.MulticastGroups.IPAddressToString | Should -Be @($Group)
        }

        It 'refuses an address that is not a multicast group with InvalidArgument' {
            $err = { $rx | Add-SocketMulticastGroup -Group 10.1.2.3 -LocalAddress 127.0.0.1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidArgument,SocketCmdlets.Commands.AddSocketMulticastGroupCommand' -PassThru
            "$err" | Should -Match 'not a multicast address'
            $rx.MulticastGroups | Should -BeNullOrEmpty
        }

        It 'refuses multicast on a TCP socket with InvalidSocketState' {
            $tcp = New-Socket
            { $tcp | Add-SocketMulticastGroup -Group $Group -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.AddSocketMulticastGroupCommand'
        }
    }

    Context 'Multicast over IPv6 between two veth interfaces in a network namespace' {
        BeforeAll {
            $script:Namespace = $null
            $script:SkipReason = $null
            $isRoot = $IsLinux -and (& id -u) -eq '0'
            if (-not $isRoot) {
                $script:SkipReason = 'IPv6 multicast needs two interfaces: the test makes them in a network namespace, which needs root on Linux (CI runs as root).'
            } elseif (-not (Get-Command ip -CommandType Application -ErrorAction Ignore)) {
                $script:SkipReason = "'ip' (iproute2) is not installed, so no network namespace can be made."
            } else {
                $name = "sc-udp-$PID-$([System.Environment]::TickCount64 % 100000)"
                $null = & ip netns add $name 2>&1
                if ($LASTEXITCODE -ne 0) {
                    $script:SkipReason = "'ip netns add' does not work here (no network namespaces in this container)."
                } else {
                    $script:Namespace = $name
                    # No duplicate address detection, so the link-local addresses can be used at once.
                    & ip netns exec $name sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.disable_ipv6=0 2>&1 | Out-Null
                    & ip -n $name link add sca type veth peer name scb 2>&1 | Out-Null
                    if ($LASTEXITCODE -ne 0) { throw "Could not add a veth pair in the network namespace $name." }
                    & ip netns exec $name sysctl -qw net.ipv6.conf.sca.accept_dad=0 net.ipv6.conf.scb.accept_dad=0 2>&1 | Out-Null
                    foreach ($link in 'lo', 'sca', 'scb') { & ip -n $name link set $link up 2>&1 | Out-Null }
                    Wait-Until -TimeoutSec 10 -Because 'the veth link-local addresses to be usable' {
                        $addresses = (& ip -n $Namespace -6 addr show) -join "`n"
                        ($addresses -match 'fe80::') -and ($addresses -notmatch 'tentative')
                    }
                    $script:IndexA = [int] (& ip netns exec $name cat /sys/class/net/sca/ifindex)
                    $script:IndexB = [int] (& ip netns exec $name cat /sys/class/net/scb/ifindex)
                }
            }
        }

        AfterAll {
            if ($Namespace) { & ip netns delete $Namespace 2>&1 | Out-Null }
        }

        It 'delivers a datagram to ff02::1:3 from a member on one interface to a member on the other' {
            if ($SkipReason) {
                Set-ItResult -Skipped -Because $SkipReason
                return
            }
            $script = Join-Path $TestDrive 'multicast6.ps1'
            Set-Content -LiteralPath $script -Value @'
param([string] $ModulePath, [int] $ReceiveIndex, [int] $SendIndex)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$rx = New-Socket -Protocol Udp -AddressFamily InterNetworkV6 | Register-SocketBinding -Address '::' -Port 0
$rx | Add-SocketMulticastGroup -Group ff02::1:3 -InterfaceIndex $ReceiveIndex
$tx = New-Socket -Protocol Udp -AddressFamily InterNetworkV6
$tx | Add-SocketMulticastGroup -Group ff02::1:3 -InterfaceIndex $SendIndex
'hello, ff02::1:3' | Send-SocketData -Socket $tx -ComputerName ff02::1:3 -Port $rx.LocalEndPoint.Port
$d = $rx | Receive-SocketData -TimeoutSec 10
"RECEIVED '$($d.Text)' FROM $($d.RemoteEndPoint.Address) PORT $($d.RemoteEndPoint.Port) SENDER $($tx.LocalEndPoint.Port)"
Get-Socket | Close-Socket
'@
            $child = Start-ChildPwsh -Namespace $Namespace -File $script -ArgumentList '-ModulePath', $ModulePath, '-ReceiveIndex', $IndexB, '-SendIndex', $IndexA `
                -CacheHome (Join-Path $TestDrive 'xdg-cache')
            try {
                Wait-TestProcess $child -TimeoutSec 60
                $child.ExitCode | Should -Be 0 -Because $child.StdErr
                $child.StdOut | Should -Match "RECEIVED 'hello, ff02::1:3' FROM fe80::"
                $child.StdOut -match 'PORT (\d+) SENDER (\d+)' | Should -BeTrue
                $Matches[1] | Should -Be $Matches[2]
            } finally {
                Stop-TestProcess $child
            }
        }
    }
}

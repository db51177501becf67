# Get-SocketOption and Set-SocketOption: reading, changing, default timeouts, lingering, and what is refused.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    function Get-OptionSnapshot {
        # The options of a socket as one comparable string.
        param([Parameter(Mandatory, Position = 0)] $Socket)
        ($Socket | Get-SocketOption | Select-Object -Property * | ConvertTo-Json -Compress)
    }
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Get-SocketOption' -Tag 'SocketOption' {
    AfterEach {
        Get-Socket | Close-Socket
    }

    It 'reads the options of a new TCP socket: Nagle on, no keep-alive, no reuse, no lingering, dual mode' {
        $o = New-Socket | Get-SocketOption
        $o.GetType().FullName | Should -Be 'SocketCmdlets.SocketOptions'
        $o.NoDelay | Should -BeFalse
        $o.KeepAlive | Should -BeFalse
        $o.ReuseAddress | Should -BeFalse
        $o.LingerSec | Should -Be -1
        $o.DualMode | Should -BeTrue
        $o.ReceiveTimeoutSec | Should -Be 0
        $o.SendTimeoutSec | Should -Be 0
    }

    It 'reads the buffer sizes and the time-to-live of a TCP socket' {
        $o = New-Socket | Get-SocketOption
        $o.ReceiveBufferSize | Should -BeGreaterThan 0
        $o.SendBufferSize | Should -BeGreaterThan 0
        $o.Ttl | Should -BeGreaterThan 0
        $o.Ttl | Should -BeLessOrEqual 255
    }

    It 'names the socket it read in SocketId' {
        $s = New-Socket
        ($s | Get-SocketOption).SocketId | Should -Be $s.Id
    }

    It 'leaves TCP-only options empty and reads Broadcast and the multicast options on a UDP socket' {
        $o = New-Socket -Protocol Udp | Get-SocketOption
        $o.NoDelay | Should -BeNullOrEmpty
        $o.KeepAlive | Should -BeNullOrEmpty
        $o.Broadcast | Should -BeFalse
        $o.MulticastTtl | Should -Be 1
        $o.MulticastLoopback | Should -BeTrue
    }

    It 'reads the options of a Unix domain socket, leaving the TCP and IP ones empty' {
        $o = New-Socket -AddressFamily Unix | Get-SocketOption
        $o.ReceiveBufferSize | Should -BeGreaterThan 0
        $o.NoDelay | Should -BeNullOrEmpty
        $o.Ttl | Should -BeNullOrEmpty
        $o.DualMode | Should -BeNullOrEmpty
    }

    It 'reads no DualMode for an IPv4-only socket' {
        (New-Socket -AddressFamily InterNetwork | Get-SocketOption).DualMode | Should -BeNullOrEmpty
    }

    It 'shows the options New-Socket was given' {
        $o = New-Socket -NoDelay -KeepAlive -ReuseAddress -Ttl 42 | Get-SocketOption
        $o.NoDelay | Should -BeTrue
        $o.KeepAlive | Should -BeTrue
        $o.ReuseAddress | Should -BeTrue
        $o.Ttl | Should -Be 42
    }

    It 'reads several sockets, one object each, by -Id' {
        $a = New-Socket
        $b = New-Socket -Protocol Udp
        $o = @(Get-SocketOption -Id $a.Id, $b.Id)
        $o.SocketId | Should -Be @($a.Id, $b.Id)
    }

    It 'reports InvalidSocketState for a closed socket' {
        $s = New-Socket
        $s | Close-Socket
        { $s | Get-SocketOption -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.GetSocketOptionCommand'
    }

    It 'reports SocketNotFound for an id that names no open socket' {
        { Get-SocketOption -Id 2147483600 -ErrorAction Stop } |
            Should -Throw -ErrorId 'SocketNotFound,SocketCmdlets.Commands.GetSocketOptionCommand'
    }
}

Describe 'Set-SocketOption' -Tag 'SocketOption' {
    BeforeEach {
        $tcp = New-Socket
    }

    AfterEach {
        Get-Socket | Close-Socket
    }

    Context 'Changing options' {
        It 'sets -<Name> and Get-SocketOption shows <Expected>' -ForEach @(
            @{ Name = 'NoDelay'; Set = @{ NoDelay = $true }; Property = 'NoDelay'; Expected = $true }
            @{ Name = 'KeepAlive'; Set = @{ KeepAlive = $true }; Property = 'KeepAlive'; Expected = $true }
            @{ Name = 'ReuseAddress'; Set = @{ ReuseAddress = $true }; Property = 'ReuseAddress'; Expected = $true }
            @{ Name = 'LingerSec'; Set = @{ LingerSec = 3 }; Property = 'LingerSec'; Expected = 3 }
            @{ Name = 'Ttl'; Set = @{ Ttl = 17 }; Property = 'Ttl'; Expected = 17 }
            @{ Name = 'ReceiveTimeoutSec'; Set = @{ ReceiveTimeoutSec = 9 }; Property = 'ReceiveTimeoutSec'; Expected = 9 }
            @{ Name = 'SendTimeoutSec'; Set = @{ SendTimeoutSec = 8 }; Property = 'SendTimeoutSec'; Expected = 8 }
            @{ Name = 'DualMode:$false'; Set = @{ DualMode = $false }; Property = 'DualMode'; Expected = $false }
        ) {
            $tcp | Set-SocketOption @Set
            ($tcp | Get-SocketOption).$Property | Should -Be $Expected
        }

        It 'sets -<Name>: Get-SocketOption shows at least the size asked for (Linux doubles it for bookkeeping)' -ForEach @(
            @{ Name = 'ReceiveBufferSize' }
            @{ Name = 'SendBufferSize' }
        ) {
            $before = ($tcp | Get-SocketOption).$Name
            $size = if ($before -ge 200000) { 50000 } else { 300000 }
            $set = @{ $Name = $size }
            $tcp | Set-SocketOption @set
            $after = ($tcp | Get-SocketOption).$Name
            $after | Should -BeGreaterOrEqual $size
            $after | Should -BeLessOrEqual (2 * $size)
        }

        It 'sets the keep-alive timings' {
            $tcp | Set-SocketOption -KeepAlive -KeepAliveTimeSec 30 -KeepAliveIntervalSec 5 -KeepAliveRetryCount 4
            $o = $tcp | Get-SocketOption
            $o.KeepAlive | Should -BeTrue
            $o.KeepAliveTimeSec | Should -Be 30
            $o.KeepAliveIntervalSec | Should -Be 5
            $o.KeepAliveRetryCount | Should -Be 4
        }

        It 'turns switches off with :$false' {
            $tcp | Set-SocketOption -NoDelay -KeepAlive -ReuseAddress
            $tcp | Set-SocketOption -NoDelay:$false -KeepAlive:$false -ReuseAddress:$false
            $o = $tcp | Get-SocketOption
            $o.NoDelay | Should -BeFalse
            $o.KeepAlive | Should -BeFalse
            $o.ReuseAddress | Should -BeFalse
        }

        It 'turns lingering off again with -LingerSec -1' {
            $tcp | Set-SocketOption -LingerSec 5
            $tcp | Set-SocketOption -LingerSec -1
            ($tcp | Get-SocketOption).LingerSec | Should -Be -1
        }

        It 'sets the UDP options -Broadcast, -MulticastTtl and -MulticastLoopback:$false' {
            $udp = New-Socket -Protocol Udp
            $udp | Set-SocketOption -Broadcast -MulticastTtl 0 -MulticastLoopback:$false
            $o = $udp | Get-SocketOption
            $o.Broadcast | Should -BeTrue
            $o.MulticastTtl | Should -Be 0
            $o.MulticastLoopback | Should -BeFalse
        }

        It 'changes only the options named' {
            $tcp | Set-SocketOption -KeepAlive
            $before = $tcp | Get-SocketOption
            $tcp | Set-SocketOption -NoDelay
            $after = $tcp | Get-SocketOption
            $after.NoDelay | Should -BeTrue
            $after.KeepAlive | Should -BeTrue
            $after.Ttl | Should -Be $before.Ttl
            $after.LingerSec | Should -Be $before.LingerSec
        }

        It 'changes a connected socket' {
            $pair = New-ConnectedPair
            $pair.Peer | Set-SocketOption -NoDelay
            ($pair.Peer | Get-SocketOption).NoDelay | Should -BeTrue
        }

        It 'changes several sockets from the pipeline' {
            $other = New-Socket
            $tcp, $other | Set-SocketOption -NoDelay
            @($tcp, $other | Get-SocketOption).NoDelay | Should -Be @($true, $true)
        }

        It 'changes a socket by -Id' {
            Set-SocketOption -Id $tcp.Id -NoDelay
            ($tcp | Get-SocketOption).NoDelay | Should -BeTrue
        }

        It 'writes nothing without -PassThru and the socket with it' {
            $tcp | Set-SocketOption -NoDelay | Should -BeNullOrEmpty
            $out = $tcp | Set-SocketOption -KeepAlive -PassThru
            $out.Id | Should -Be $tcp.Id
        }

        It 'changes nothing with -WhatIf' {
            $before = Get-OptionSnapshot $tcp
            $tcp | Set-SocketOption -NoDelay -KeepAlive -Ttl 5 -ReceiveTimeoutSec 3 -WhatIf
            Get-OptionSnapshot $tcp | Should -Be $before
        }
    }

    Context 'Default timeouts' {
        BeforeEach {
            $pair = New-ConnectedPair
        }

        It 'makes -ReceiveTimeoutSec the default of Receive-SocketData: ReceiveTimeout without -TimeoutSec' {
            $pair.Peer | Set-SocketOption -ReceiveTimeoutSec 1
            $job = Start-SecondPowerShell -ArgumentList $pair.Peer {
                param($s)
                try { $s | Receive-SocketData -ErrorAction Stop; 'no error' } catch { $_.FullyQualifiedErrorId }
            }
            try {
                # Bounded here, so a missing default fails the test instead of hanging it.
                Wait-SecondPowerShell $job -TimeoutSec 15 | Should -Be 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand'
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'lets -TimeoutSec win over the socket''s default' {
            $pair.Peer | Set-SocketOption -ReceiveTimeoutSec 600
            $job = Start-SecondPowerShell -ArgumentList $pair.Peer {
                param($s)
                try { $s | Receive-SocketData -TimeoutSec 1 -ErrorAction Stop; 'no error' } catch { $_.FullyQualifiedErrorId }
            }
            try {
                Wait-SecondPowerShell $job -TimeoutSec 15 | Should -Be 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand'
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'makes -ReceiveTimeoutSec the default of Receive-SocketConnection: AcceptTimeout without -TimeoutSec' {
            $pair.Server | Set-SocketOption -ReceiveTimeoutSec 1
            $job = Start-SecondPowerShell -ArgumentList $pair.Server {
                param($s)
                try { $s | Receive-SocketConnection -ErrorAction Stop; 'no error' } catch { $_.FullyQualifiedErrorId }
            }
            try {
                Wait-SecondPowerShell $job -TimeoutSec 15 | Should -Be 'AcceptTimeout,SocketCmdlets.Commands.ReceiveSocketConnectionCommand'
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'makes -SendTimeoutSec the default of Send-SocketData: SendTimeout while the peer does not read' {
            $pair.Client | Set-SocketOption -SendTimeoutSec 1 -SendBufferSize 4096
            $pair.Peer | Set-SocketOption -ReceiveBufferSize 4096
            $job = Start-SecondPowerShell -ArgumentList $pair.Client {
                param($s)
                try { , [byte[]]::new(32MB) | Send-SocketData -Socket $s -ErrorAction Stop; 'no error' } catch { $_.FullyQualifiedErrorId }
            }
            try {
                Wait-SecondPowerShell $job -TimeoutSec 30 | Should -Be 'SendTimeout,SocketCmdlets.Commands.SendSocketDataCommand'
            } finally {
                Remove-SecondPowerShell $job
            }
        }
    }

    Context 'Lingering' {
        It 'makes the peer see ConnectionReset, not an end of stream, after a close with -LingerSec 0' {
            $pair = New-ConnectedPair
            $pair.Client | Set-SocketOption -LingerSec 0
            $pair.Client | Close-Socket
            { $pair.Peer | Receive-SocketData -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionReset,SocketCmdlets.Commands.ReceiveSocketDataCommand'
            $pair.Peer.EndOfStream | Should -BeFalse
        }

        It 'lets the peer read to an ordinary end of stream after a close without lingering' {
            $pair = New-ConnectedPair
            'last words' | Send-SocketData -Socket $pair.Client
            $pair.Client | Close-Socket
            $pair.Peer | Receive-SocketData -ToEnd -TimeoutSec 5 | Should -Be 'last words'
            $pair.Peer.EndOfStream | Should -BeTrue
        }
    }

    Context 'Refused changes' {
        It 'refuses -DualMode after bind with InvalidSocketState' {
            $bound = New-Socket | Register-SocketBinding -Address Loopback -Port 0
            $err = { $bound | Set-SocketOption -DualMode:$false -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.SetSocketOptionCommand' -PassThru
            "$err" | Should -Match 'before'
            ($bound | Get-SocketOption).DualMode | Should -BeTrue
        }

        It 'refuses -Broadcast on a TCP socket with InvalidArgument' {
            { $tcp | Set-SocketOption -Broadcast -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidArgument,SocketCmdlets.Commands.SetSocketOptionCommand'
        }

        It 'refuses -NoDelay on a UDP socket with InvalidArgument' {
            $udp = New-Socket -Protocol Udp
            { $udp | Set-SocketOption -NoDelay -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidArgument,SocketCmdlets.Commands.SetSocketOptionCommand'
        }

        It 'refuses -MulticastTtl on a TCP socket with InvalidArgument' {
            { $tcp | Set-SocketOption -MulticastTtl 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidArgument,SocketCmdlets.Commands.SetSocketOptionCommand'
        }

        It 'rejects <Value> by parameter validation before any change' -ForEach @(
            @{ Value = '-Ttl 0'; Set = @{ Ttl = 0 } }
            @{ Value = '-Ttl 256'; Set = @{ Ttl = 256 } }
            @{ Value = '-ReceiveBufferSize 0'; Set = @{ ReceiveBufferSize = 0 } }
            @{ Value = '-SendBufferSize 0'; Set = @{ SendBufferSize = 0 } }
            @{ Value = '-LingerSec -2'; Set = @{ LingerSec = -2 } }
            @{ Value = '-MulticastTtl 300'; Set = @{ MulticastTtl = 300 } }
            @{ Value = '-KeepAliveRetryCount 0'; Set = @{ KeepAliveRetryCount = 0 } }
            @{ Value = '-ReceiveTimeoutSec -1'; Set = @{ ReceiveTimeoutSec = -1 } }
        ) {
            $before = Get-OptionSnapshot $tcp
            { $tcp | Set-SocketOption -NoDelay @Set -ErrorAction Stop } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,SocketCmdlets.Commands.SetSocketOptionCommand'
            Get-OptionSnapshot $tcp | Should -Be $before
        }

        It 'reports InvalidSocketState for a closed socket' {
            $tcp | Close-Socket
            { $tcp | Set-SocketOption -NoDelay -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.SetSocketOptionCommand'
        }

        It 'reports SocketNotFound for an id that names no open socket' {
            { Set-SocketOption -Id 2147483600 -NoDelay -ErrorAction Stop } |
                Should -Throw -ErrorId 'SocketNotFound,SocketCmdlets.Commands.SetSocketOptionCommand'
        }
    }
}

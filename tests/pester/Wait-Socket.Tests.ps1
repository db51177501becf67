# Wait-Socket: select()/poll() over sockets, readable and writable, timeouts, closed sockets and Ctrl+C.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Wait-Socket' -Tag 'WaitSocket' {
    BeforeEach {
        $pair = New-ConnectedPair
    }

    AfterEach {
        Get-Socket | Close-Socket
    }

    Context 'Timeouts and polls' {
        It 'writes nothing, and no error, when nothing is ready within -TimeoutSec' {
            $ready = @(Wait-Socket -Socket $pair.Peer, $pair.Server -TimeoutSec 1 -ErrorVariable failure)
            $ready | Should -BeNullOrEmpty
            $failure | Should -BeNullOrEmpty
        }

        It 'finds a socket without data not readable with -Poll' {
            @(Wait-Socket -Socket $pair.Peer -Poll) | Should -BeNullOrEmpty
        }

        It 'finds a socket with data readable with -Poll once the data is there' {
            'x' | Send-SocketData -Socket $pair.Client
            Wait-Until -TimeoutSec 5 { $pair.Peer.Socket.Available -gt 0 }
            $ready = @(Wait-Socket -Socket $pair.Peer -Poll)
            $ready.Count | Should -Be 1
            $ready[0].Id | Should -Be $pair.Peer.Id
        }

        It 'refuses -Poll with -TimeoutSec as ConflictingParameters' {
            { Wait-Socket -Socket $pair.Peer -Poll -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.WaitSocketCommand'
        }
    }

    Context 'Readable' {
        It 'returns a socket as soon as data arrives on it' {
            'data' | Send-SocketData -Socket $pair.Client
            $ready = @(Wait-Socket -Socket $pair.Peer -TimeoutSec 5)
            $ready.Count | Should -Be 1
            $ready[0] | Should -Be $pair.Peer
            $pair.Peer | Receive-SocketData -TimeoutSec 5 | Should -Be 'data'
        }

        It 'finds a listener with a pending connection readable' {
            $null = Connect-Socket -ComputerName 127.0.0.1 -Port $pair.Port -TimeoutSec 5
            $ready = @(Wait-Socket -Socket $pair.Server -TimeoutSec 5)
            $ready.Count | Should -Be 1
            $ready[0].Id | Should -Be $pair.Server.Id
            ($pair.Server | Receive-SocketConnection -TimeoutSec 5).State | Should -Be 'Connected'
        }

        It 'finds a listener without a pending connection not readable' {
            @(Wait-Socket -Socket $pair.Server -Poll) | Should -BeNullOrEmpty
        }

        It 'finds a socket readable while the engine holds data received but not read yet' {
            "one`ntwo`n" | Send-SocketData -Socket $pair.Client
            $pair.Peer | Receive-SocketData -Line -TimeoutSec 5 | Should -Be 'one'
            # The second line was received with the first: the system has nothing more, the engine has.
            $pair.Peer.Socket.Available | Should -Be 0
            @(Wait-Socket -Socket $pair.Peer -Poll).Count | Should -Be 1
            $pair.Peer | Receive-SocketData -Line -TimeoutSec 5 | Should -Be 'two'
            @(Wait-Socket -Socket $pair.Peer -Poll) | Should -BeNullOrEmpty
        }

        It 'finds a socket readable when its peer has closed (end of stream)' {
            $pair.Client | Close-Socket -Direction Send
            $ready = @(Wait-Socket -Socket $pair.Peer -TimeoutSec 5)
            $ready.Count | Should -Be 1
            $pair.Peer | Receive-SocketData -TimeoutSec 5 | Should -BeNullOrEmpty
            $pair.Peer.EndOfStream | Should -BeTrue
        }

        It 'keeps a socket whose end of stream was read readable' {
            $pair.Client | Close-Socket
            $null = $pair.Peer | Receive-SocketData -ToEnd -TimeoutSec 5
            @(Wait-Socket -Socket $pair.Peer -Poll).Count | Should -Be 1
        }

        It 'waits for -Read explicitly as for the default' {
            'x' | Send-SocketData -Socket $pair.Client
            @(Wait-Socket -Socket $pair.Peer -Read -TimeoutSec 5).Count | Should -Be 1
        }

        It 'finds a UDP socket with a datagram readable' {
            $rx = New-Socket -Protocol Udp | Register-SocketBinding -Address Loopback -Port 0
            $tx = New-Socket -Protocol Udp
            @(Wait-Socket -Socket $rx -Poll) | Should -BeNullOrEmpty
            'datagram' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $rx.LocalEndPoint.Port
            @(Wait-Socket -Socket $rx -TimeoutSec 5).Count | Should -Be 1
        }
    }

    Context 'Writable' {
        It 'finds a connected socket writable with -Write' {
            $ready = @(Wait-Socket -Socket $pair.Client -Write -TimeoutSec 5)
            $ready.Count | Should -Be 1
            $ready[0].Id | Should -Be $pair.Client.Id
        }

        It 'finds a socket whose send buffer is full not writable, until the peer reads' {
            $job = Start-SecondPowerShell -ArgumentList $pair.Client {
                param($s)
                , [byte[]]::new(32MB) | Send-SocketData -Socket $s -TimeoutSec 30
            }
            try {
                Wait-SendStalled $pair.Client
                @(Wait-Socket -Socket $pair.Client -Write -Poll) | Should -BeNullOrEmpty
                $received = $pair.Peer | Receive-SocketData -ByteCount 32MB -AsByteStream -TimeoutSec 10
                $received.Length | Should -Be 32MB
                $null = Wait-SecondPowerShell $job -TimeoutSec 15
                @(Wait-Socket -Socket $pair.Client -Write -TimeoutSec 5).Count | Should -Be 1
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'returns the sockets that are readable or writable with -Read -Write' {
            'x' | Send-SocketData -Socket $pair.Client
            Wait-Until -TimeoutSec 5 { $pair.Peer.Socket.Available -gt 0 }
            $ready = @(Wait-Socket -Socket $pair.Server, $pair.Peer -Read -Write -TimeoutSec 5)
            $ready.Id | Should -Be @($pair.Peer.Id)
        }
    }

    Context 'Several sockets' {
        BeforeEach {
            $second = New-ConnectedPair
        }

        It 'returns only the ready sockets' {
            'x' | Send-SocketData -Socket $second.Client
            Wait-Until -TimeoutSec 5 { $second.Peer.Socket.Available -gt 0 }
            $ready = @(Wait-Socket -Socket $pair.Peer, $second.Peer, $pair.Server -TimeoutSec 5)
            $ready.Id | Should -Be @($second.Peer.Id)
        }

        It 'returns the ready sockets in the order they were given' {
            'x' | Send-SocketData -Socket $pair.Client
            'y' | Send-SocketData -Socket $second.Client
            Wait-Until -TimeoutSec 5 { $pair.Peer.Socket.Available -gt 0 -and $second.Peer.Socket.Available -gt 0 }
            @(Wait-Socket -Socket $second.Peer, $pair.Server, $pair.Peer -TimeoutSec 5).Id | Should -Be @($second.Peer.Id, $pair.Peer.Id)
            @(Wait-Socket -Socket $pair.Peer, $pair.Server, $second.Peer -TimeoutSec 5).Id | Should -Be @($pair.Peer.Id, $second.Peer.Id)
        }

        It 'watches the sockets of the pipeline together' {
            'x' | Send-SocketData -Socket $second.Client
            Wait-Until -TimeoutSec 5 { $second.Peer.Socket.Available -gt 0 }
            $ready = @($pair.Peer, $second.Peer | Wait-Socket -TimeoutSec 5)
            $ready.Id | Should -Be @($second.Peer.Id)
        }

        It 'watches sockets given by -Id' {
            'x' | Send-SocketData -Socket $pair.Client
            Wait-Until -TimeoutSec 5 { $pair.Peer.Socket.Available -gt 0 }
            @(Wait-Socket -Id $second.Peer.Id, $pair.Peer.Id -TimeoutSec 5).Id | Should -Be @($pair.Peer.Id)
        }

        It 'lists a socket given twice once' {
            'x' | Send-SocketData -Socket $pair.Client
            @(Wait-Socket -Socket $pair.Peer, $pair.Peer -TimeoutSec 5).Count | Should -Be 1
        }

        It 'reports one InvalidSocketState error per closed socket and still waits on the others' {
            $closedA = New-Socket
            $closedB = New-Socket
            $closedA, $closedB | Close-Socket
            'x' | Send-SocketData -Socket $second.Client
            $ready = @(Wait-Socket -Socket $closedA, $pair.Peer, $closedB, $second.Peer -TimeoutSec 5 -ErrorAction SilentlyContinue -ErrorVariable failure)
            $ready.Id | Should -Be @($second.Peer.Id)
            $failure.Count | Should -Be 2
            $failure.FullyQualifiedErrorId | Should -Be @('InvalidSocketState,SocketCmdlets.Commands.WaitSocketCommand', 'InvalidSocketState,SocketCmdlets.Commands.WaitSocketCommand')
            $failure.TargetObject.Id | Should -Be @($closedA.Id, $closedB.Id)
        }

        It 'reports a socket closed during the wait as InvalidSocketState, does not return it, and goes on waiting on the others' {
            $job = Start-SecondPowerShell -ArgumentList $pair.Peer, $second.Peer {
                param($a, $b)
                Wait-Socket -Socket $a, $b -TimeoutSec 20 -Verbose | ForEach-Object Id
            }
            try {
                Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
                $pair.Peer | Close-Socket
                # Data for the other socket comes only once the closed one had time to be noticed.
                Start-Sleep -Milliseconds 500
                'for the second' | Send-SocketData -Socket $second.Client
                $ids = @(Wait-SecondPowerShell $job -TimeoutSec 30)
                $ids | Should -Be @($second.Peer.Id)
                @($job.PowerShell.Streams.Error | ForEach-Object FullyQualifiedErrorId) | Should -Be @('InvalidSocketState,SocketCmdlets.Commands.WaitSocketCommand')
            } finally {
                Remove-SecondPowerShell $job
            }
        }

        It 'reports SocketNotFound for an -Id that names no open socket and still waits on the others' {
            'x' | Send-SocketData -Socket $pair.Client
            $ready = @(Wait-Socket -Id 2147483600, $pair.Peer.Id -TimeoutSec 5 -ErrorAction SilentlyContinue -ErrorVariable failure)
            $ready.Id | Should -Be @($pair.Peer.Id)
            $failure.FullyQualifiedErrorId | Should -Be 'SocketNotFound,SocketCmdlets.Commands.WaitSocketCommand'
        }

        It 'returns when a socket that was not ready becomes ready during the wait' {
            $job = Start-SecondPowerShell -ArgumentList $pair.Peer, $second.Peer {
                param($a, $b)
                Wait-Socket -Socket $a, $b -TimeoutSec 20 -Verbose | ForEach-Object Id
            }
            try {
                Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
                'late' | Send-SocketData -Socket $second.Client
                Wait-SecondPowerShell $job -TimeoutSec 15 | Should -Be $second.Peer.Id
            } finally {
                Remove-SecondPowerShell $job
            }
        }
    }

    Context 'Ctrl+C' {
        It 'stops a Wait-Socket without a timeout within a generous bound, with no error' {
            $job = Start-SecondPowerShell -ArgumentList $pair.Peer, $pair.Server { param($a, $b) Wait-Socket -Socket $a, $b -Verbose }
            try {
                Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
                $job.PowerShell.Streams.Verbose[0].Message | Should -Match 'Waiting until'
                Stop-SecondPowerShell $job | Should -BeTrue
                $job.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
                Get-StopError $job | Should -BeNullOrEmpty
                Get-ErrorVariable $job | Should -BeNullOrEmpty
            } finally {
                Remove-SecondPowerShell $job
            }
            # The sockets it watched are untouched.
            'after' | Send-SocketData -Socket $pair.Client
            $pair.Peer | Receive-SocketData -TimeoutSec 5 | Should -Be 'after'
        }
    }

    Context 'A single-threaded server' {
        It 'serves 5 clients at once from one loop' {
            $listener = $pair.Server
            $clients = foreach ($i in 1..5) {
                $c = Connect-Socket -ComputerName 127.0.0.1 -Port $pair.Port -TimeoutSec 5
                "hello from $i", "bye from $i" | Send-SocketData -Socket $c -AppendNewLine
                $c | Close-Socket -Direction Send -PassThru
            }
            $peers = [System.Collections.Generic.List[object]]::new()
            # The pair's own connection never sends: a quiet connection must not hold the loop up.
            $peers.Add($pair.Peer)
            $done = 0
            $rounds = 0
            while ($done -lt 5 -and $rounds -lt 200) {
                $rounds++
                foreach ($ready in Wait-Socket -Socket (@($listener) + $peers) -TimeoutSec 1) {
                    if ($ready -eq $listener) {
                        $peers.Add(($listener | Receive-SocketConnection -TimeoutSec 5))
                        continue
                    }
                    $line = $ready | Receive-SocketData -Line -TimeoutSec 5
                    if ($null -eq $line) {
                        $ready | Close-Socket
                        $null = $peers.Remove($ready)
                        $done++
                        continue
                    }
                    $line.ToUpperInvariant() | Send-SocketData -Socket $ready -AppendNewLine
                }
            }
            $done | Should -Be 5
            $peers.Id | Should -Be @($pair.Peer.Id)
            foreach ($i in 1..5) {
                $clients[$i - 1] | Receive-SocketData -Line -ToEnd -TimeoutSec 5 | Should -Be @("HELLO FROM $i", "BYE FROM $i")
            }
        }
    }
}

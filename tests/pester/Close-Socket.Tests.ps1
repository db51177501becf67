BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Close-Socket' -Tag 'CloseSocket' {
    BeforeEach {
        $pair = New-ConnectedPair
        $client = $pair.Client
        $peer = $pair.Peer
    }

    AfterEach {
        Get-Socket | Close-Socket
    }

    Context 'Full close' {
        It 'closes a socket from the pipeline: Closed, unregistered, handle released' {
            $client | Close-Socket
            $client.State | Should -Be 'Closed'
            Get-Socket -Id $client.Id | Should -BeNullOrEmpty
            $client.Socket.SafeHandle.IsClosed | Should -BeTrue
        }

        It 'emits nothing without -PassThru' {
            $client | Close-Socket | Should -BeNullOrEmpty
        }

        It 'lets the peer see end of stream' {
            'last' | Send-SocketData -Socket $client
            $client | Close-Socket
            (@($peer | Receive-SocketData -ToEnd -TimeoutSec 5) -join '') | Should -BeExactly 'last'
            $peer.EndOfStream | Should -BeTrue
        }

        It 'closes several sockets piped in' {
            $client, $peer, $pair.Server | Close-Socket
            $client.State, $peer.State, $pair.Server.State | Should -Be 'Closed', 'Closed', 'Closed'
        }

        It 'closes an array given to -Socket' {
            Close-Socket -Socket $client, $peer
            $client.State | Should -Be 'Closed'
            $peer.State | Should -Be 'Closed'
        }

        It 'closes a listener, whose port then refuses connections' {
            $pair.Server | Close-Socket
            $pair.Server.State | Should -Be 'Closed'
            { Connect-Socket -ComputerName 127.0.0.1 -Port $pair.Port -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
        }

        It 'closes a socket that was never connected' {
            $s = New-Socket
            $s | Close-Socket
            $s.State | Should -Be 'Closed'
        }

        It 'is harmless on a socket already closed' {
            $client | Close-Socket
            { $client | Close-Socket -ErrorAction Stop } | Should -Not -Throw
            $client.State | Should -Be 'Closed'
        }

        It 'emits the socket with -PassThru' {
            $out = @($client | Close-Socket -PassThru)
            $out.Count | Should -Be 1
            [object]::ReferenceEquals($out[0], $client) | Should -BeTrue
            $out[0].State | Should -Be 'Closed'
        }

        It 'keeps the counters after closing' {
            'abc' | Send-SocketData -Socket $client
            $client | Close-Socket
            $client.BytesSent | Should -Be 3
        }
    }

    Context 'By -Id' {
        It 'closes the socket with that -Id' {
            Close-Socket -Id $client.Id
            $client.State | Should -Be 'Closed'
        }

        It 'closes several ids' {
            Close-Socket -Id $client.Id, $peer.Id
            $client.State | Should -Be 'Closed'
            $peer.State | Should -Be 'Closed'
        }

        It 'takes Id from the pipeline by property name' {
            [pscustomobject]@{ Id = $client.Id } | Close-Socket
            $client.State | Should -Be 'Closed'
        }

        It 'emits the socket with -PassThru' {
            (Close-Socket -Id $client.Id -PassThru).Id | Should -Be $client.Id
        }

        It 'reports SocketNotFound for an id that names no open socket, and closes the others' {
            $gone = New-Socket
            $goneId = $gone.Id
            $gone | Close-Socket
            $err = { Close-Socket -Id $goneId, $client.Id -ErrorAction Stop } |
                Should -Throw -ErrorId 'SocketNotFound,SocketCmdlets.Commands.CloseSocketCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            Close-Socket -Id $goneId, $client.Id -ErrorAction SilentlyContinue
            $client.State | Should -Be 'Closed'
        }
    }

    Context 'Half-close: -Direction Send' {
        It 'shuts down sending: the socket is HalfClosed and still listed' {
            $client | Close-Socket -Direction Send
            $client.State | Should -Be 'HalfClosed'
            (Get-Socket -Id $client.Id).Id | Should -Be $client.Id
        }

        It 'gives the peer end of stream after the data sent before' {
            'request' | Send-SocketData -Socket $client
            $client | Close-Socket -Direction Send
            (@($peer | Receive-SocketData -ToEnd -TimeoutSec 5) -join '') | Should -BeExactly 'request'
            $peer.EndOfStream | Should -BeTrue
        }

        It 'leaves receiving open on the half-closed side' {
            $client | Close-Socket -Direction Send
            $null = @($peer | Receive-SocketData -ToEnd -TimeoutSec 5)
            'response' | Send-SocketData -Socket $peer
            $peer | Close-Socket -Direction Send
            (@($client | Receive-SocketData -ToEnd -TimeoutSec 5) -join '') | Should -BeExactly 'response'
        }

        It 'refuses to send on the half-closed side' {
            $client | Close-Socket -Direction Send
            { 'x' | Send-SocketData -Socket $client -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.SendSocketDataCommand'
        }

        It 'is harmless twice' {
            $client | Close-Socket -Direction Send
            { $client | Close-Socket -Direction Send -ErrorAction Stop } | Should -Not -Throw
            $client.State | Should -Be 'HalfClosed'
        }

        It 'can be followed by a full close' {
            $client | Close-Socket -Direction Send
            $client | Close-Socket
            $client.State | Should -Be 'Closed'
        }

        It 'emits the socket with -PassThru' {
            ($client | Close-Socket -Direction Send -PassThru).State | Should -Be 'HalfClosed'
        }

        It 'half-closes by -Id' {
            Close-Socket -Id $client.Id -Direction Send
            $client.State | Should -Be 'HalfClosed'
        }

        It 'reports InvalidSocketState, naming the state, for a socket that is not connected' {
            $s = New-Socket
            $err = { $s | Close-Socket -Direction Send -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.CloseSocketCommand' -PassThru
            $err.ToString() | Should -Match '\bCreated\b'
            $s.State | Should -Be 'Created'
        }

        It 'is harmless on a closed socket' {
            $client | Close-Socket
            { $client | Close-Socket -Direction Send -ErrorAction Stop } | Should -Not -Throw
        }
    }

    It 'rejects an unknown -Direction' {
        { $client | Close-Socket -Direction Sideways -ErrorAction Stop } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,SocketCmdlets.Commands.CloseSocketCommand'
    }

    It 'says on the verbose stream what it closed and what went over the wire' {
        'abc' | Send-SocketData -Socket $client
        $null = $peer | Receive-SocketData -ByteCount 3 -TimeoutSec 5
        $verbose = @($client | Close-Socket -Verbose 4>&1 | Get-VerboseMessage)
        $verbose | Should -HaveCount 1
        $verbose[0] | Should -Match "^Closed socket $($client.Id) \(Connected, peer 127\.0\.0\.1:$($pair.Port); sent 3 and received 0 bytes\)"
    }

    It 'says on the verbose stream that it half-closed' {
        $verbose = @($client | Close-Socket -Direction Send -Verbose 4>&1 | Get-VerboseMessage)
        $verbose[0] | Should -Match "Socket $($client.Id) shut down sending to 127\.0\.0\.1:$($pair.Port)"
    }
}

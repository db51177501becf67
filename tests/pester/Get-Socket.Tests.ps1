BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Get-Socket' -Tag 'GetSocket' {
    BeforeEach {
        Get-Socket | Close-Socket
        $web = Start-SocketListen -Port 0 -Address 127.0.0.1 -Name 'Web'
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $web.LocalEndPoint.Port -TimeoutSec 5 -Name 'webclient'
        $peer = $web | Receive-SocketConnection -TimeoutSec 5 -Name 'other'
        $fresh = New-Socket
    }

    AfterEach {
        Get-Socket | Close-Socket
    }

    It 'lists the open sockets, ordered by Id' {
        $all = @(Get-Socket)
        $all.Id | Should -Be @($web.Id, $client.Id, $peer.Id, $fresh.Id | Sort-Object)
        $all | ForEach-Object { $_.GetType().FullName | Should -Be 'SocketCmdlets.NetSocket' }
    }

    It 'does not list closed sockets' {
        $client | Close-Socket
        (Get-Socket).Id | Should -Not -Contain $client.Id
    }

    It 'lists a half-closed socket' {
        $client | Close-Socket -Direction Send
        (Get-Socket -Id $client.Id).State | Should -Be 'HalfClosed'
    }

    It 'filters by -Id' {
        @(Get-Socket -Id $peer.Id).Id | Should -Be @($peer.Id)
    }

    It 'filters by several ids, given by position' {
        @(Get-Socket $web.Id, $fresh.Id).Id | Should -Be @($web.Id, $fresh.Id)
    }

    It 'returns nothing for an -Id that names no open socket' {
        $gone = New-Socket
        $goneId = $gone.Id
        $gone | Close-Socket
        Get-Socket -Id $goneId | Should -BeNullOrEmpty
    }

    It 'filters by -Name with wildcards, ignoring case' {
        @(Get-Socket -Name 'web*').Id | Should -Be @($web.Id, $client.Id)
        @(Get-Socket -Name 'WEB').Id | Should -Be @($web.Id)
        @(Get-Socket -Name '*client').Id | Should -Be @($client.Id)
    }

    It 'filters by several names' {
        @(Get-Socket -Name 'Web', 'other').Id | Should -Be @($web.Id, $peer.Id)
    }

    It 'takes Name from the pipeline by property name' {
        @([pscustomobject]@{ Name = 'other' } | Get-Socket).Id | Should -Be @($peer.Id)
    }

    It 'takes Id from the pipeline by property name' {
        @($peer | Get-Socket).Id | Should -Be @($peer.Id)
    }

    It 'filters by -State' {
        @(Get-Socket -State Listening).Id | Should -Be @($web.Id)
        @(Get-Socket -State Connected).Id | Should -Be @($client.Id, $peer.Id)
        @(Get-Socket -State Created).Id | Should -Be @($fresh.Id)
    }

    It 'filters by several states' {
        @(Get-Socket -State Listening, Created).Id | Should -Be @($web.Id, $fresh.Id)
    }

    It 'combines -Name and -State' {
        @(Get-Socket -Name 'web*' -State Connected).Id | Should -Be @($client.Id)
    }

    It 'rejects an unknown -State' {
        { Get-Socket -State Sleeping -ErrorAction Stop } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,SocketCmdlets.Commands.GetSocketCommand'
    }

    It 'cleans up with Get-Socket | Close-Socket' {
        Get-Socket | Close-Socket
        Get-Socket | Should -BeNullOrEmpty
        $web.State, $client.State, $peer.State, $fresh.State | Should -Be 'Closed', 'Closed', 'Closed', 'Closed'
    }

    It 'shows one table row per socket' {
        $text = (Get-Socket | Format-Table | Out-String -Width 250) -replace "\e\[[0-9;]*m"
        $rows = @($text -split '\r?\n' | Where-Object { $_ -match '^\s*\d+\s' })
        $rows.Count | Should -Be 4
        $rows[0] | Should -Match "^\s*$($web.Id)\s+Web\s+Listening\s+127\.0\.0\.1:$($web.LocalEndPoint.Port)\b"
        $text | Should -Not -Match 'ffff'
    }
}

Describe 'Sockets across runspaces and module removal' -Tag 'GetSocket', 'Runspaces' {
    BeforeEach {
        Get-Socket | Close-Socket
        $job = $null
    }

    AfterEach {
        Remove-SecondPowerShell $job
        Get-Socket | Close-Socket
    }

    It 'uses a socket handed to ForEach-Object -Parallel' {
        $pair = New-ConnectedPair
        $state = $pair.Client | ForEach-Object -Parallel {
            Import-Module $env:SOCKETCMDLETS_MODULE_PATH
            'from parallel' | Send-SocketData -Socket $_ -ErrorAction Stop
            $_.State
        }
        "$state" | Should -Be 'Connected'
        $pair.Peer | Receive-SocketData -ByteCount 13 -TimeoutSec 5 | Should -BeExactly 'from parallel'
        $pair.Client.State | Should -Be 'Connected'
    }

    It 'uses a socket handed to Start-ThreadJob' {
        $pair = New-ConnectedPair
        $threadJob = Start-ThreadJob -ArgumentList $pair.Peer {
            param($s)
            Import-Module $env:SOCKETCMDLETS_MODULE_PATH
            $s | Receive-SocketData -Line -TimeoutSec 10 -ErrorAction Stop
        }
        try {
            'to the job' | Send-SocketData -Socket $pair.Client -AppendNewLine
            $null = $threadJob | Wait-Job -Timeout 30
            $threadJob.State | Should -Be 'Completed'
            $threadJob | Receive-Job | Should -BeExactly 'to the job'
        } finally {
            $threadJob | Remove-Job -Force
        }
        $pair.Peer.State | Should -Be 'Connected'
    }

    It 'closes the sockets opened in a runspace when the module is removed there' {
        $job = Start-SecondPowerShell {
            $listener = Start-SocketListen -Port 0 -Address 127.0.0.1 -Name 'removed'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $listener.LocalEndPoint.Port -TimeoutSec 5 -Name 'removed'
            $peer = $listener | Receive-SocketConnection -TimeoutSec 5 -Name 'removed'
            $listener, $client, $peer
            Remove-Module SocketCmdlets
        }
        $sockets = @(Wait-SecondPowerShell $job -TimeoutSec 30)
        $job.PowerShell.Streams.Error | Should -BeNullOrEmpty
        $sockets.Count | Should -Be 3
        $sockets.State | Should -Be 'Closed', 'Closed', 'Closed'
        Get-Socket -Name 'removed' | Should -BeNullOrEmpty
        # This session keeps the module.
        (New-Socket).State | Should -Be 'Created'
    }

    It 'leaves the sockets of this session open when another runspace removes the module' {
        $mine = New-ConnectedPair
        $job = Start-SecondPowerShell {
            $null = Start-SocketListen -Port 0 -Address 127.0.0.1 -Name 'theirs'
            Remove-Module SocketCmdlets
        }
        $null = Wait-SecondPowerShell $job -TimeoutSec 30
        Get-Socket -Name 'theirs' | Should -BeNullOrEmpty
        $mine.Server.State | Should -Be 'Listening' -Because 'Remove-Module in another runspace closes what that runspace opened, not the sockets of this one'
        $mine.Client.State | Should -Be 'Connected'
        $mine.Peer.State | Should -Be 'Connected'
    }
}

Describe 'No leaks' -Tag 'GetSocket', 'Leak' {
    It 'leaves Get-Socket empty and the handle and thread counts where they were after 2,000 connect/accept/close cycles' {
        Get-Socket | Close-Socket
        $listener = Start-SocketListen -Port 0 -Address 127.0.0.1
        $port = $listener.LocalEndPoint.Port
        $cycle = {
            $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -ErrorAction Stop
            $p = $listener | Receive-SocketConnection -TimeoutSec 5 -ErrorAction Stop
            'ping' | Send-SocketData -Socket $c -ErrorAction Stop
            $null = $p | Receive-SocketData -ByteCount 4 -TimeoutSec 5 -ErrorAction Stop
            $c, $p | Close-Socket -ErrorAction Stop
        }
        # Warm-up: first-call caches, the buffer pool and the thread pool settle.
        for ($i = 0; $i -lt 100; $i++) { . $cycle }
        Invoke-FullGC
        $before = Get-ResourceCount

        for ($i = 0; $i -lt 2000; $i++) { . $cycle }

        Invoke-FullGC
        $after = Get-ResourceCount
        @(Get-Socket).Id | Should -Be @($listener.Id)
        $listener | Close-Socket
        Get-Socket | Should -BeNullOrEmpty
        ($after.Handles - $before.Handles) | Should -BeLessOrEqual 8 -Because "handles went from $($before.Handles) to $($after.Handles)"
        ($after.Threads - $before.Threads) | Should -BeLessOrEqual 8 -Because "threads went from $($before.Threads) to $($after.Threads)"
    }
}

Describe 'What a socket and the output objects show' -Tag 'GetSocket', 'Surface' {
    BeforeAll {
        # Methods every object has, and the ways to let go of one: nothing else of the engine may show.
        $script:Basics = @('Dispose', 'Equals', 'GetHashCode', 'GetType', 'ToString')
    }

    It 'lists no engine methods on a socket, only object basics and Dispose' {
        $s = New-Socket
        try {
            $methods = @($s | Get-Member -MemberType Method | ForEach-Object Name | Sort-Object -Unique)
            $methods | Should -Not -BeNullOrEmpty
            $methods | Where-Object { $_ -notin $Basics } | Should -BeNullOrEmpty
            # The data users see stays.
            $properties = @($s | Get-Member -MemberType Property | ForEach-Object Name)
            foreach ($name in 'Id', 'Name', 'Protocol', 'AddressFamily', 'State', 'LocalEndPoint', 'RemoteEndPoint', 'BytesSent', 'BytesReceived', 'IsEncrypted', 'Socket') {
                $properties | Should -Contain $name
            }
        } finally {
            $s | Close-Socket
        }
    }

    It 'lists no engine methods on the datagram, relay, probe and option objects' {
        $assembly = [SocketCmdlets.NetSocket].Assembly
        foreach ($type in 'SocketDatagram', 'SocketRelaySession', 'SocketConnectionTest', 'SocketOptions') {
            $t = $assembly.GetType("SocketCmdlets.$type", $true)
            $t.IsPublic | Should -BeTrue -Because "$type is an output type"
            $methods = @($t.GetMethods([System.Reflection.BindingFlags] 'Public, Instance') | Where-Object { -not $_.IsSpecialName } | ForEach-Object Name | Sort-Object -Unique)
            $methods | Where-Object { $_ -notin $Basics } | Should -BeNullOrEmpty -Because "$type shows data, not engine calls"
        }
    }

    It 'shows a probe result from Test-SocketConnection without engine methods' {
        $closed = Start-SocketListen -Port 0 -Address 127.0.0.1
        $port = $closed.LocalEndPoint.Port
        $closed | Close-Socket
        $result = Test-SocketConnection -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5
        $result | Should -Not -BeNullOrEmpty
        @($result | Get-Member -MemberType Method | ForEach-Object Name) | Where-Object { $_ -notin $Basics } | Should -BeNullOrEmpty
    }

    It 'keeps the engine API internal: only the socket, output types, exceptions and enums are public' {
        $public = @([SocketCmdlets.NetSocket].Assembly.GetExportedTypes() |
                Where-Object { -not $_.IsEnum -and -not [Exception].IsAssignableFrom($_) } | ForEach-Object Name | Sort-Object)
        $public | Should -Be @('NetSocket', 'SocketConnectionTest', 'SocketDatagram', 'SocketOptions', 'SocketRelaySession')
    }
}

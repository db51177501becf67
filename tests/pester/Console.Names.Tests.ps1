# At home in the console, names and binding: sockets named with -Name (wildcards, completion in Completion.Tests.ps1),
# Connect-Socket host:port as one argument, and the short aliases. Loopback only; every wait bounded.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    # The aliases Windows PowerShell 5.1 defines when it starts (its built-in list plus those of the modules it loads
    # by default); pwsh's own are read with Get-Alias in a fresh runspace, so both hosts are covered.
    $script:WindowsPowerShellAliases = @(
        '%', '?', 'ac', 'asnp', 'cat', 'cd', 'CFS', 'chdir', 'clc', 'clear', 'clhy', 'cli', 'clp', 'cls', 'clv', 'cnsn',
        'compare', 'copy', 'cp', 'cpi', 'cpp', 'curl', 'cvpa', 'dbp', 'del', 'diff', 'dir', 'dnsn', 'ebp', 'echo', 'epal',
        'epcsv', 'epsn', 'erase', 'etsn', 'exsn', 'fc', 'fhx', 'fl', 'foreach', 'ft', 'fw', 'gal', 'gbp', 'gc', 'gcb',
        'gci', 'gcm', 'gcs', 'gdr', 'ghy', 'gi', 'gin', 'gjb', 'gl', 'gm', 'gmo', 'gp', 'gps', 'gpv', 'group', 'gsn',
        'gsnp', 'gsv', 'gtz', 'gu', 'gv', 'gwmi', 'h', 'history', 'icm', 'iex', 'ihy', 'ii', 'ipal', 'ipcsv', 'ipmo',
        'ipsn', 'irm', 'ise', 'iwmi', 'iwr', 'kill', 'lp', 'ls', 'man', 'md', 'measure', 'mi', 'mount', 'move', 'mp',
        'mv', 'nal', 'ndr', 'ni', 'nmo', 'npssc', 'nsn', 'nv', 'ogv', 'oh', 'popd', 'ps', 'pushd', 'pwd', 'r', 'rbp',
        'rcjb', 'rcsn', 'rd', 'rdr', 'ren', 'ri', 'rjb', 'rm', 'rmdir', 'rmo', 'rni', 'rnp', 'rp', 'rsn', 'rsnp', 'rujb',
        'rv', 'rvpa', 'rwmi', 'sajb', 'sal', 'saps', 'sasv', 'sbp', 'sc', 'scb', 'select', 'set', 'shcm', 'si', 'sl',
        'sleep', 'sls', 'sort', 'sp', 'spjb', 'spps', 'spsv', 'start', 'stz', 'sujb', 'sv', 'swmi', 'tee', 'trcm',
        'type', 'wget', 'where', 'wjb', 'write',
        # CimCmdlets and PSReadLine, loaded by default in Windows PowerShell 5.1.
        'gcai', 'gcim', 'gcls', 'gcms', 'icim', 'ncim', 'ncms', 'ncso', 'rcie', 'rcim', 'rcms', 'scim'
    )
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Sockets by name' -Tag 'Console' {
    BeforeEach {
        $pair = New-ConnectedPair
        $suffix = [guid]::NewGuid().ToString('n').Substring(0, 8)
        $pair.Client.Name = "cli-$suffix"
        $pair.Peer.Name = "peer-$suffix"
    }
    AfterEach { $pair.Close() }

    It 'sends and receives by -Name' {
        'hello' | Send-SocketData -Name "cli-$suffix" -AppendNewLine
        Receive-SocketData -Name "peer-$suffix" -Line -TimeoutSec 5 | Should -BeExactly 'hello'
    }

    It 'matches names without regard to case' {
        'x' | Send-SocketData -Name "CLI-$suffix"
        Receive-SocketData -Name "PEER-$suffix" -TimeoutSec 5 | Should -BeExactly 'x'
    }

    It 'closes every socket a wildcard matches, and only those' {
        $other = New-Socket -Name "other-$suffix"
        try {
            Close-Socket -Name "*-$suffix" -PassThru | ForEach-Object Id | Sort-Object |
                Should -Be (@($pair.Client.Id, $pair.Peer.Id, $other.Id) | Sort-Object)
            $pair.Server.State | Should -Be 'Listening'
        } finally {
            $other | Close-Socket
        }
    }

    It 'takes -Name from piped objects by property name, and still prefers a piped socket' {
        $closed = @([pscustomobject]@{ Name = "cli-$suffix" } | Close-Socket -PassThru)
        $closed.Id | Should -Be $pair.Client.Id
        $pair.Client.State | Should -Be 'Closed'
        # A socket object has a Name too: it binds as the socket itself.
        @($pair.Peer | Get-SocketOption).SocketId | Should -Be $pair.Peer.Id
    }

    It 'reports SocketNotFound for a name without wildcards that matches nothing, like -Id' {
        { Close-Socket -Name "nobody-$suffix" -ErrorAction Stop } |
            Should -Throw -ErrorId 'SocketNotFound,SocketCmdlets.Commands.CloseSocketCommand'
        { Receive-SocketData -Name "nobody-$suffix" -TimeoutSec 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'SocketNotFound,SocketCmdlets.Commands.ReceiveSocketDataCommand'
    }

    It 'does nothing, without an error, for a wildcard that matches nothing (like Get-Job -Name)' {
        $errors = $null
        @(Close-Socket -Name "nobody-$suffix*" -PassThru -ErrorVariable errors).Count | Should -Be 0
        @(Receive-SocketData -Name "nobody-$suffix*" -TimeoutSec 1 -ErrorVariable errors).Count | Should -Be 0
        $errors | Should -BeNullOrEmpty
    }

    It 'refuses a wildcard that matches several sockets where the cmdlet acts on one' {
        { 'x' | Send-SocketData -Name "*-$suffix" -ErrorAction Stop } |
            Should -Throw -ErrorId 'SocketNameAmbiguous,SocketCmdlets.Commands.SendSocketDataCommand'
        $pair.Client.BytesSent | Should -Be 0
    }

    It 'refuses a wildcard pattern that cannot be parsed' {
        { Close-Socket -Name "bad[-$suffix" -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidWildcardPattern,SocketCmdlets.Commands.CloseSocketCommand'
    }

    It 'reads and sets options, and waits, by name' {
        Set-SocketOption -Name "cli-$suffix" -NoDelay
        (Get-SocketOption -Name "cli-$suffix").NoDelay | Should -BeTrue
        'x' | Send-SocketData -Name "cli-$suffix"
        @(Wait-Socket -Name "*-$suffix" -Read -TimeoutSec 5).Id | Should -Be $pair.Peer.Id
    }

    It 'binds and listens by name; Start-SocketListen -Name with -Port still labels a new socket' {
        $socket = New-Socket -Name "bind-$suffix"
        $labelled = $null
        try {
            Register-SocketBinding -Name "bind-$suffix" -Address 127.0.0.1 -Port 0 | Out-Null
            Start-SocketListen -Name "bind-$suffix" | ForEach-Object Id | Should -Be $socket.Id
            $socket.State | Should -Be 'Listening'
            $labelled = Start-SocketListen -Port 0 -Address Loopback -Name "label-$suffix"
            $labelled.Name | Should -Be "label-$suffix"
            $labelled.Id | Should -Not -Be $socket.Id
        } finally {
            $socket, $labelled | Where-Object { $_ } | Close-Socket
        }
    }

    It 'finds a socket named in another runspace, and stops on Ctrl+C while receiving by name' {
        $job = Start-SecondPowerShell -ArgumentList "peer-$suffix" {
            param($name)
            Receive-SocketData -Name $name -Verbose
        }
        try {
            Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
            Stop-SecondPowerShell $job | Should -BeTrue
            Get-StopError $job | Should -BeNullOrEmpty
        } finally {
            Remove-SecondPowerShell $job
        }
    }

    It 'keeps -Name as the label of the new socket on Connect-Socket and Receive-SocketConnection' {
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $pair.Port -Name "new-$suffix" -TimeoutSec 5
        $peer = $pair.Server | Receive-SocketConnection -Name "accepted-$suffix" -TimeoutSec 5
        try {
            $client.Name | Should -Be "new-$suffix"
            $peer.Name | Should -Be "accepted-$suffix"
        } finally {
            $client, $peer | Close-Socket
        }
    }
}

Describe 'Host and port in one argument' -Tag 'Console' {
    BeforeAll {
        $script:V4 = Start-SocketListen -Port 0 -Address 127.0.0.1
        $script:V6 = $null
        try { $script:V6 = Start-SocketListen -Port 0 -Address ::1 -ErrorAction Stop } catch { }
    }
    AfterAll { $V4, $V6 | Where-Object { $_ } | Close-Socket }

    It 'connects to host:port' {
        $client = Connect-Socket "127.0.0.1:$($V4.LocalEndPoint.Port)" -TimeoutSec 5
        try {
            $client.RemoteEndPoint.Port | Should -Be $V4.LocalEndPoint.Port
            $client.State | Should -Be 'Connected'
        } finally {
            $client | Close-Socket
        }
    }

    It 'connects to [v6]:port and to [v6] with -Port' {
        if (-not $V6) { Set-ItResult -Skipped -Because 'IPv6 loopback (::1) is not available on this host' }
        $port = $V6.LocalEndPoint.Port
        $clients = @(Connect-Socket "[::1]:$port" -TimeoutSec 5), @(Connect-Socket '[::1]' -Port $port -TimeoutSec 5),
            @(Connect-Socket '::1' $port -TimeoutSec 5)
        try {
            $clients | ForEach-Object { $_.RemoteEndPoint.Address.ToString() | Should -Be '::1' }
        } finally {
            $clients | Close-Socket
        }
    }

    It 'takes host:port from piped objects too' {
        $endpoints = [pscustomobject]@{ ComputerName = "127.0.0.1:$($V4.LocalEndPoint.Port)" },
            [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $V4.LocalEndPoint.Port }
        $clients = @($endpoints | Connect-Socket -TimeoutSec 5)
        try {
            $clients.Count | Should -Be 2
            $clients | ForEach-Object { $_.RemoteEndPoint.Port | Should -Be $V4.LocalEndPoint.Port }
        } finally {
            $clients | Close-Socket
        }
    }

    It 'keeps the two-argument form' {
        $client = Connect-Socket localhost $V4.LocalEndPoint.Port -TimeoutSec 5
        try { $client.State | Should -Be 'Connected' } finally { $client | Close-Socket }
    }

    It 'refuses <Text> with InvalidEndPoint before any socket is made' -TestCases @(
        @{ Text = 'localhost:http' }, @{ Text = '[::1' }, @{ Text = '[::1]x' }, @{ Text = 'host:70000' },
        @{ Text = ':80' }, @{ Text = '[localhost]:80' }
    ) {
        $before = @(Get-Socket).Count
        $caught = $null
        try { Connect-Socket $Text -TimeoutSec 1 -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be 'InvalidEndPoint,SocketCmdlets.Commands.ConnectSocketCommand'
        $caught.Exception.Message | Should -Match ([regex]::Escape($Text))
        @(Get-Socket).Count | Should -Be $before
    }

    It 'refuses a host without any port, and a port given twice' {
        { Connect-Socket localhost -ErrorAction Stop } |
            Should -Throw -ErrorId 'PortRequired,SocketCmdlets.Commands.ConnectSocketCommand'
        { Connect-Socket '127.0.0.1:1' -Port 2 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidEndPoint,SocketCmdlets.Commands.ConnectSocketCommand'
    }
}

Describe 'Short aliases' -Tag 'Console' {
    It 'exports aliases that resolve to the cmdlets' {
        $exported = (Get-Module SocketCmdlets).ExportedAliases
        $exported.Count | Should -BeGreaterThan 0
        $manifest = Import-PowerShellDataFile (Join-Path (Get-Module SocketCmdlets).ModuleBase 'SocketCmdlets.psd1')
        @($manifest.AliasesToExport | Sort-Object) | Should -Be @($exported.Keys | Sort-Object)
        $expected = @{ nsk = 'New-Socket'; ccsk = 'Connect-Socket'; sdsd = 'Send-SocketData'; rcsd = 'Receive-SocketData'
            cssk = 'Close-Socket'; gsk = 'Get-Socket'; wsk = 'Wait-Socket' }
        foreach ($name in $exported.Keys) {
            (Get-Alias $name).ResolvedCommand.Name | Should -Be $expected[$name] -Because "alias $name"
            (Get-Alias $name).ResolvedCommand.Module.Name | Should -Be 'SocketCmdlets'
        }
    }

    It 'collides with no alias of pwsh or Windows PowerShell 5.1' {
        # A fresh runspace holds pwsh's built-in aliases and none of this module's.
        $fresh = [powershell]::Create()
        try { $pwshAliases = @($fresh.AddScript('(Get-Alias).Name').Invoke()) } finally { $fresh.Dispose() }
        $pwshAliases.Count | Should -BeGreaterThan 50
        foreach ($name in (Get-Module SocketCmdlets).ExportedAliases.Keys) {
            $pwshAliases | Should -Not -Contain $name
            $WindowsPowerShellAliases | Should -Not -Contain $name
        }
    }

    It 'works as a short form on the command line' {
        $pair = New-ConnectedPair
        try {
            'hi' | sdsd -Socket $pair.Client
            rcsd -Socket $pair.Peer -TimeoutSec 5 | Should -BeExactly 'hi'
            @(gsk -Id $pair.Peer.Id).Count | Should -Be 1
        } finally {
            $pair.Client, $pair.Peer | cssk
            $pair.Server | cssk
        }
    }
}

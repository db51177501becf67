# At home in the console: ending quietly when idle (-IdleTimeoutSec), taking only what has arrived (-Available), and
# messages that survive scripts (Exception.Message). Loopback only; every wait bounded.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Ending quietly when idle' -Tag 'Console' {
    BeforeEach { $pair = New-ConnectedPair }
    AfterEach { $pair.Close() }

    It 'ends Receive-SocketData -ToEnd -IdleTimeoutSec without an error, after writing what came' {
        "one`ntwo`n" | Send-SocketData -Socket $pair.Client
        $errors = $null
        $lines = @($pair.Peer | Receive-SocketData -Line -ToEnd -IdleTimeoutSec 0.5 -ErrorVariable errors)
        $lines | Should -Be @('one', 'two')
        $errors | Should -BeNullOrEmpty
    }

    It 'keeps the ReceiveTimeout error of -TimeoutSec (scripts rely on it)' {
        { $pair.Peer | Receive-SocketData -Line -ToEnd -TimeoutSec 0.3 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ReceiveTimeout,SocketCmdlets.Commands.ReceiveSocketDataCommand'
    }

    It 'ends Receive-SocketConnection -Continuous -IdleTimeoutSec without an error' {
        $client = Connect-Socket -ComputerName 127.0.0.1 -Port $pair.Port -TimeoutSec 5
        try {
            $errors = $null
            $accepted = @($pair.Server | Receive-SocketConnection -Continuous -IdleTimeoutSec 0.5 -ErrorVariable errors)
            $accepted.Count | Should -Be 1
            $errors | Should -BeNullOrEmpty
            $accepted | Close-Socket
        } finally {
            $client | Close-Socket
        }
    }

    It 'refuses -IdleTimeoutSec with -TimeoutSec' {
        { $pair.Peer | Receive-SocketData -IdleTimeoutSec 1 -TimeoutSec 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        { $pair.Server | Receive-SocketConnection -IdleTimeoutSec 1 -TimeoutSec 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketConnectionCommand'
    }

    It 'stops on Ctrl+C while idle-waiting, with no error' {
        $job = Start-SecondPowerShell -ArgumentList $pair.Peer {
            param($s)
            $s | Receive-SocketData -ToEnd -IdleTimeoutSec 60 -Verbose
        }
        try {
            Wait-Until -TimeoutSec 10 { $job.PowerShell.Streams.Verbose.Count -gt 0 }
            Stop-SecondPowerShell $job | Should -BeTrue
            Get-StopError $job | Should -BeNullOrEmpty
        } finally {
            Remove-SecondPowerShell $job
        }
    }
}

Describe 'Taking only what has arrived' -Tag 'Console' {
    BeforeEach { $pair = New-ConnectedPair }
    AfterEach { $pair.Close() }

    It 'returns at once with nothing when nothing has arrived' {
        $errors = $null
        $got = @($pair.Peer | Receive-SocketData -Line -Available -ErrorVariable errors)
        $got.Count | Should -Be 0
        $errors | Should -BeNullOrEmpty
    }

    It 'writes the whole lines and leaves a partial one for later' {
        "first`nsecond`nhalf a li" | Send-SocketData -Socket $pair.Client
        Wait-Until -TimeoutSec 5 { $pair.Peer.Socket.Available -ge 20 }
        @($pair.Peer | Receive-SocketData -Line -Available) | Should -Be @('first', 'second')
        "ne`n" | Send-SocketData -Socket $pair.Client
        Wait-Until -TimeoutSec 5 { $pair.Peer.Socket.Available -gt 0 }
        @($pair.Peer | Receive-SocketData -Line -Available) | Should -Be @('half a line')
    }

    It 'takes the bytes that are there without -Line' {
        'abc' | Send-SocketData -Socket $pair.Client
        Wait-Until -TimeoutSec 5 { $pair.Peer.Socket.Available -ge 3 }
        ($pair.Peer | Receive-SocketData -Available) -join '' | Should -BeExactly 'abc'
    }

    It 'refuses -Available with -ToEnd or -TimeoutSec' {
        { $pair.Peer | Receive-SocketData -Available -ToEnd -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketDataCommand'
        { $pair.Peer | Receive-SocketData -Available -TimeoutSec 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConflictingParameters,SocketCmdlets.Commands.ReceiveSocketDataCommand'
    }

    It 'lets one thread serve a fast client while a slow one has sent half a line (examples/SelectServer.ps1)' {
        $slow = Connect-Socket -ComputerName 127.0.0.1 -Port $pair.Port -TimeoutSec 5
        $slowPeer = $pair.Server | Receive-SocketConnection -TimeoutSec 5
        try {
            'half' | Send-SocketData -Socket $slow
            'whole line' | Send-SocketData -Socket $pair.Client -AppendNewLine
            $answered = @()
            for ($round = 0; $round -lt 20 -and $answered.Count -eq 0; $round++) {
                foreach ($ready in @(Wait-Socket -Socket $slowPeer, $pair.Peer -Read -TimeoutSec 1)) {
                    $answered += @($ready | Receive-SocketData -Line -Available)
                }
            }
            $answered | Should -Be @('whole line')
        } finally {
            $slow, $slowPeer | Close-Socket
        }
    }
}

Describe 'Messages that survive scripts' -Tag 'Console' {
    It 'puts the helpful text in Exception.Message and keeps the system error as InnerException' {
        $port = Get-FreePort
        $caught = $null
        try { Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 5 -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
        $caught.Exception.Message | Should -Match "Could not connect to 127\.0\.0\.1:$port"
        $caught.Exception.Message | Should -Match 'Check that a server is listening'
        $caught.Exception.InnerException | Should -BeOfType ([System.Net.Sockets.SocketException])
        $caught.Exception.InnerException.SocketErrorCode | Should -Be 'ConnectionRefused'
        $caught.Exception.ErrorId | Should -Be 'ConnectionRefused'
        "$caught" | Should -Be $caught.Exception.Message
    }

    It 'does the same for a timeout' {
        $pair = New-ConnectedPair
        try {
            $caught = $null
            try { $pair.Peer | Receive-SocketData -TimeoutSec 0.2 -ErrorAction Stop } catch { $caught = $_ }
            $caught.Exception.Message | Should -Match 'no data arrived within 0\.2 s'
            $caught.Exception.InnerException | Should -BeOfType ([TimeoutException])
        } finally {
            $pair.Close()
        }
    }
}

Describe 'Views fit 80 columns' -Tag 'Console' {
    It 'shows the socket table with its key columns at 80 columns, a long Unix path by its end' {
        $pair = New-ConnectedPair
        $path = Join-Path ([System.IO.Path]::GetTempPath()) "sc-view-$PID-a-rather-long-socket-name.sock"
        $unix = $null
        try {
            'x' * 3000000 | Send-SocketData -Socket $pair.Client
            $null = $pair.Peer | Receive-SocketData -ByteCount 3000000
            if ($IsLinux -or $IsMacOS) { $unix = New-Socket -AddressFamily Unix | Register-SocketBinding -Path $path }
            $text = @($pair.Client, $pair.Peer, $unix) | Where-Object { $_ } | Format-Table | Out-String -Width 80
            $lines = $text -split "`r?`n" | Where-Object { $_ }
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 -Because "'$_'" }
            $lines[0] | Should -Match '^\s*Id\s+Name\s+State\s+LocalEndPoint\s+RemoteEndPoint\s+Sent\s+Recv\s*$'
            $text | Should -Match ([regex]::Escape("127.0.0.1:$($pair.Port)"))
            $text | Should -Match '2\.9M'
            if ($unix) { $text | Should -Match 'socket-name\.sock' }
        } finally {
            $pair.Close()
            $unix | Close-Socket
            Remove-Item -LiteralPath $path -ErrorAction Ignore
        }
    }

    It 'shows every property in the list view' {
        $pair = New-ConnectedPair
        try {
            $text = $pair.Client | Format-List | Out-String -Width 80
            foreach ($name in 'Protocol', 'BytesSent', 'BytesReceived', 'IsEncrypted', 'ReceiveTimeoutSec', 'CreatedAt') {
                $text | Should -Match "(?m)^$name\s+:" -Because "Format-List shows $name"
            }
        } finally {
            $pair.Close()
        }
    }

    It 'shows a datagram at 80 columns with its sender, length and text' {
        $rx = New-Socket -Protocol Udp | Register-SocketBinding -Address 127.0.0.1 -Port 0
        $tx = New-Socket -Protocol Udp
        try {
            'ping' | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $rx.LocalEndPoint.Port
            $datagram = $rx | Receive-SocketData -TimeoutSec 5
            $text = $datagram | Format-Table | Out-String -Width 80
            $text | Should -Match 'RemoteEndPoint\s+Length\s+Text'
            $text | Should -Match '127\.0\.0\.1:\d+\s+4\s+ping'
        } finally {
            $rx, $tx | Close-Socket
        }
    }
}

BeforeDiscovery {
    # One test case per type each view is selected by, read from the staged format file.
    $moduleFolder = if (Test-Path -LiteralPath $env:SOCKETCMDLETS_MODULE_PATH -PathType Container) { $env:SOCKETCMDLETS_MODULE_PATH } else { Split-Path $env:SOCKETCMDLETS_MODULE_PATH }
    $formatXml = [xml](Get-Content -Raw -LiteralPath (Join-Path $moduleFolder 'SocketCmdlets.format.ps1xml'))
    $ViewCases = @(foreach ($view in $formatXml.Configuration.ViewDefinitions.View) {
            foreach ($typeName in @($view.ViewSelectedBy.TypeName)) {
                @{ View = $view.Name; TypeName = $typeName; Labels = @($view.TableControl.TableHeaders.TableColumnHeader.Label) }
            }
        })
}

Describe 'Every view fits 80 columns' -Tag 'Console' {
    BeforeAll {
        $script:FormatFile = Join-Path (Get-Module SocketCmdlets).ModuleBase 'SocketCmdlets.format.ps1xml'
        $script:Views = @(([xml](Get-Content -Raw -LiteralPath $FormatFile)).Configuration.ViewDefinitions.View)
        $script:Made = [System.Collections.Generic.List[object]]::new()
        $script:Jobs = [System.Collections.Generic.List[object]]::new()
        $script:Unix = Join-Path ([System.IO.Path]::GetTempPath()) "sc-views-$PID-a-rather-long-name-for-a-unix-socket.sock"

        # One or more objects of each type a view is selected by: the widest values a console sees (large counts,
        # IPv6, long Unix paths) where the test can make them.
        function New-ViewSample([string] $TypeName) {
            switch ($TypeName) {
                'SocketCmdlets.NetSocket' {
                    $pair = New-ConnectedPair
                    $Made.AddRange(@($pair.Client, $pair.Peer, $pair.Server))
                    $udp = New-Socket -Protocol Udp -Name 'a-long-socket-name' | Register-SocketBinding -Address 127.0.0.1 -Port 0
                    $Made.Add($udp)
                    $pair.Client, $pair.Peer, $udp
                }
                'SocketCmdlets.SocketDatagram' {
                    $rx = New-Socket -Protocol Udp | Register-SocketBinding -Address 127.0.0.1 -Port 0
                    $tx = New-Socket -Protocol Udp
                    $Made.AddRange(@($rx, $tx))
                    ('x' * 200) | Send-SocketData -Socket $tx -ComputerName 127.0.0.1 -Port $rx.LocalEndPoint.Port
                    $rx | Receive-SocketData -TimeoutSec 5
                }
                'SocketCmdlets.SocketOptions' {
                    $tcp = New-Socket -NoDelay -ReceiveBufferSize 65536
                    $udp = New-Socket -Protocol Udp -Broadcast
                    $Made.AddRange(@($tcp, $udp))
                    Set-SocketOption -Socket $tcp -ReceiveTimeoutSec 2.5
                    Get-SocketOption -Socket $tcp, $udp
                }
                'SocketCmdlets.SocketRelaySession' {
                    $a = New-ConnectedPair
                    $b = New-ConnectedPair
                    $Made.AddRange(@($a.Client, $a.Peer, $a.Server, $b.Client, $b.Peer, $b.Server))
                    'to the target' | Send-SocketData -Socket $a.Client
                    Join-Socket -Socket $a.Peer -Target $b.Client -IdleTimeoutSec 0.3
                }
                'SocketCmdlets.SocketConnectionTest' {
                    $listener = Start-SocketListen -Port 0 -Address Loopback
                    $Made.Add($listener)
                    Test-SocketConnection -ComputerName 127.0.0.1, localhost -Port $listener.LocalEndPoint.Port -TimeoutSec 5
                }
                'SocketCmdlets.Commands.SocketRelayJob' {
                    $job = Start-SocketRelay -ListenPort 0 -ListenAddress Loopback -ComputerName 127.0.0.1 -Port 9 -Name 'a-relay-with-a-long-name'
                    $Jobs.Add($job)
                    $job
                }
                'SocketCmdlets.Commands.SocketServerJob' {
                    $job = Start-SocketServer -Port 0 -Address Loopback -ScriptBlock { $_ | Receive-SocketData -ToEnd | Out-Null }
                    $Jobs.Add($job)
                    $job
                    if ($IsLinux -or $IsMacOS) {
                        $unixJob = Start-SocketServer -Path $Unix -ScriptBlock { 'hi' } -Name 'unix'
                        $Jobs.Add($unixJob)
                        $unixJob
                    }
                }
                default { throw "No sample for the view of ${TypeName}: add one to New-ViewSample." }
            }
        }
    }

    AfterAll {
        $Jobs | Stop-Job
        $Jobs | Remove-Job -Force
        $Made | Where-Object { $_ } | Close-Socket
        Remove-Item -LiteralPath $Unix -ErrorAction Ignore
    }

    It 'loads the format file on its own without errors (Update-FormatData -PrependPath)' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddCommand('Update-FormatData').AddParameter('PrependPath', $FormatFile).AddParameter('ErrorAction', 'Stop')
            { $ps.Invoke() } | Should -Not -Throw
            $ps.Streams.Error | Should -BeNullOrEmpty
        } finally {
            $ps.Dispose()
        }
    }

    It 'declares each view once, with as many column items as headers and at most 80 columns of widths' {
        @($Views.Name | Group-Object | Where-Object Count -gt 1) | Should -BeNullOrEmpty
        foreach ($view in $Views) {
            $headers = @($view.TableControl.TableHeaders.TableColumnHeader)
            $items = @($view.TableControl.TableRowEntries.TableRowEntry.TableColumnItems.TableColumnItem)
            $items.Count | Should -Be $headers.Count -Because "view $($view.Name)"
            # The last column may be open (no width); the others plus one space between columns must fit.
            $fixed = @($headers | Where-Object { $_['Width'] } | ForEach-Object { [int]$_.Width })
            ($fixed | Measure-Object -Sum).Sum + $headers.Count - 1 | Should -BeLessOrEqual 80 -Because "view $($view.Name)"
        }
    }

    It 'has a view for every type a cmdlet of the module writes' {
        $viewed = @($Views | ForEach-Object { $_.ViewSelectedBy.TypeName })
        $assemblies = @((Get-Module SocketCmdlets).ImplementingAssembly, [SocketCmdlets.NetSocket].Assembly)
        $written = @(Get-Command -Module SocketCmdlets -CommandType Cmdlet | ForEach-Object OutputType | ForEach-Object Type |
                Where-Object { $_ -and $assemblies -contains $_.Assembly } | ForEach-Object FullName | Sort-Object -Unique)
        $written.Count | Should -BeGreaterThan 5
        foreach ($type in $written) { $viewed | Should -Contain $type }
    }

    It 'renders <TypeName> in at most 80 columns with every column header, and lists every property' -TestCases $ViewCases {
        $objects = @(New-ViewSample $TypeName)
        $objects.Count | Should -BeGreaterThan 0
        $text = ($objects | Format-Table | Out-String -Width 80) -replace "\e\[[0-9;]*m"
        $lines = @($text -split "\r?\n" | Where-Object { $_.Trim() })
        foreach ($line in $lines) { $line.Length | Should -BeLessOrEqual 80 -Because "'$line' of view $View" }
        $header = $lines[0]
        foreach ($label in $Labels) { $header | Should -Match "(^|\s)$([regex]::Escape($label))(\s|$)" -Because "view $View shows $label at 80 columns" }
        # A header, its underline and one row per object: no row wrapped onto a second line.
        $lines.Count | Should -Be (2 + $objects.Count)

        $list = ($objects[0] | Format-List | Out-String -Width 80) -replace "\e\[[0-9;]*m"
        $properties = $objects[0].PSObject.Properties | Where-Object { $_.MemberType -eq 'Property' } | ForEach-Object Name
        foreach ($name in $properties) { $list | Should -Match "(?m)^$name\s*:" -Because "Format-List of $TypeName shows $name" }
    }

    It 'shows the key values in the rows' {
        $pair = New-ConnectedPair
        try {
            $options = ($pair.Client | Get-SocketOption | Format-Table | Out-String -Width 80) -replace "\e\[[0-9;]*m"
            $options | Should -Match "(?m)^\s*$($pair.Client.Id)\s+(True|False)\s+(True|False)" -Because 'the row starts with the id and the switches'
            $options | Should -Match '\bnone\b'
            $job = Start-SocketRelay -ListenPort 0 -ListenAddress Loopback -ComputerName 127.0.0.1 -Port $pair.Port -Name keys
            try {
                $row = ($job | Format-Table | Out-String -Width 80) -replace "\e\[[0-9;]*m"
                $row | Should -Match "keys\s+Running\s+127\.0\.0\.1:$($job.LocalPort)\s+127\.0\.0\.1:$($pair.Port)\s+0\s+0\s+0"
            } finally {
                $job | Stop-Job
                $job | Remove-Job -Force
            }
        } finally {
            $pair.Close()
        }
    }
}

# Unix domain stream sockets: bind, listen, connect by path, data both ways, socket files and their errors.
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    $script:Temp = [System.IO.Path]::GetTempPath()
    $script:Serial = 0

    function New-SocketPath {
        # A short, unique socket path in the temp folder, with this process's id in its name.
        $script:Serial++
        Join-Path $Temp "sc-$PID-$Serial.sock"
    }

    function New-StaleSocketFile {
        <#
        .SYNOPSIS
            Leaves a socket file at -Path that nobody accepts on, as a server that crashed does.
        .DESCRIPTION
            A raw socket is bound and closed without listening. .NET deletes the file of a socket it bound when the
            socket is disposed, so the socket is bound to a side path and the file is moved into place first.
        #>
        param([Parameter(Mandatory)] [string] $Path)
        $raw = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Unspecified)
        try {
            $raw.Bind([System.Net.Sockets.UnixDomainSocketEndPoint]::new("$Path.bind"))
            [System.IO.File]::Move("$Path.bind", $Path)
        } finally {
            $raw.Dispose()
        }
    }

    function Add-UnixFillers {
        <#
        .SYNOPSIS
            Fills the backlog of the Unix listener on -Path with raw connections nobody accepts, until a further connect
            fails with EAGAIN (WouldBlock). Returns the raw sockets, for the caller to dispose.
        #>
        param([Parameter(Mandatory)] [string] $Path)
        $endPoint = [System.Net.Sockets.UnixDomainSocketEndPoint]::new($Path)
        $fillers = [System.Collections.Generic.List[System.Net.Sockets.Socket]]::new()
        for ($i = 0; $i -lt 16; $i++) {
            $raw = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Unspecified)
            $raw.Blocking = $false
            $fillers.Add($raw)
            try {
                $raw.Connect($endPoint)
            } catch [System.Net.Sockets.SocketException] {
                if ($_.Exception.SocketErrorCode -eq 'WouldBlock') { return , $fillers.ToArray() }
                throw
            } catch {
                if ($_.Exception.InnerException.SocketErrorCode -eq 'WouldBlock') { return , $fillers.ToArray() }
                throw
            }
        }
        $fillers | ForEach-Object Dispose
        throw "The backlog of the listener on '$Path' never filled."
    }
}

AfterAll {
    Get-Socket | Close-Socket
    Get-ChildItem -LiteralPath $Temp -Filter "sc-$PID-*" -ErrorAction Ignore | Remove-Item -Force -ErrorAction Ignore
}

Describe 'Unix domain sockets' -Tag 'UnixSocket' {
    BeforeEach {
        $path = New-SocketPath
    }

    AfterEach {
        Get-Socket | Close-Socket
        Remove-Item -LiteralPath $path, "$path.bind" -Force -ErrorAction Ignore
    }

    Context 'Listening and connecting' {
        It 'listens with New-Socket -AddressFamily Unix | Register-SocketBinding -Path | Start-SocketListen' {
            $server = New-Socket -AddressFamily Unix | Register-SocketBinding -Path $path | Start-SocketListen
            $server.State | Should -Be 'Listening'
            $server.AddressFamily | Should -Be 'Unix'
            $server.Path | Should -Be $path
            Test-Path -LiteralPath $path | Should -BeTrue
        }

        It 'binds first (state Bound, the socket file made) and listens after' {
            $bound = New-Socket -AddressFamily Unix | Register-SocketBinding -Path $path
            $bound.State | Should -Be 'Bound'
            Test-Path -LiteralPath $path | Should -BeTrue
            ($bound | Start-SocketListen).State | Should -Be 'Listening'
        }

        It 'creates, binds and listens in one call with Start-SocketListen -Path' {
            $server = Start-SocketListen -Path $path -Name unix-server
            $server.State | Should -Be 'Listening'
            $server.AddressFamily | Should -Be 'Unix'
            $server.Name | Should -Be 'unix-server'
        }

        It 'resolves a relative -Path against the current location' {
            Push-Location -LiteralPath $Temp
            try {
                $server = Start-SocketListen -Path (Split-Path -Leaf $path)
                $client = Connect-Socket -Path (Split-Path -Leaf $path) -TimeoutSec 5
            } finally {
                Pop-Location
            }
            $server.Path | Should -Be $path
            $client.RemotePath | Should -Be $path
            Test-Path -LiteralPath $path | Should -BeTrue
        }

        It 'connects with Connect-Socket -Path, creating the socket itself' {
            $server = Start-SocketListen -Path $path
            $client = Connect-Socket -Path $path -TimeoutSec 5
            $client.State | Should -Be 'Connected'
            $client.AddressFamily | Should -Be 'Unix'
            $client.RemotePath | Should -Be $path
            $peer = $server | Receive-SocketConnection -TimeoutSec 5
            $peer.State | Should -Be 'Connected'
            $peer.LocalPath | Should -Be $path
            $peer.ListenerId | Should -Be $server.Id
        }

        It 'connects a socket made with New-Socket -AddressFamily Unix by -Socket' {
            $server = Start-SocketListen -Path $path
            $socket = New-Socket -AddressFamily Unix -Name unix-client
            $client = $socket | Connect-Socket -Path $path -TimeoutSec 5
            $client.Id | Should -Be $socket.Id
            $client.State | Should -Be 'Connected'
            ($server | Receive-SocketConnection -TimeoutSec 5).State | Should -Be 'Connected'
        }

        It 'reports AcceptTimeout on a Unix listener when nobody connects within -TimeoutSec' {
            $server = Start-SocketListen -Path $path
            { $server | Receive-SocketConnection -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'AcceptTimeout,SocketCmdlets.Commands.ReceiveSocketConnectionCommand'
        }

        It 'names the path of a Unix listener in the AcceptTimeout message' {
            $server = Start-SocketListen -Path $path
            $err = { $server | Receive-SocketConnection -TimeoutSec 1 -ErrorAction Stop } | Should -Throw -PassThru
            "$err" | Should -Match ([regex]::Escape($path))
            "$err" | Should -Not -Match '\(none\)'
        }

        It 'shows the path in the format view' {
            $server = Start-SocketListen -Path $path
            $client = Connect-Socket -Path $path -TimeoutSec 5
            $peer = $server | Receive-SocketConnection -TimeoutSec 5
            foreach ($s in $server, $client, $peer) {
                # The table keeps the end of a long path (the file name); the list view shows all of it.
                $row = ($s | Format-Table | Out-String -Width 250) -replace "\e\[[0-9;]*m"
                $row | Should -Match ([regex]::Escape((Split-Path -Leaf $path))) -Because "socket $($s.Id) ($($s.State)) is on that path"
                ($s | Format-List | Out-String -Width 250) | Should -Match ([regex]::Escape($path))
            }
        }
    }

    Context 'Data' {
        BeforeEach {
            $server = Start-SocketListen -Path $path
            $client = Connect-Socket -Path $path -TimeoutSec 5
            $peer = $server | Receive-SocketConnection -TimeoutSec 5
        }

        It 'carries data from the client to the server' {
            'over a Unix socket' | Send-SocketData -Socket $client
            $peer | Receive-SocketData -TimeoutSec 5 | Should -BeExactly 'over a Unix socket'
        }

        It 'carries data from the server to the client' {
            'back again' | Send-SocketData -Socket $peer
            $client | Receive-SocketData -TimeoutSec 5 | Should -BeExactly 'back again'
        }

        It 'carries binary data unchanged' {
            $bytes = New-RandomBytes 100000
            , $bytes | Send-SocketData -Socket $client
            $received = $peer | Receive-SocketData -ByteCount $bytes.Length -AsByteStream -TimeoutSec 5
            Get-Sha256 $received | Should -Be (Get-Sha256 $bytes)
        }

        It 'receives lines with -Line' {
            "one`ntwo`r`nthree`n" | Send-SocketData -Socket $client
            $peer | Receive-SocketData -Line -Count 3 -TimeoutSec 5 | Should -Be @('one', 'two', 'three')
        }

        It 'reads -ToEnd after the peer half-closes, and the half-closed side still receives' {
            'a', 'b', 'c' | Send-SocketData -Socket $client -AppendNewLine
            $client | Close-Socket -Direction Send
            $client.State | Should -Be 'HalfClosed'
            $peer | Receive-SocketData -Line -ToEnd -TimeoutSec 5 | Should -Be @('a', 'b', 'c')
            $peer.EndOfStream | Should -BeTrue
            'reply' | Send-SocketData -Socket $peer
            $client | Receive-SocketData -TimeoutSec 5 | Should -Be 'reply'
        }

        It 'counts the bytes sent and received' {
            'twelve bytes' | Send-SocketData -Socket $client
            $null = $peer | Receive-SocketData -ByteCount 12 -TimeoutSec 5
            $client.BytesSent | Should -Be 12
            $peer.BytesReceived | Should -Be 12
        }
    }

    Context 'Socket files' {
        It 'removes the listener''s socket file when the listener is closed' {
            $server = Start-SocketListen -Path $path
            Test-Path -LiteralPath $path | Should -BeTrue
            $server | Close-Socket
            Test-Path -LiteralPath $path | Should -BeFalse
        }

        It 'removes the socket file of a bound socket that never listened when it is closed' {
            $bound = New-Socket -AddressFamily Unix | Register-SocketBinding -Path $path
            $bound | Close-Socket
            Test-Path -LiteralPath $path | Should -BeFalse
        }

        It 'keeps the socket file while the listener is open, whatever happens to its connections' {
            $server = Start-SocketListen -Path $path
            $client = Connect-Socket -Path $path -TimeoutSec 5
            $peer = $server | Receive-SocketConnection -TimeoutSec 5
            $client, $peer | Close-Socket
            Test-Path -LiteralPath $path | Should -BeTrue
            $server.State | Should -Be 'Listening'
        }

        It 'replaces a stale socket file that nobody accepts on' {
            New-StaleSocketFile -Path $path
            Test-Path -LiteralPath $path | Should -BeTrue
            $verbose = @(Start-SocketListen -Path $path -Verbose 4>&1)
            $server = $verbose | Where-Object { $_ -is [SocketCmdlets.NetSocket] }
            $server.State | Should -Be 'Listening'
            ($verbose | Get-VerboseMessage) -join "`n" | Should -Match 'stale'
            $client = Connect-Socket -Path $path -TimeoutSec 5
            ($server | Receive-SocketConnection -TimeoutSec 5).State | Should -Be 'Connected'
        }

        It 'refuses the path of a live listener with AddressInUse and leaves that listener working' {
            $server = Start-SocketListen -Path $path
            $err = { Start-SocketListen -Path $path -ErrorAction Stop } |
                Should -Throw -ErrorId 'AddressInUse,SocketCmdlets.Commands.StartSocketListenCommand' -PassThru
            "$err" | Should -Match ([regex]::Escape($path))
            $client = Connect-Socket -Path $path -TimeoutSec 5
            ($server | Receive-SocketConnection -TimeoutSec 5).State | Should -Be 'Connected'
        }

        It 'refuses a regular file at the path with AddressInUse and leaves the file untouched' {
            Set-Content -LiteralPath $path -Value 'not a socket' -NoNewline
            { New-Socket -AddressFamily Unix | Register-SocketBinding -Path $path -ErrorAction Stop } |
                Should -Throw -ErrorId 'AddressInUse,SocketCmdlets.Commands.RegisterSocketBindingCommand'
            Get-Content -LiteralPath $path -Raw | Should -BeExactly 'not a socket'
        }

        It 'refuses a FIFO at the path at once with AddressInUse naming it, and leaves it a FIFO' {
            if (-not (Get-Command mkfifo -CommandType Application -ErrorAction Ignore)) {
                Set-ItResult -Skipped -Because 'mkfifo is not installed'
                return
            }
            & mkfifo $path
            $job = Start-SecondPowerShell -ArgumentList $path {
                param($p)
                try { Start-SocketListen -Path $p -ErrorAction Stop } catch { $_.FullyQualifiedErrorId; "$_" }
            }
            try {
                if (-not $job.Handle.AsyncWaitHandle.WaitOne(10000)) {
                    # The old bind opened the FIFO and hung there: a writer releases it so the test ends.
                    $release = [System.IO.File]::Open($path, 'Open', 'Write', 'ReadWrite')
                    $release.Dispose()
                    throw 'Start-SocketListen -Path on a FIFO was still running after 10 s.'
                }
                $id, $message = $job.PowerShell.EndInvoke($job.Handle)
            } finally {
                Remove-SecondPowerShell $job
            }
            $id | Should -Be 'AddressInUse,SocketCmdlets.Commands.StartSocketListenCommand'
            $message | Should -Match 'FIFO'
            $message | Should -Not -Match 'port'
            & test -p $path
            $LASTEXITCODE | Should -Be 0 -Because 'the FIFO is left as it was'
        }

        It 'refuses a directory at the path with AddressInUse saying it is a directory, with no port advice' {
            $null = New-Item -ItemType Directory -Path $path
            try {
                $err = { New-Socket -AddressFamily Unix | Register-SocketBinding -Path $path -ErrorAction Stop } |
                    Should -Throw -ErrorId 'AddressInUse,SocketCmdlets.Commands.RegisterSocketBindingCommand' -PassThru
                "$err" | Should -Match 'directory'
                "$err" | Should -Not -Match 'port'
                Test-Path -LiteralPath $path -PathType Container | Should -BeTrue
            } finally {
                Remove-Item -LiteralPath $path -Recurse -Force -ErrorAction Ignore
            }
        }

        It 'hands a live listener no phantom connection when a bind to its path fails' {
            $server = Start-SocketListen -Path $path
            { Start-SocketListen -Path $path -ErrorAction Stop } |
                Should -Throw -ErrorId 'AddressInUse,SocketCmdlets.Commands.StartSocketListenCommand'
            { New-Socket -AddressFamily Unix | Register-SocketBinding -Path $path -ErrorAction Stop } |
                Should -Throw -ErrorId 'AddressInUse,SocketCmdlets.Commands.RegisterSocketBindingCommand'
            $server.Socket.Poll(0, [System.Net.Sockets.SelectMode]::SelectRead) | Should -BeFalse -Because 'no connection is pending at the server'
        }

        It 'refuses at once the path of a live listener whose backlog is full, and Close-Socket elsewhere is not held up' {
            $server = Start-SocketListen -Path $path -Backlog 1
            $fillers = Add-UnixFillers -Path $path
            try {
                $job = Start-SecondPowerShell -ArgumentList $path {
                    param($p)
                    $s = New-Socket -AddressFamily Unix -Name full-bind
                    try { $s | Register-SocketBinding -Path $p -ErrorAction Stop } catch { $_.FullyQualifiedErrorId }
                }
                try {
                    Wait-SecondPowerShell $job -TimeoutSec 10 | Should -Be 'AddressInUse,SocketCmdlets.Commands.RegisterSocketBindingCommand'
                } finally {
                    if (-not $job.Handle.IsCompleted) {
                        # A bind that waits for room in the backlog (the old probe did) is released by making room.
                        for ($i = 0; $i -lt 20 -and $server.Socket.Poll(0, [System.Net.Sockets.SelectMode]::SelectRead); $i++) {
                            $null = $server | Receive-SocketConnection -TimeoutSec 5
                        }
                    }
                    Remove-SecondPowerShell $job
                }
                Get-Socket | Where-Object Name -eq full-bind | Close-Socket
                $server.State | Should -Be 'Listening'
            } finally {
                $fillers | ForEach-Object Dispose
            }
        }
        It 'lets exactly one of two runspaces that listen on one path at once win; the other gets AddressInUse' {
            $jobs = @(1, 2 | ForEach-Object {
                    Start-SecondPowerShell -ArgumentList $path {
                        param($p)
                        try { (Start-SocketListen -Path $p -Name "race-$([guid]::NewGuid())" -ErrorAction Stop).State.ToString() } catch { $_.FullyQualifiedErrorId }
                    }
                })
            try {
                $outcomes = @($jobs | ForEach-Object { Wait-SecondPowerShell $_ -TimeoutSec 20 })
            } finally {
                $jobs | Remove-SecondPowerShell
            }
            @($outcomes | Where-Object { $_ -eq 'Listening' }).Count | Should -Be 1 -Because "the outcomes were: $($outcomes -join ', ')"
            @($outcomes | Where-Object { $_ -eq 'AddressInUse,SocketCmdlets.Commands.StartSocketListenCommand' }).Count | Should -Be 1
            Test-Path -LiteralPath $path | Should -BeTrue -Because 'the winner still listens there'
        }

        It 'leaves no socket open after a failed Start-SocketListen -Path' {
            Set-Content -LiteralPath $path -Value 'not a socket' -NoNewline
            $before = @(Get-Socket).Count
            { Start-SocketListen -Path $path -ErrorAction Stop } |
                Should -Throw -ErrorId 'AddressInUse,SocketCmdlets.Commands.StartSocketListenCommand'
            @(Get-Socket).Count | Should -Be $before
        }
    }

    Context 'Busy servers' {
        It 'waits for room in a full backlog until -TimeoutSec, then reports ConnectTimeout' {
            $server = Start-SocketListen -Path $path -Backlog 1
            $fillers = Add-UnixFillers -Path $path
            try {
                $before = @(Get-Socket).Count
                $err = { Connect-Socket -Path $path -TimeoutSec 1 -ErrorAction Stop } |
                    Should -Throw -ErrorId 'ConnectTimeout,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
                "$err" | Should -Match 'backlog'
                @(Get-Socket).Count | Should -Be $before
            } finally {
                $fillers | ForEach-Object Dispose
            }
        }

        It 'connects once the busy server makes room, and says on the verbose stream that it waits' {
            $server = Start-SocketListen -Path $path -Backlog 1
            $fillers = Add-UnixFillers -Path $path
            try {
                $job = Start-SecondPowerShell -ArgumentList $path { param($p) Connect-Socket -Path $p -TimeoutSec 30 -Verbose }
                try {
                    Wait-Until -TimeoutSec 10 { @($job.PowerShell.Streams.Verbose | Where-Object Message -match 'full backlog').Count -gt 0 }
                    $accepted = @(for ($i = 0; $i -lt 20 -and $server.Socket.Poll(0, [System.Net.Sockets.SelectMode]::SelectRead); $i++) {
                        $server | Receive-SocketConnection -TimeoutSec 5
                    })
                    $accepted.Count | Should -BeGreaterThan 0
                    $client = @(Wait-SecondPowerShell $job -TimeoutSec 20)
                    $client.Count | Should -Be 1
                    $client[0].State | Should -Be 'Connected'
                    $client[0].RemotePath | Should -Be $path
                } finally {
                    Remove-SecondPowerShell $job
                }
            } finally {
                $fillers | ForEach-Object Dispose
            }
        }

        It 'ends a connect waiting on a full backlog on Ctrl+C with no error and leaves no socket behind' {
            $server = Start-SocketListen -Path $path -Backlog 1
            $fillers = Add-UnixFillers -Path $path
            try {
                $job = Start-SecondPowerShell -ArgumentList $path { param($p) Connect-Socket -Path $p -Name busy-stopped -Verbose }
                try {
                    Wait-Until -TimeoutSec 10 { @($job.PowerShell.Streams.Verbose | Where-Object Message -match 'full backlog').Count -gt 0 }
                    Stop-SecondPowerShell $job -TimeoutSec 10 | Should -BeTrue
                    $job.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
                    Get-StopError $job | Should -BeNullOrEmpty
                    Get-ErrorVariable $job | Should -BeNullOrEmpty
                } finally {
                    Remove-SecondPowerShell $job
                }
                @(Get-Socket | Where-Object Name -eq busy-stopped).Count | Should -Be 0
            } finally {
                $fillers | ForEach-Object Dispose
            }
        }

        It 'reports NotASocket for Connect-Socket -Path to a directory' {
            $null = New-Item -ItemType Directory -Path $path
            try {
                $err = { Connect-Socket -Path $path -TimeoutSec 5 -ErrorAction Stop } |
                    Should -Throw -ErrorId 'NotASocket,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
                "$err" | Should -Match 'directory'
            } finally {
                Remove-Item -LiteralPath $path -Recurse -Force -ErrorAction Ignore
            }
        }
    }

    Context 'Bad paths and wrong families' {
        It 'refuses a path longer than the platform allows (107 bytes on Linux) with PathTooLong' {
            $limit = if ($IsMacOS) { 103 } else { 107 }
            $long = Join-Path $Temp ("sc-$PID-" + ('x' * 110) + '.sock')
            $err = { Start-SocketListen -Path $long -ErrorAction Stop } |
                Should -Throw -ErrorId 'PathTooLong,SocketCmdlets.Commands.StartSocketListenCommand' -PassThru
            "$err" | Should -Match "$limit"
            Test-Path -LiteralPath $long | Should -BeFalse
        }

        It 'accepts a path of exactly 107 bytes' -Skip:(-not $IsLinux) {
            $prefix = Join-Path $Temp "sc-$PID-"
            $exact = $prefix + ('y' * (107 - [System.Text.Encoding]::UTF8.GetByteCount($prefix)))
            [System.Text.Encoding]::UTF8.GetByteCount($exact) | Should -Be 107
            try {
                (Start-SocketListen -Path $exact).State | Should -Be 'Listening'
            } finally {
                Get-Socket | Close-Socket
                Remove-Item -LiteralPath $exact -Force -ErrorAction Ignore
            }
        }

        It 'refuses a path in a folder that does not exist with FileNotFound' {
            $missing = Join-Path $Temp "sc-$PID-missing/x.sock"
            { Start-SocketListen -Path $missing -ErrorAction Stop } |
                Should -Throw -ErrorId 'FileNotFound,SocketCmdlets.Commands.StartSocketListenCommand'
        }

        It 'reports FileNotFound for Connect-Socket -Path to a file that does not exist, and leaves no socket open' {
            $before = @(Get-Socket).Count
            $err = { Connect-Socket -Path $path -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'FileNotFound,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
            "$err" | Should -Match ([regex]::Escape($path))
            @(Get-Socket).Count | Should -Be $before
        }

        It 'says "Check the path" once in the FileNotFound message of Connect-Socket -Path' {
            $err = { Connect-Socket -Path $path -TimeoutSec 5 -ErrorAction Stop } | Should -Throw -PassThru
            ([regex]::Matches("$err", 'Check the path')).Count | Should -Be 1
        }

        It 'reports ConnectionRefused for Connect-Socket -Path to a stale socket file' {
            New-StaleSocketFile -Path $path
            { Connect-Socket -Path $path -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionRefused,SocketCmdlets.Commands.ConnectSocketCommand'
        }

        It 'refuses Register-SocketBinding -Path on an IP socket with InvalidSocketState' {
            $ip = New-Socket
            { $ip | Register-SocketBinding -Path $path -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.RegisterSocketBindingCommand'
            $ip.State | Should -Be 'Created'
            Test-Path -LiteralPath $path | Should -BeFalse
        }

        It 'refuses Connect-Socket -Path on an IP socket with InvalidSocketState' {
            $server = Start-SocketListen -Path $path
            $ip = New-Socket
            { $ip | Connect-Socket -Path $path -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ConnectSocketCommand'
            $ip.State | Should -Be 'Created'
        }

        It 'refuses Register-SocketBinding -Port on a Unix socket with InvalidSocketState' {
            $unix = New-Socket -AddressFamily Unix
            { $unix | Register-SocketBinding -Port 0 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.RegisterSocketBindingCommand'
            $unix.State | Should -Be 'Created'
        }

        It 'refuses Connect-Socket -ComputerName -Port on a Unix socket with InvalidSocketState' {
            $unix = New-Socket -AddressFamily Unix
            { $unix | Connect-Socket -ComputerName 127.0.0.1 -Port 9 -TimeoutSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidSocketState,SocketCmdlets.Commands.ConnectSocketCommand'
        }

        It 'refuses a UDP Unix socket' {
            { New-Socket -Protocol Udp -AddressFamily Unix -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidArgument,SocketCmdlets.Commands.NewSocketCommand'
        }
    }
}

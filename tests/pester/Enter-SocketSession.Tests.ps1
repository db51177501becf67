# Enter-SocketSession: netcat in the console. The interactive tests run it in a real terminal: tmux (a private server,
# tmux -L <unique name>) runs a child pwsh with the staged module; send-keys types, capture-pane reads the screen. The
# peer is this test process, on loopback. Without tmux those tests are skipped, naming tmux.
BeforeDiscovery {
    $HasTmux = [bool](Get-Command tmux -CommandType Application -ErrorAction Ignore)
}

BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    $script:ErrorSuffix = ',SocketCmdlets.Commands.EnterSocketSessionCommand'
    $script:HasTmux = [bool](Get-Command tmux -CommandType Application -ErrorAction Ignore)
    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) "sc-session-$PID"
    $null = New-Item -ItemType Directory -Force -Path $Work

    function Invoke-Tmux {
        # One tmux command against this file's private server; fails the test when tmux fails.
        $out = & tmux -L $TmuxServer @args 2>&1
        if ($LASTEXITCODE -ne 0) { throw "tmux $($args -join ' ') failed: $out" }
        $out
    }

    function Get-Screen {
        # The pane's text, scroll-back included, wrapped lines joined.
        (Invoke-Tmux capture-pane -p -J -t main -S -2000) -join "`n"
    }

    function Send-Text([string] $Text) { Invoke-Tmux send-keys -t main -l -- $Text | Out-Null }

    function Send-Key([string] $Key) { Invoke-Tmux send-keys -t main $Key | Out-Null }

    function Wait-Screen {
        # Waits (bounded) until the screen matches a regular expression.
        param([Parameter(Mandatory, Position = 0)] [string] $Pattern, [double] $TimeoutSec = 30)
        Wait-Until -TimeoutSec $TimeoutSec -IntervalMs 100 -Because "the screen to match '$Pattern'. It shows:`n$(Get-Screen)" {
            (Get-Screen) -match $Pattern
        }
    }

    function Invoke-InTerminal {
        # Types a command line into the child pwsh and presses Enter.
        param([Parameter(Mandatory, Position = 0)] [string] $Command)
        Send-Text $Command
        Send-Key Enter
    }

    function Assert-ConsoleUsable {
        # Types a command at the prompt and waits for its output: the session has ended and the shell reads lines
        # again, with echo and line editing. The typed line holds the marker in two pieces, so only the output
        # matches.
        $marker = 'usable' + [guid]::NewGuid().ToString('n').Substring(0, 8)
        Invoke-InTerminal "'$($marker.Substring(0, 6))' + '$($marker.Substring(6))'"
        Wait-Screen "(?m)^$marker\s*$"
    }

    function Start-Session {
        # Listens on loopback, types Enter-SocketSession (with the given parameters) into the terminal and accepts
        # its connection; returns the listener and the peer once the session says it has started.
        param([string] $Parameters = '')
        $listener = Start-SocketListen -Port 0 -Address Loopback
        Invoke-InTerminal "`$Error.Clear(); Enter-SocketSession 127.0.0.1 $($listener.LocalEndPoint.Port) -Verbose $Parameters"
        $peer = $listener | Receive-SocketConnection -TimeoutSec 30
        $listener | Close-Socket
        Wait-Screen "VERBOSE: Session with 127\.0\.0\.1:$($listener.LocalEndPoint.Port)"
        $peer
    }

    if ($HasTmux) {
        $script:TmuxServer = "sc-session-$PID"
        $pwsh = Get-PwshCommand
        $cache = Join-Path $Work 'cache'
        $null = New-Item -ItemType Directory -Force -Path $cache
        $words = @($pwsh.FilePath) + $pwsh.Prefix + @('-NoProfile', '-NoLogo') | ForEach-Object { "'" + ($_ -replace "'", "'\''") + "'" }
        # A private server (-L) without any user configuration (-f /dev/null); the child pwsh gets its own start-up cache.
        $command = "cd '$Work' && exec env XDG_CACHE_HOME='$cache' " + ($words -join ' ')
        & tmux -L $TmuxServer -f /dev/null new-session -d -s main -x 120 -y 50 $command
        if ($LASTEXITCODE -ne 0) { throw 'tmux could not start its session.' }
        Wait-Screen 'PS .*>' -TimeoutSec 90
        Invoke-InTerminal ("function prompt { 'PS> ' }; Import-Module '$ModulePath'; " +
            "try { Set-PSReadLineOption -PredictionSource None } catch { }; 'ready' + '-to-test'")
        Wait-Screen '(?m)^ready-to-test' -TimeoutSec 60
    }
}

AfterAll {
    if ($HasTmux) {
        # Only the private server this file started, and its socket file, which kill-server leaves behind.
        $socketPath = & tmux -L $TmuxServer display-message -p '#{socket_path}' 2>$null
        & tmux -L $TmuxServer kill-server 2>$null
        if ($socketPath) { Remove-Item -LiteralPath $socketPath -Force -ErrorAction Ignore }
    }
    Get-Socket | Close-Socket
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

# Skipped when tmux (Debian package tmux) is not installed.
Describe 'Enter-SocketSession in a terminal (needs tmux)' -Tag 'EnterSocketSession' -Skip:(-not $HasTmux) {
    BeforeEach {
        $script:Peer = $null
    }

    AfterEach {
        if ($HasTmux) {
            # A session a failed test left open ends here, so the next test starts at a prompt: closing the peer ends
            # it; Ctrl+C only when no prompt comes back. (A Ctrl+C that lands while pwsh draws its prompt can leave
            # the host waiting for the terminal's cursor report, so it is not sent blindly.)
            if ($Peer) { $Peer | Close-Socket }
            try {
                Wait-Until -TimeoutSec 10 { (Get-Screen) -match '\nPS> \s*\z' }
            } catch {
                Send-Key C-c
            }
            Assert-ConsoleUsable
        }
    }

    It 'shows what the peer sends unprompted and sends each typed line with a newline' {
        $script:Peer = Start-Session
        "unprompted-$PID`n" | Send-SocketData -Socket $Peer
        Wait-Screen "(?m)^unprompted-$PID"
        Send-Text 'typed-line'
        Send-Key Enter
        $Peer | Receive-SocketData -ByteCount 11 -TimeoutSec 10 | Should -BeExactly "typed-line`n"
        "reply-to-typed`n" | Send-SocketData -Socket $Peer
        Wait-Screen '(?m)^reply-to-typed'
    }

    It 'shows replies while a line is being typed and keeps the typed text' {
        $script:Peer = Start-Session
        Send-Text 'half-typ'
        Wait-Screen '(?m)^half-typ'
        "arrived-while-typing`n" | Send-SocketData -Socket $Peer
        # The reply is shown, and the unfinished line is drawn again after it.
        Wait-Screen '(?m)^arrived-while-typing\s*\n(?:VERBOSE: Received.*\n)?half-typ\s*\z'
        Send-Text 'ed'
        Send-Key Enter
        $Peer | Receive-SocketData -Line -TimeoutSec 10 | Should -BeExactly 'half-typed'
    }

    It 'sends -NewLine after each line' {
        $script:Peer = Start-Session -Parameters '-NewLine "`r`n"'
        Send-Text 'crlf'
        Send-Key Enter
        $bytes = $Peer | Receive-SocketData -ByteCount 6 -TimeoutSec 10 -AsByteStream
        ($bytes -join ',') | Should -BeExactly '99,114,108,102,13,10'
    }

    It 'half-closes on Ctrl+D: the peer sees the end of the stream, and what it sends still shows' {
        $script:Peer = Start-Session
        Send-Text 'last-words'
        Send-Key C-d
        (@($Peer | Receive-SocketData -ToEnd -TimeoutSec 10) -join '') | Should -BeExactly 'last-words'
        Wait-Screen 'VERBOSE: Sending ended'
        "after-half-close`n" | Send-SocketData -Socket $Peer
        Wait-Screen '(?m)^after-half-close'
        $Peer | Close-Socket
        Wait-Screen 'VERBOSE: The peer closed the connection'
        Assert-ConsoleUsable
    }

    It 'ends when the peer closes, closes its connection, and leaves the console usable with no error' {
        $script:Peer = Start-Session
        "bye`n" | Send-SocketData -Socket $Peer
        $Peer | Close-Socket
        Wait-Screen 'VERBOSE: The peer closed the connection'
        Assert-ConsoleUsable
        Invoke-InTerminal "'errors=' + `$Error.Count + ';open=' + @(Get-Socket).Count"
        Wait-Screen '(?m)^errors=0;open=0'
    }

    It 'ends on Ctrl+C, closes the connection it opened, and writes no error' {
        $script:Peer = Start-Session
        Send-Text 'unsent'
        Send-Key C-c
        # The peer sees the close; 'unsent' was never sent (no Enter).
        (@($Peer | Receive-SocketData -ToEnd -TimeoutSec 10) -join '') | Should -BeExactly ''
        Assert-ConsoleUsable
        Invoke-InTerminal "'errors=' + `$Error.Count + ';open=' + @(Get-Socket).Count"
        Wait-Screen '(?m)^errors=0;open=0'
    }

    It 'shows received bytes as a hex dump with -Hex' {
        $script:Peer = Start-Session -Parameters '-Hex'
        $Peer | Send-SocketData -Data ([byte[]](0x00, 0x41, 0x42, 0xFF, 0x0A))
        Wait-Screen '(?m)^00000000   00 41 42 FF 0A {35}\.AB\.\.\s*$'
    }

    It 'writes both directions to -TranscriptPath with timestamps' {
        $transcript = Join-Path $Work "transcript-$([guid]::NewGuid().ToString('n')).log"
        $script:Peer = Start-Session -Parameters "-TranscriptPath '$transcript'"
        "from-peer`n" | Send-SocketData -Socket $Peer
        Wait-Screen '(?m)^from-peer'
        Send-Text 'from-user'
        Send-Key Enter
        $Peer | Receive-SocketData -Line -TimeoutSec 10 | Should -BeExactly 'from-user'
        $Peer | Close-Socket
        Wait-Screen 'VERBOSE: The peer closed the connection'
        Assert-ConsoleUsable
        $lines = @(Get-Content -LiteralPath $transcript)
        $stamp = '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d '
        $lines[0] | Should -Match ($stamp + '# session with 127\.0\.0\.1:\d+')
        $lines | Should -Contain ($lines | Where-Object { $_ -match ($stamp + '< from-peer$') } | Select-Object -First 1)
        @($lines | Where-Object { $_ -match ($stamp + '< from-peer$') }).Count | Should -Be 1
        @($lines | Where-Object { $_ -match ($stamp + '> from-user$') }).Count | Should -Be 1
        $lines[-1] | Should -Match ($stamp + '# session ended: the peer closed the connection$')
    }

    It 'waits for one client with -ListenPort, like nc -l' {
        $port = Get-FreePort
        Invoke-InTerminal "Enter-SocketSession -ListenPort $port -ListenAddress Loopback -TimeoutSec 60 -Verbose"
        Wait-Screen "VERBOSE: Waiting for a client on 127\.0\.0\.1:$port"
        $script:Peer = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
        "to-listener`n" | Send-SocketData -Socket $Peer
        Wait-Screen '(?m)^to-listener'
        Send-Text 'from-listener'
        Send-Key Enter
        $Peer | Receive-SocketData -Line -TimeoutSec 10 | Should -BeExactly 'from-listener'
        # The listener was closed once the client came.
        Test-Listening $port | Should -BeFalse
    }

    It 'ends a wait for a client on Ctrl+C' {
        $port = Get-FreePort
        Invoke-InTerminal "`$Error.Clear(); Enter-SocketSession -ListenPort $port -ListenAddress Loopback -Verbose"
        Wait-Screen "VERBOSE: Waiting for a client on 127\.0\.0\.1:$port"
        Send-Key C-c
        Assert-ConsoleUsable
        Test-Listening $port | Should -BeFalse
        Invoke-InTerminal "'errors=' + `$Error.Count"
        Wait-Screen '(?m)^errors=0'
    }

    It 'leaves a socket given with -Socket open' {
        $listener = Start-SocketListen -Port 0 -Address Loopback
        Invoke-InTerminal ("`$c = Connect-Socket 127.0.0.1 $($listener.LocalEndPoint.Port); `$c | Enter-SocketSession; " +
            "'state=' + `$c.State + ';end=' + `$c.EndOfStream; `$c | Close-Socket")
        $script:Peer = $listener | Receive-SocketConnection -TimeoutSec 30
        $listener | Close-Socket
        "for-socket`n" | Send-SocketData -Socket $Peer
        Wait-Screen '(?m)^for-socket'
        $Peer | Close-Socket
        Wait-Screen '(?m)^state=Connected;end=True'
    }

    It 'ends with ConnectionReset when the peer resets, on a socket given by -Id' {
        $listener = Start-SocketListen -Port 0 -Address Loopback
        Invoke-InTerminal ("`$Error.Clear(); `$c = Connect-Socket 127.0.0.1 $($listener.LocalEndPoint.Port); Enter-SocketSession -Id `$c.Id -Verbose; " +
            "'reset=' + `$Error[0].FullyQualifiedErrorId + ';state=' + `$c.State; `$c | Close-Socket")
        $script:Peer = $listener | Receive-SocketConnection -TimeoutSec 30
        $listener | Close-Socket
        Wait-Screen 'VERBOSE: Session with'
        $Peer.Socket.LingerState = [System.Net.Sockets.LingerOption]::new($true, 0)
        $Peer | Close-Socket
        Wait-Screen "(?m)^reset=ConnectionReset$([regex]::Escape($ErrorSuffix));state=Connected"
    }

    It 'shares its socket with a thread job that sends at the same time, without mixing lines' {
        $listener = Start-SocketListen -Port 0 -Address Loopback
        Invoke-InTerminal ("`$c = Connect-Socket 127.0.0.1 $($listener.LocalEndPoint.Port); " +
            "`$j = Start-ThreadJob { Import-Module '$ModulePath'; 1..200 | ForEach-Object { ('job-line-' + `$_ + '-' + ('x' * 200)) | Send-SocketData -Socket `$using:c -AppendNewLine } }; " +
            "`$c | Enter-SocketSession; `$j | Wait-Job -Timeout 30 | Remove-Job; `$c | Close-Socket")
        $script:Peer = $listener | Receive-SocketConnection -TimeoutSec 30
        $listener | Close-Socket
        foreach ($i in 1..5) {
            Send-Text "typed-line-$i"
            Send-Key Enter
        }
        $lines = [System.Collections.Generic.List[string]]::new()
        Wait-Until -TimeoutSec 30 -Because 'all 205 lines to arrive' {
            $lines.AddRange([string[]] @($Peer | Receive-SocketData -Line -Count 205 -TimeoutSec 30 | Select-Object -First (205 - $lines.Count)))
            $lines.Count -ge 205
        }
        $lines | Where-Object { $_ -notmatch '^(job-line-\d+-x{200}|typed-line-\d)$' } | Should -BeNullOrEmpty
        @($lines | Where-Object { $_ -like 'typed-line-*' }) | Should -Be @(1..5 | ForEach-Object { "typed-line-$_" })
        $Peer | Close-Socket
        Wait-Screen '(?m)^PS> $'
    }

    It 'ends on Ctrl+C while a send waits for a peer that does not read' {
        $listener = New-Socket -ReceiveBufferSize 4096 | Register-SocketBinding -Address Loopback -Port 0 | Start-SocketListen
        Invoke-InTerminal ("`$Error.Clear(); `$c = New-Socket -SendBufferSize 4096 | Connect-Socket 127.0.0.1 $($listener.LocalEndPoint.Port); " +
            "`$c | Enter-SocketSession -Verbose")
        $script:Peer = $listener | Receive-SocketConnection -TimeoutSec 30
        $port = $listener.LocalEndPoint.Port
        $listener | Close-Socket
        Wait-Screen 'VERBOSE: Session with'
        # The peer never reads. Lines are typed one at a time until one is not sent: the session then waits in a
        # send. (One at a time, so the terminal's input queue never fills and Ctrl+C reaches pwsh at once.)
        $blocked = $false
        foreach ($i in 1..60) {
            Send-Text ("$i-" + ('y' * 1500))
            Send-Key Enter
            try {
                Wait-Until -TimeoutSec 3 { ([regex]::Matches((Get-Screen), "VERBOSE: Sent \d+ bytes to 127\.0\.0\.1:$port")).Count -ge $i }
            } catch {
                $blocked = $true
                break
            }
        }
        $blocked | Should -BeTrue -Because 'a peer that does not read must make a send wait'
        Send-Key C-c
        Assert-ConsoleUsable
        # Ctrl+C stops the whole command line; the socket it was given stays open.
        Invoke-InTerminal "'state=' + `$c.State + ';errors=' + `$Error.Count; `$c | Close-Socket"
        Wait-Screen '(?m)^state=Connected;errors=0'
    }

    It 'runs help example <Number> as written' -ForEach @(
        @{ Number = 1; Type = 'hello'; Expect = '(?m)^HELLO\s*$' }
        @{ Number = 2; Type = $null; Expect = '(?m)^00000000   48 54 54 50 2F 31 2E 30 20 32 30 30 20 4F 4B 0D  HTTP/1\.0 200 OK\.\s*$' }
    ) {
        $code = [string] @((Get-Help Enter-SocketSession -Examples).examples.example)[$Number - 1].code
        $file = Join-Path $Work "example-$Number.ps1"
        Set-Content -LiteralPath $file -Value ($code + "`n'example-' + 'done'")
        Invoke-InTerminal ". '$file'"
        if ($Type) {
            Wait-Screen 'Type a line'
            Send-Text $Type
            Send-Key Enter
            Wait-Screen $Expect
            Send-Key C-d
        } else {
            Wait-Screen $Expect
        }
        Wait-Screen '(?m)^example-done'
    }

    It 'refuses a socket that is not connected with InvalidSocketState' {
        Invoke-InTerminal "try { New-Socket | Enter-SocketSession -ErrorAction Stop } catch { 'id=' + `$_.FullyQualifiedErrorId }; Get-Socket | Close-Socket"
        Wait-Screen "(?m)^id=InvalidSocketState$([regex]::Escape($ErrorSuffix))"
    }
}

Describe 'Enter-SocketSession without a console' -Tag 'EnterSocketSession' {
    It 'fails with NoConsole at once in a runspace, before any connection' {
        $listener = Start-SocketListen -Port 0 -Address Loopback
        try {
            $ps = [powershell]::Create()
            $null = $ps.AddScript('Import-Module $args[0]; Enter-SocketSession -ComputerName 127.0.0.1 -Port $args[1]').
                AddArgument($ModulePath).AddArgument($listener.LocalEndPoint.Port)
            $handle = $ps.BeginInvoke()
            $handle.AsyncWaitHandle.WaitOne(30000) | Should -BeTrue
            $null = $ps.EndInvoke($handle)
            @($ps.Streams.Error | ForEach-Object FullyQualifiedErrorId) | Should -Be @("NoConsole$ErrorSuffix")
            $ps.Streams.Error[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            # No connection was made.
            $listener.Socket.Poll(200000, [System.Net.Sockets.SelectMode]::SelectRead) | Should -BeFalse
        } finally {
            $ps.Dispose()
            $listener | Close-Socket
        }
    }

    It 'fails with NoConsole in a thread job' {
        $job = Start-ThreadJob { Import-Module $using:ModulePath; Enter-SocketSession -ListenPort 0 -ListenAddress Loopback }
        try {
            $job | Wait-Job -Timeout 30 | Should -Not -BeNullOrEmpty
            $null = $job | Receive-Job -ErrorVariable jobErrors -ErrorAction SilentlyContinue
            @($jobErrors | ForEach-Object FullyQualifiedErrorId) | Should -Be @("NoConsole$ErrorSuffix")
        } finally {
            $job | Remove-Job -Force
        }
    }

    It 'rejects bad arguments before anything else' {
        { Enter-SocketSession -ComputerName 127.0.0.1 -Port 70000 -ErrorAction Stop } |
            Should -Throw -ErrorId "ParameterArgumentValidationError$ErrorSuffix"
        { Enter-SocketSession -ComputerName '' -Port 1 -ErrorAction Stop } |
            Should -Throw -ErrorId "ParameterArgumentValidationError$ErrorSuffix"
        { Enter-SocketSession -ListenPort -1 -ErrorAction Stop } |
            Should -Throw -ErrorId "ParameterArgumentValidationError$ErrorSuffix"
        { Enter-SocketSession -ComputerName 127.0.0.1 -Port 1 -SkipCertificateCheck -ErrorAction Stop } |
            Should -Throw -ErrorId "ConflictingParameters$ErrorSuffix"
        { Enter-SocketSession -ComputerName 127.0.0.1 -Port 1 -Encoding 'no-such-encoding' -ErrorAction Stop } |
            Should -Throw -ErrorId "ParameterArgumentTransformationError$ErrorSuffix"
    }
}

BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Stress.Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Churn: connect, accept and close, again and again' -Tag 'Stress', 'Churn' {
    BeforeAll {
        $cycles = Select-StressSize -Full 10000 -Quick 1000
        $warmUp = 200
        # Tolerances, once the run is over and garbage is collected:
        # - handles: each cycle releases its two sockets synchronously in Close-Socket, and the warm-up has made the
        #   runtime's one-off descriptors (the socket engine's epoll and wake-up descriptors, the thread pool's).
        #   The count should come back exactly; 4 leaves room for a descriptor the runtime or Pester opens for its
        #   own reasons meanwhile. A leak of one descriptor per cycle, or even per hundred cycles, is far above it.
        # - threads: the thread pool adds workers under load and retires them only after they idle (about 20 s),
        #   so a few more than at the start may still be alive; the wait below gives them time to go. 6 is well
        #   under one thread per hundred cycles.
        $handleTolerance = 4
        $threadTolerance = 6

        function Invoke-Cycle {
            param($Listener, [int] $Port, [int] $Index)
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $Port -TimeoutSec 10 -ErrorAction Stop
            $peer = $Listener | Receive-SocketConnection -TimeoutSec 10 -ErrorAction Stop
            # Alternate who closes first, so TIME_WAIT lands on both sides and both close paths are churned.
            if ($Index % 2) { $client, $peer | Close-Socket } else { $peer, $client | Close-Socket }
        }
    }

    AfterEach {
        Get-Socket | Close-Socket
    }

    It 'returns to the handles and threads it started with and leaves no socket open' {
        $listener = Start-SocketListen -Port 0 -Address 127.0.0.1 -Name 'churn'
        $port = $listener.LocalEndPoint.Port
        for ($i = 0; $i -lt $warmUp; $i++) { Invoke-Cycle $listener $port $i }
        Invoke-FullGC
        $before = Get-ResourceCount

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        for ($i = 0; $i -lt $cycles; $i++) { Invoke-Cycle $listener $port $i }
        $clock.Stop()

        # Nothing of the cycles is left in the registry: only the listener.
        @(Get-Socket).Id | Should -Be @($listener.Id)
        @(Get-Socket | Where-Object Id -GT $listener.Id) | Should -HaveCount 0

        # Bounded wait for the runtime to settle (finalizers, idle pool threads), then the figures.
        $settle = [System.Diagnostics.Stopwatch]::StartNew()
        $after = $null
        while ($true) {
            Invoke-FullGC
            $after = Get-ResourceCount
            $settled = ($after.Handles - $before.Handles) -le $handleTolerance -and ($after.Threads - $before.Threads) -le $threadTolerance
            if ($settled -or $settle.Elapsed.TotalSeconds -ge 45) { break }
            Start-Sleep -Milliseconds 500
        }

        Write-StressFigure 'churn' 'cycles' $cycles
        Write-StressFigure 'churn' 'cycles/s' ($cycles / $clock.Elapsed.TotalSeconds)
        Write-StressFigure 'churn' 'handles before -> after' "$($before.Handles) -> $($after.Handles)"
        Write-StressFigure 'churn' 'threads before -> after' "$($before.Threads) -> $($after.Threads)"

        ($after.Handles - $before.Handles) | Should -BeLessOrEqual $handleTolerance -Because "handles went from $($before.Handles) to $($after.Handles) over $cycles cycles"
        ($after.Threads - $before.Threads) | Should -BeLessOrEqual $threadTolerance -Because "threads went from $($before.Threads) to $($after.Threads) over $cycles cycles"

        $listener | Close-Socket
        Assert-NoSocketLeft -Socket $listener
    }

    It 'leaves nothing behind after refused connects, with a new socket each time or one socket reused' {
        $failures = Select-StressSize -Full 5000 -Quick 500
        $probe = New-Socket | Register-SocketBinding -Address 127.0.0.1 -Port 0
        $closedPort = $probe.LocalEndPoint.Port
        $probe | Close-Socket
        $reused = New-Socket -AddressFamily InterNetwork -Name 'reused'
        $refuse = {
            param($Socket)
            try {
                if ($Socket) { $Socket | Connect-Socket -ComputerName 127.0.0.1 -Port $closedPort -TimeoutSec 10 -ErrorAction Stop }
                else { Connect-Socket -ComputerName 127.0.0.1 -Port $closedPort -TimeoutSec 10 -ErrorAction Stop }
                throw 'the connect was expected to be refused'
            } catch {
                if ($_.FullyQualifiedErrorId -notlike 'ConnectionRefused,*') { throw }
            }
        }
        for ($i = 0; $i -lt 50; $i++) { & $refuse $null; & $refuse $reused }
        Invoke-FullGC
        $before = Get-ResourceCount

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        for ($i = 0; $i -lt $failures; $i++) { & $refuse $null; & $refuse $reused }
        $clock.Stop()

        # Only the reused socket is open, and it can still connect once there is a server.
        @(Get-Socket).Id | Should -Be @($reused.Id)
        $reused.State | Should -Be 'Created'
        $settle = [System.Diagnostics.Stopwatch]::StartNew()
        while ($true) {
            Invoke-FullGC
            $after = Get-ResourceCount
            if ((($after.Handles - $before.Handles) -le $handleTolerance -and ($after.Threads - $before.Threads) -le $threadTolerance) -or $settle.Elapsed.TotalSeconds -ge 45) { break }
            Start-Sleep -Milliseconds 500
        }
        Write-StressFigure 'churn' 'refused connects (new socket + reused socket)' "$failures + $failures"
        Write-StressFigure 'churn' 'refused connects/s' ((2 * $failures) / $clock.Elapsed.TotalSeconds)
        Write-StressFigure 'churn' 'handles before -> after refused connects' "$($before.Handles) -> $($after.Handles)"
        ($after.Handles - $before.Handles) | Should -BeLessOrEqual $handleTolerance -Because "handles went from $($before.Handles) to $($after.Handles)"
        ($after.Threads - $before.Threads) | Should -BeLessOrEqual $threadTolerance -Because "threads went from $($before.Threads) to $($after.Threads)"

        $listener = Start-SocketListen -Port 0 -Address 127.0.0.1
        $reused | Connect-Socket -ComputerName 127.0.0.1 -Port $listener.LocalEndPoint.Port -TimeoutSec 10 -ErrorAction Stop | Out-Null
        $reused.State | Should -Be 'Connected'
        $reused, $listener | Close-Socket
        Get-Socket | Close-Socket
        Assert-NoSocketLeft -Socket $reused, $listener
    }
}

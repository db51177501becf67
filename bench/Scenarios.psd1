# The benchmark scenarios, declared once. bench/Invoke-Benchmark.ps1 runs them in this order (each scenario's function
# is Measure-<Name>, defined in Script, which the runner dot-sources unless it is the runner itself); build.ps1's
# -Scenario completes and checks names against it; tests/pester/Bench.Tests.ps1 expects every row. A new scenario is
# one entry here and its Measure-<Name> function.
#   Name    the scenario, as -Scenario takes it
#   Script  the file under bench/ that defines Measure-<Name>
#   Rows    Id and Title of every row of the table it adds (Add-Row -Id <Id> -Scenario <Title>)
@{
    Scenarios = @(
        @{
            Name = 'BulkSocket'; Script = 'Invoke-Benchmark.ps1'
            Rows = @(
                @{ Id = 'bulk-socket-iperf3'; Title = 'Bulk socket path vs iperf3' }
                @{ Id = 'bulk-socket-raw'; Title = 'Bulk socket path vs raw .NET' }
            )
        }
        @{
            Name = 'BulkFile'; Script = 'Invoke-Benchmark.ps1'
            Rows = @(
                @{ Id = 'bulk-file'; Title = 'Bulk file path vs raw .NET' }
            )
        }
        @{
            Name = 'RoundTrip'; Script = 'Invoke-Benchmark.ps1'
            Rows = @(
                @{ Id = 'round-trip'; Title = 'Round trip, 64 B: Invoke-SocketRequest' }
                @{ Id = 'round-trip-two-calls'; Title = 'Round trip, 64 B: Send- + Receive-SocketData per exchange' }
            )
        }
        @{
            Name = 'Churn'; Script = 'Invoke-Benchmark.ps1'
            Rows = @(
                @{ Id = 'churn'; Title = 'Connection churn: pipelines of 250' }
                @{ Id = 'churn-loop'; Title = 'Connection churn: four cmdlet calls per cycle' }
            )
        }
        @{
            Name = 'Lines'; Script = 'Invoke-Benchmark.ps1'
            Rows = @(
                @{ Id = 'lines-send'; Title = 'Lines, send side' }
                @{ Id = 'lines-receive'; Title = 'Lines, receive side: -Line -ToEnd -ReadCount 0' }
                @{ Id = 'lines-receive-per-line'; Title = 'Lines, receive side: -Line -ToEnd, one object per line' }
            )
        }
        @{
            Name = 'Memory'; Script = 'Invoke-Benchmark.ps1'
            Rows = @(
                @{ Id = 'memory-outfile'; Title = 'Memory: peak WS growth, -OutFile' }
                @{ Id = 'memory-idle-accepted'; Title = 'Memory: idle connection, accepted end' }
                @{ Id = 'memory-idle-connected'; Title = 'Memory: idle connection, connected end' }
            )
        }
        @{
            Name = 'Import'; Script = 'Invoke-Benchmark.ps1'
            Rows = @(
                @{ Id = 'import'; Title = 'Import-Module time' }
                @{ Id = 'import-tool'; Title = 'Import-Module time, .NET tool package (not precompiled)' }
            )
        }
        @{
            Name = 'Server'; Script = 'Measure-Server.ps1'
            Rows = @(
                @{ Id = 'server-vs-parallel'; Title = 'Server: echo connections, Start-SocketServer' }
                @{ Id = 'server-vs-raw'; Title = 'Server: echo connections, vs a raw accept loop' }
                @{ Id = 'server-idle-memory'; Title = 'Server: memory per idle connection (with its client)' }
            )
        }
        @{
            Name = 'Probe'; Script = 'Measure-Probe.ps1'
            Rows = @(
                @{ Id = 'probe-scan'; Title = 'Port scan of 127.0.0.1: Test-SocketConnection vs nmap -sT' }
                @{ Id = 'probe-dropped'; Title = 'Dropped SYNs: probes at -TimeoutSec 0.5 vs (probes / throttle) x timeout' }
            )
        }
        @{
            Name = 'Relay'; Script = 'Measure-Relay.ps1'
            Rows = @(
                @{ Id = 'relay-bulk'; Title = 'Relay: 1 GiB through Start-SocketRelay vs socat' }
                @{ Id = 'join-bulk'; Title = 'Relay: 1 GiB through Join-Socket vs socat' }
                @{ Id = 'relay-ceiling'; Title = 'Relay: Start-SocketRelay vs no forwarder (the ceiling)' }
                @{ Id = 'relay-latency'; Title = 'Relay: 64-byte round trip through Start-SocketRelay vs socat' }
                @{ Id = 'relay-memory'; Title = 'Relay: managed memory per connection (200 held), vs its two buffers' }
            )
        }
    )
}

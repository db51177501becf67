BeforeDiscovery {
    # Every row of the benchmark table (bench/Invoke-Benchmark.ps1).
    $script:BenchRows = @(
        'Bulk socket path vs iperf3'
        'Bulk socket path vs raw .NET'
        'Bulk file path vs raw .NET'
        'Round trip, 64 B: Invoke-SocketRequest'
        'Round trip, 64 B: Send- + Receive-SocketData per exchange'
        'Connection churn: pipelines of 250'
        'Connection churn: four cmdlet calls per cycle'
        'Lines, send side'
        'Lines, receive side: -Line -ToEnd -ReadCount 0'
        'Lines, receive side: -Line -ToEnd, one object per line'
        'Memory: peak WS growth, -OutFile'
        'Memory: idle connection, accepted end'
        'Memory: idle connection, connected end'
        'Import-Module time'
        'Port scan of 127.0.0.1: Test-SocketConnection vs nmap -sT'
        'Dropped SYNs: probes at -TimeoutSec 0.5 vs (probes / throttle) x timeout'
        'Server: echo connections, Start-SocketServer'
        'Server: echo connections, vs a raw accept loop'
        'Server: memory per idle connection (with its client)'
        'Relay: 1 GiB through Start-SocketRelay vs socat'
        'Relay: 1 GiB through Join-Socket vs socat'
        'Relay: Start-SocketRelay vs no forwarder (the ceiling)'
        'Relay: 64-byte round trip through Start-SocketRelay vs socat'
        'Relay: managed memory per connection (200 held), vs its two buffers'
    ) | ForEach-Object { @{ Row = $_ } }
}

BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
}

# The quick mode of the benchmark suite runs to the end and prints its table. No figure and no duration is asserted:
# the timeout only bounds a hang.
Describe 'Benchmark suite, quick mode' -Tag 'Bench' {
    BeforeAll {
        $script:BenchOut = Join-Path ([System.IO.Path]::GetTempPath()) "socketcmdlets-bench-test-$PID-$([guid]::NewGuid().ToString('N'))"
        $null = New-Item -ItemType Directory -Path $BenchOut
        $timeoutSec = 600

        # A child pwsh like this one, with its own start-up cache (concurrent pwsh processes must not share one).
        $exe = [Environment]::ProcessPath
        $psi = [System.Diagnostics.ProcessStartInfo]::new($exe)
        if ([System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        $script = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '../../bench/Invoke-Benchmark.ps1')).ProviderPath
        foreach ($a in '-NoProfile', '-NonInteractive', '-File', $script, '-Quick', '-ModulePath', $ModulePath, '-OutDir', $BenchOut) { $psi.ArgumentList.Add($a) }
        $psi.Environment['XDG_CACHE_HOME'] = Join-Path $BenchOut 'cache/suite'
        $psi.UseShellExecute = $false
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $process = [System.Diagnostics.Process]::Start($psi)
        try {
            $stdout = $process.StandardOutput.ReadToEndAsync()
            $stderr = $process.StandardError.ReadToEndAsync()
            $script:TimedOut = -not $process.WaitForExit($timeoutSec * 1000)
            if ($TimedOut) {
                # Only the process started here (and its children, such as iperf3) is stopped.
                $process.Kill($true)
                $null = $process.WaitForExit(10000)
            } else {
                $process.WaitForExit()
            }
            $script:ExitCode = if ($TimedOut) { -1 } else { $process.ExitCode }
            $script:Output = $stdout.Result + "`n" + $stderr.Result
        } finally {
            $process.Dispose()
        }

        # The table rows: | Scenario | Module | Baseline | Ratio | Target | Met | Noise |
        $script:TableRows = @{}
        foreach ($line in $Output -split "`r?`n") {
            $cells = @($line -split '\|' | ForEach-Object Trim)
            if ($line.StartsWith('|') -and $cells.Count -ge 8 -and $cells[1] -ne 'Scenario' -and $cells[1] -notmatch '^-+$') {
                $TableRows[$cells[1]] = [pscustomobject]@{ Module = $cells[2]; Baseline = $cells[3]; Ratio = $cells[4]; Met = $cells[6] }
            }
        }
    }

    AfterAll {
        if (Test-Path -LiteralPath $BenchOut) { Remove-Item -LiteralPath $BenchOut -Recurse -Force -ErrorAction SilentlyContinue }
    }

    It 'completes (exit code 0) within the hang bound' {
        $TimedOut | Should -BeFalse -Because 'the quick mode must not hang'
        $ExitCode | Should -Be 0 -Because "every scenario must run. Output:`n$Output"
    }

    It 'prints the row <Row> with a numeric ratio' -ForEach $BenchRows {
        $TableRows.ContainsKey($Row) | Should -BeTrue -Because "the table must have the row. Output:`n$Output"
        $ratio = 0.0
        [double]::TryParse($TableRows[$Row].Ratio, [System.Globalization.NumberStyles]::Float, [System.Globalization.CultureInfo]::InvariantCulture, [ref] $ratio) |
            Should -BeTrue -Because "the ratio of '$Row' is '$($TableRows[$Row].Ratio)'"
        [double]::IsNaN($ratio) -or [double]::IsInfinity($ratio) | Should -BeFalse
        $TableRows[$Row].Met | Should -BeIn @('met', 'NOT MET', 'info')
    }

    It 'writes the row <Row> to results.md and results.json' -ForEach $BenchRows {
        $markdown = Get-Content -Raw -LiteralPath (Join-Path $BenchOut 'results.md')
        $markdown | Should -Match ([regex]::Escape("| $Row |"))
        $json = Get-Content -Raw -LiteralPath (Join-Path $BenchOut 'results.json') | ConvertFrom-Json
        $entry = @($json.Rows | Where-Object Scenario -EQ $Row)
        $entry.Count | Should -Be 1
        $entry[0].Ratio | Should -Not -BeNullOrEmpty
        ($entry[0].Ratio -is [double] -or $entry[0].Ratio -is [long] -or $entry[0].Ratio -is [int]) | Should -BeTrue
    }
}

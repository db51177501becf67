BeforeDiscovery {
    # Every row of the benchmark table, as bench/Scenarios.psd1 declares them.
    $declared = Import-PowerShellDataFile (Join-Path $PSScriptRoot '../../bench/Scenarios.psd1')
    $script:BenchRows = @($declared.Scenarios.Rows | ForEach-Object { @{ Row = $_.Title } })
}

BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
}

Describe 'Benchmark scenario table' -Tag 'Bench' {
    BeforeAll {
        $script:Declared = @((Import-PowerShellDataFile (Join-Path $PSScriptRoot '../../bench/Scenarios.psd1')).Scenarios)
    }

    It 'declares each scenario once, with a script that defines its Measure- function and rows with unique ids' {
        $Declared.Count | Should -BeGreaterThan 0
        @($Declared.Name | Select-Object -Unique).Count | Should -Be $Declared.Count
        $ids = @($Declared.Rows.Id)
        @($ids | Select-Object -Unique).Count | Should -Be $ids.Count
        foreach ($scenario in $Declared) {
            $file = Join-Path $PSScriptRoot "../../bench/$($scenario.Script)"
            $file | Should -Exist
            $ast = [System.Management.Automation.Language.Parser]::ParseFile($file, [ref] $null, [ref] $null)
            $functions = @($ast.FindAll({ $args[0] -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $false).Name)
            $functions | Should -Contain "Measure-$($scenario.Name)" -Because "$($scenario.Script) must define the $($scenario.Name) scenario"
            @($scenario.Rows).Count | Should -BeGreaterThan 0
        }
    }
}

# The quick mode of the benchmark suite runs to the end and prints its table. No figure and no duration is asserted:
# the timeout only bounds a hang.
Describe 'Benchmark suite, quick mode' -Tag 'Bench' {
    BeforeAll {
        $script:BenchOut = Join-Path ([System.IO.Path]::GetTempPath()) "socketcmdlets-bench-test-$PID-$([guid]::NewGuid().ToString('N'))"
        $null = New-Item -ItemType Directory -Path $BenchOut
        $timeoutSec = 600

        # A child pwsh like this one, with its own start-up cache (tools/DevTools.psm1, imported by Common.ps1).
        $script = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '../../bench/Invoke-Benchmark.ps1')).ProviderPath
        $script:TimedOut = $false
        try {
            $run = Start-ChildPwsh -Wait -File $script -ArgumentList '-Quick', '-ModulePath', $ModulePath, '-OutDir', $BenchOut `
                -CacheHome (Join-Path $BenchOut 'cache/suite') -TimeoutSec $timeoutSec
            $script:ExitCode = $run.ExitCode
            $script:Output = ($run.Output -join "`n") + "`n" + $run.Errors
        } catch {
            # Only the process started here (and its children, such as iperf3) was stopped.
            $script:TimedOut = $true
            $script:ExitCode = -1
            $script:Output = "$_"
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

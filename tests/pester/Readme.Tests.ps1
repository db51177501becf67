# The README's PowerShell blocks and examples/Demo.ps1 run as written, against the staged module.
BeforeAll {
    Set-StrictMode -Version Latest
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH -Force
    $script:ModulePath = $env:SOCKETCMDLETS_MODULE_PATH
    $script:Root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    $readme = Get-Content -Raw (Join-Path $Root 'README.md')
    $script:Blocks = [regex]::Matches($readme, '(?s)```powershell\r?\n(.*?)```') | ForEach-Object { $_.Groups[1].Value }

    function Invoke-Isolated {
        # Runs a script in a new runspace of this process, with a bound on how long it may take.
        param([string] $Script, [int] $TimeoutSec = 60)
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Set-Location '$Root'; `$ErrorActionPreference = 'Stop'`n" + $Script)
            $handle = $ps.BeginInvoke()
            if (-not $handle.AsyncWaitHandle.WaitOne($TimeoutSec * 1000)) {
                $null = $ps.BeginStop($null, $null).AsyncWaitHandle.WaitOne(10000)
                throw "The script did not finish within $TimeoutSec s."
            }
            $output = $ps.EndInvoke($handle)
            [pscustomobject]@{
                Output = @($output | ForEach-Object { "$_" })
                Errors = @($ps.Streams.Error | ForEach-Object { "$_" })
            }
        } finally {
            $ps.Dispose()
        }
    }

    function Use-StagedModule([string] $Script) {
        $Script.Replace('./out/SocketCmdlets', $ModulePath)
    }
}

Describe 'README examples' -Tag 'Readme' {
    It 'has the quick start and the example blocks' {
        $Blocks.Count | Should -BeGreaterOrEqual 3
    }

    It 'runs the quick start as written and receives hello' {
        $result = Invoke-Isolated (Use-StagedModule $Blocks[0])
        $result.Errors | Should -BeNullOrEmpty
        $result.Output | Should -Be @('hello')
    }

    It 'runs the per-cmdlet examples and the file example in one session' {
        $script = (Use-StagedModule $Blocks[1]) + "`n" + (Use-StagedModule $Blocks[2]) + "`n'open:' + @(Get-Socket).Count"
        $result = Invoke-Isolated $script
        $result.Errors | Should -BeNullOrEmpty
        $result.Output | Should -Contain 'HELLO'
        $result.Output | Should -Contain 'WORLD'
        $result.Output | Should -Contain 'HI'
        $result.Output | Should -Contain '99990'
        ($result.Output | Where-Object { $_ -in 'a', 'b', 'c' }) | Should -Be @('a', 'b', 'c')
        $result.Output[-1] | Should -Be 'open:0'
    }
}

Describe 'examples/Demo.ps1' -Tag 'Readme' {
    It 'prints what each side said and leaves no socket open' {
        $demo = Join-Path $Root 'examples/Demo.ps1'
        $result = Invoke-Isolated "& '$demo' -ModulePath '$ModulePath' 6>&1"
        $result.Errors | Should -BeNullOrEmpty
        $text = $result.Output -join "`n"
        $text | Should -Match 'server received: hello, server'
        $text | Should -Match 'client received: HELLO BACK'
        $text | Should -Match 'server received to end of stream: one, two, three'
        $text | Should -Match 'open sockets left: 0'
    }
}

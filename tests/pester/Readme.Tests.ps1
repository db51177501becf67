# The README's PowerShell blocks and examples/Demo.ps1 run as written, against the staged module.
BeforeDiscovery {
    # Every PowerShell block of the README (```powershell or ```pwsh), named by its number and the heading above it.
    $readmeText = Get-Content -Raw (Join-Path $PSScriptRoot '../../README.md')
    $heading = ''
    $number = 0
    $AllBlocks = @(foreach ($m in [regex]::Matches($readmeText, '(?ms)^(#{2,3} [^\r\n]+)|^```(?:powershell|pwsh)\r?\n(.*?)^```')) {
            if ($m.Groups[1].Success) { $heading = $m.Groups[1].Value.TrimStart('#', ' '); continue }
            $number++
            @{ Number = $number; Heading = $heading; Text = $m.Groups[2].Value }
        })
}

BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
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
        $Blocks.Count | Should -Be 10
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

Describe 'README sections beyond TCP' -Tag 'Readme' {
    It 'runs the UDP block: a reply to a datagram and a default peer' {
        $result = Invoke-Isolated ("Import-Module '$ModulePath'`n" + $Blocks[3])
        $result.Errors | Should -BeNullOrEmpty
        $result.Output | Should -Contain 'pong'
        $result.Output | Should -Contain 'to the default peer'
    }

    It 'runs the Unix domain socket block' {
        $result = Invoke-Isolated ("Import-Module '$ModulePath'`n" + $Blocks[4])
        $result.Errors | Should -BeNullOrEmpty
        $result.Output | Should -Contain 'over a Unix socket'
    }

    It 'runs the socket options block and shows the options it set' {
        $result = Invoke-Isolated ("Import-Module '$ModulePath'`n" + $Blocks[5] + "`n'done'")
        $result.Errors | Should -BeNullOrEmpty
        $result.Output[-1] | Should -Be 'done'
    }

    It 'runs the conversation block: Invoke-SocketRequest against a line server' {
        $result = Invoke-Isolated ("Import-Module '$ModulePath'`n" + $Blocks[7] + "`n'open:' + @(Get-Socket).Count")
        $result.Errors | Should -BeNullOrEmpty
        $result.Output | Should -Be @('HELLO', 'WORLD', 'open:0')
    }

    It 'runs the TLS for test servers block: a trusted self-signed certificate, then CertificateErrors under -SkipCertificateCheck' {
        $block = @($Blocks | Where-Object { $_ -match 'New-SocketCertificate' })[0]
        $result = Invoke-Isolated ((Use-StagedModule $block) + "`n'open:' + @(Get-Socket).Count")
        $result.Errors | Should -BeNullOrEmpty
        $result.Output[0] | Should -Be 'hello over TLS'
        $result.Output[1] | Should -Be 'errors: 0'
        $result.Output[2] | Should -Match 'untrusted root'
        $result.Output[-1] | Should -Be 'open:0'
    }

    It 'runs the Wait-Socket block' {
        $result = Invoke-Isolated ("Import-Module '$ModulePath'`n" + $Blocks[6] + "`n'done:' + `$listener.State")
        $result.Errors | Should -BeNullOrEmpty
        $result.Output[-1] | Should -Be 'done:Closed'
    }
}

Describe 'README: Checking ports' -Tag 'Readme' {
    It 'runs the Test-SocketConnection block' {
        $block = @($Blocks | Where-Object { $_ -match 'Test-SocketConnection' })[0]
        $result = Invoke-Isolated ("Import-Module '$ModulePath'`n" + $block + "`n'open:' + @(Get-Socket).Count")
        $result.Errors | Should -BeNullOrEmpty
        $result.Output[0] | Should -Match '^127\.0\.0\.1:\d+ Open$'
        $result.Output[1] | Should -Be '127.0.0.1:1 Refused'
        $result.Output[2] | Should -Match '^localhost:\d+ Open$'
        $result.Output[3] | Should -Be 'localhost:1 Refused'
        $result.Output | Should -Contain 'attempt 3: Open'
        $result.Output | Should -Contain 'up'
        $result.Output | Should -Contain 'waited in vain: WaitTimeout,SocketCmdlets.Commands.TestSocketConnectionCommand'
        $result.Output[-1] | Should -Be 'open:0'
    }
}

Describe 'examples' -Tag 'Readme' {
    It 'serves several clients from one thread with Wait-Socket (examples/SelectServer.ps1)' {
        $script = Join-Path $Root 'examples/SelectServer.ps1'
        $result = Invoke-Isolated "& '$script' -Clients 4 -ModulePath '$ModulePath'"
        $result.Errors | Should -BeNullOrEmpty
        $result.Output | Should -Contain 'HELLO FROM CLIENT 4'
        $result.Output[-1] | Should -Be 'served 4 clients from one thread'
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

Describe 'README blocks run on their own' -Tag 'Readme' {
    BeforeAll {
        # The staged module's folder and Pester's go on the child's module path: a block without Import-Module runs as it
        # would for a user who installed the module, and the Pester example finds Pester.
        $script:ModuleFolder = Split-Path ((Resolve-Path -LiteralPath $ModulePath).ProviderPath.TrimEnd([char]'/', [char]'\'))
        # Pester's own folder is named after its package layout (tools), not Pester: a copy under a folder named Pester
        # is what PowerShell finds by name.
        $script:PesterFolder = Join-Path $TestDrive 'modules'
        Copy-Item -Recurse -LiteralPath (Get-Module Pester).ModuleBase -Destination (Join-Path $PesterFolder 'Pester')
        $script:Previous = @{}
    }

    It 'finds every block, the pwsh ones too' -TestCases @(@{ Total = $AllBlocks.Count; Empty = @($AllBlocks | Where-Object { -not $_.Text.Trim() }).Count }) {
        $Total | Should -BeGreaterThan $Blocks.Count -Because 'the pwsh blocks are counted too'
        $Empty | Should -Be 0
    }

    It 'runs block <Number> (<Heading>) in a new pwsh' -TestCases $AllBlocks {
        $first = ($Text -split '\r?\n')[0]
        $script:Previous[$Number] = $Text
        if ($first -match '^#\s*Needs the internet') {
            Set-ItResult -Skipped -Because "block $Number ($Heading) needs the internet, as its first line says"
            return
        }
        $script = $Text
        if ($first -match '^#\s*Continues the block above') {
            $Previous.ContainsKey($Number - 1) | Should -BeTrue -Because "block $Number continues block $($Number - 1)"
            $script = $Previous[$Number - 1] + "`n" + $Text
            # A block after this one may continue it: it gets the whole chain.
            $script:Previous[$Number] = $script
        }
        $file = Join-Path $TestDrive "readme-block-$Number.ps1"
        Set-Content -LiteralPath $file -Value (Use-StagedModule $script) -Encoding utf8NoBOM
        $separator = [System.IO.Path]::PathSeparator
        $result = Start-ChildPwsh -Wait -File $file -TimeoutSec 180 -Environment @{
            PSModulePath = "$ModuleFolder$separator$PesterFolder$separator$env:PSModulePath"
            NO_COLOR     = '1'
        }
        $errors = $result.Errors -replace '\e\[[0-9;]*[A-Za-z]'
        $because = "README block $Number ($Heading) runs on its own; it wrote: $(($result.Output -join ' | ') -replace '\e\[[0-9;]*[A-Za-z]') $errors"
        $errors.Trim() | Should -BeNullOrEmpty -Because $because
        $result.ExitCode | Should -Be 0 -Because $because
    }
}

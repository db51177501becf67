#requires -Version 5.1
# The help of the module: every cmdlet has written help (built from module/help/*.md into the MAML file) and the
# about topic is found. The staged module's path comes from SOCKETCMDLETS_MODULE_PATH.

BeforeDiscovery {
    if (-not $env:SOCKETCMDLETS_MODULE_PATH) { throw 'Set SOCKETCMDLETS_MODULE_PATH to the staged module (out/SocketCmdlets).' }
    # The cmdlet names are needed while Pester discovers the tests, to make one test per cmdlet.
    $module = Import-Module $env:SOCKETCMDLETS_MODULE_PATH -Force -PassThru -ErrorAction Stop
    $Cmdlets = @($module.ExportedCmdlets.Keys | Sort-Object | ForEach-Object { @{ Name = $_ } })
}

Describe 'Help' -Tag 'Help' {
    BeforeAll {
        Import-Module $env:SOCKETCMDLETS_MODULE_PATH -Force -ErrorAction Stop
        Set-StrictMode -Version Latest

        $CommonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters +
            [System.Management.Automation.PSCmdlet]::OptionalCommonParameters

        function Get-Property {
            # A property of a help object, or $null when the help has no such part (strict mode forbids a plain
            # access to a missing property).
            param($InputObject, [string] $Name)
            if ($null -eq $InputObject) { return $null }
            $property = $InputObject.PSObject.Properties[$Name]
            if ($null -eq $property) { return $null }
            return $property.Value
        }

        function Get-HelpText {
            # The text of a MAML description: its paragraphs joined.
            param($Description)
            return ((@($Description) | Where-Object { $null -ne $_ } | ForEach-Object { Get-Property $_ 'Text' }) -join "`n").Trim()
        }
    }

    It '<Name> has a synopsis of its own' -ForEach $Cmdlets {
        $synopsis = [string](Get-Property (Get-Help $Name) 'Synopsis')
        $synopsis.Trim() | Should -Not -BeNullOrEmpty
        # Without written help, PowerShell makes the synopsis from the syntax: "Name [-Parameter] <type> ...".
        $synopsis.Trim() | Should -Not -Match "^$([regex]::Escape($Name))(\s|$)"
    }

    It '<Name> has a description' -ForEach $Cmdlets {
        Get-HelpText (Get-Property (Get-Help $Name -Full) 'description') | Should -Not -BeNullOrEmpty
    }

    It '<Name> has at least two examples, each with code' -ForEach $Cmdlets {
        $examples = @(Get-Property (Get-Property (Get-Help $Name -Examples) 'examples') 'example')
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            [string](Get-Property $example 'code') | Should -Not -BeNullOrEmpty -Because "every example of $Name needs code"
        }
    }

    It '<Name> describes every parameter' -ForEach $Cmdlets {
        $help = @(Get-Property (Get-Property (Get-Help $Name -Full) 'parameters') 'parameter')
        $parameters = @((Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $CommonParameters })
        $parameters.Count | Should -BeGreaterThan 0
        foreach ($parameter in $parameters) {
            $entry = $help | Where-Object { (Get-Property $_ 'name') -eq $parameter }
            $entry | Should -Not -BeNullOrEmpty -Because "the help of $Name should list -$parameter"
            Get-HelpText (Get-Property $entry 'description') | Should -Not -BeNullOrEmpty -Because "-$parameter of $Name needs a description"
        }
    }

    It '<Name> lists no parameter it does not have' -ForEach $Cmdlets {
        $parameters = (Get-Command $Name).Parameters.Keys
        $listed = @(Get-Property (Get-Property (Get-Help $Name -Full) 'parameters') 'parameter' | ForEach-Object { Get-Property $_ 'name' })
        $listed | Where-Object { $_ -notin $parameters } | Should -BeNullOrEmpty
    }

    It 'has the about_SocketCmdlets topic' {
        $topic = Get-Help about_SocketCmdlets | Out-String
        $topic | Should -Match 'about_SocketCmdlets'
        $topic | Should -Match 'SHORT DESCRIPTION'
        $topic | Should -Match 'Receive-SocketConnection'
    }
}

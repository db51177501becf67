# The .nupkg that build.ps1 -Task Package makes installs from a local repository into a module path and imports by
# name, as a user who downloaded it would do.
BeforeAll {
    Set-StrictMode -Version Latest
    $script:Root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    $script:PackageDir = Join-Path $Root 'out/package'
    $script:Manifest = Import-PowerShellDataFile (Join-Path $Root 'module/SocketCmdlets.psd1')
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "socketcmdlets-package-$PID"
    $null = New-Item -ItemType Directory -Force -Path $Work
    . (Join-Path $PSScriptRoot 'Common.ps1')
}

AfterAll {
    Remove-Item -Recurse -Force $Work -ErrorAction SilentlyContinue
}

Describe 'The package' -Tag 'Package' {
    It 'exists with the manifest version in its name' {
        Join-Path $PackageDir "SocketCmdlets.$($Manifest.ModuleVersion).nupkg" | Should -Exist
    }

    It 'installs from a local repository into a module path and imports by name' {
        $modules = Join-Path $Work 'Modules'
        $script = @"
`$ErrorActionPreference = 'Stop'
`$null = New-Item -ItemType Directory -Force -Path '$modules'
Register-PSResourceRepository -Name SocketCmdletsLocal -Uri '$PackageDir' -Trusted
Save-PSResource -Name SocketCmdlets -Repository SocketCmdletsLocal -Path '$modules' -TrustRepository -Quiet
`$env:PSModulePath = '$modules' + [IO.Path]::PathSeparator + `$env:PSModulePath
Import-Module SocketCmdlets
`$m = Get-Module SocketCmdlets
'version=' + `$m.Version
'base=' + `$m.ModuleBase
'commands=' + (Get-Command -Module SocketCmdlets).Count
`$server = Start-SocketListen -Port 0 -Address Loopback
`$client = Connect-Socket 127.0.0.1 `$server.LocalEndPoint.Port -TimeoutSec 5
`$peer = `$server | Receive-SocketConnection -TimeoutSec 5
'installed' | Send-SocketData -Socket `$client
'received=' + (`$peer | Receive-SocketData -TimeoutSec 5)
`$client, `$peer, `$server | Close-Socket
"@
        $file = Join-Path $Work 'install.ps1'
        Set-Content -Path $file -Value $script
        # A private data folder: the repository registration must not touch the user's settings.
        # (.NET treats a data folder that does not exist as unset, so it is made first.)
        $data = New-Item -ItemType Directory -Force -Path (Join-Path $Work 'data')
        $result = Start-ChildPwsh -Wait -File $file -Environment @{ XDG_DATA_HOME = $data.FullName } -TimeoutSec 120
        $output = $result.Output
        $result.ExitCode | Should -Be 0 -Because $result.Errors
        $output | Should -Contain "version=$($Manifest.ModuleVersion)"
        $output | Should -Contain "commands=$($Manifest.CmdletsToExport.Count)"
        ($output | Where-Object { $_ -like 'base=*' }) | Should -BeLike "base=$modules*"
        $output | Should -Contain 'received=installed'
    }

    It 'carries the release notes of its version from CHANGELOG.md' {
        $staged = Import-PowerShellDataFile (Join-Path $Root 'out/SocketCmdlets/SocketCmdlets.psd1')
        # The notes are the CHANGELOG.md section of the manifest's version, whole.
        $changelog = Get-Content -Raw (Join-Path $Root 'CHANGELOG.md')
        $section = [regex]::Match($changelog, "(?ms)^## \[$([regex]::Escape($staged.ModuleVersion))\][^\n]*\n(.*?)(?=^## \[|\z)")
        $section.Success | Should -BeTrue -Because "CHANGELOG.md must have a section for $($staged.ModuleVersion)"
        $staged.PrivateData.PSData.ReleaseNotes | Should -Not -BeNullOrEmpty
        ($staged.PrivateData.PSData.ReleaseNotes -replace '\r', '') | Should -BeExactly ($section.Groups[1].Value.Trim() -replace '\r', '')
        $staged.PrivateData.PSData.ProjectUri | Should -Not -BeNullOrEmpty
        $staged.PrivateData.PSData.LicenseUri | Should -Not -BeNullOrEmpty
        $staged.CmdletsToExport | Should -Not -Contain '*'
    }
}

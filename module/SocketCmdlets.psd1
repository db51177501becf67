@{
    RootModule             = 'SocketCmdlets.dll'
    ModuleVersion          = '1.0.0'
    GUID                   = '5b0c7f0e-3d5a-4c1e-9a52-7d3f2c6e8a41'
    Author                 = 'SocketCmdlets developers'
    CompanyName            = 'SocketCmdlets'
    Copyright              = '(c) SocketCmdlets developers. All rights reserved.'
    Description            = 'The BSD socket life cycle as PowerShell cmdlets: socket, bind, listen, accept, connect, send, receive and close, each feeding the next on the pipeline.'
    PowerShellVersion      = '5.1'
    DotNetFrameworkVersion = '4.7.2'
    CompatiblePSEditions   = @('Desktop', 'Core')
    FormatsToProcess       = @('SocketCmdlets.format.ps1xml')
    CmdletsToExport        = @(
        'New-Socket'
        'Register-SocketBinding'
        'Start-SocketListen'
        'Receive-SocketConnection'
        'Connect-Socket'
        'Send-SocketData'
        'Receive-SocketData'
        'Close-Socket'
        'Get-Socket'
        'Wait-Socket'
        'Get-SocketOption'
        'Set-SocketOption'
        'Add-SocketMulticastGroup'
        'Remove-SocketMulticastGroup'
        'Protect-Socket'
        'Invoke-SocketRequest'
        'Start-SocketServer'
        'New-SocketCertificate'
        'Join-Socket'
        'Start-SocketRelay'
        'Test-SocketConnection'
        'Enter-SocketSession'
    )
    FunctionsToExport      = @()
    VariablesToExport      = @()
    # The [Alias] attributes of the cmdlets; the verb prefixes are PowerShell's (cc Connect, sd Send, rc Receive, cs Close).
    AliasesToExport        = @('nsk', 'ccsk', 'sdsd', 'rcsd', 'cssk', 'gsk', 'wsk')
    PrivateData            = @{
        PSData = @{
            ProjectUri   = 'https://github.com/SocketCmdlets/SocketCmdlets'
            LicenseUri   = 'https://github.com/SocketCmdlets/SocketCmdlets/blob/main/LICENSE'
            # Filled in from CHANGELOG.md by build.ps1 when the module is staged.
            ReleaseNotes = ''
            Tags = @('socket', 'tcp', 'network', 'netcat', 'udp', 'unix-socket', 'multicast', 'tls', 'starttls', 'PSEdition_Core', 'PSEdition_Desktop', 'Windows', 'Linux', 'MacOS')
        }
    }
}

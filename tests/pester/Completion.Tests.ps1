# Tab completion: -Id and -Name complete the open sockets, -Encoding the encoding names, enums their values.
BeforeAll {
    Set-StrictMode -Version Latest
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH -Force
    function Get-Completion([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | ForEach-Object CompletionText)
    }
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Tab completion' -Tag 'Completion' {
    BeforeAll {
        $script:Alpha = New-Socket -Name 'completion-alpha'
        $script:Beta = New-Socket -Name 'completion-beta'
    }

    AfterAll {
        $Alpha, $Beta | Close-Socket
    }

    It 'completes -Id of Get-Socket with the ids of open sockets' {
        $ids = Get-Completion 'Get-Socket -Id '
        $ids | Should -Contain "$($Alpha.Id)"
        $ids | Should -Contain "$($Beta.Id)"
    }

    It 'completes -Id of Close-Socket and leaves out closed sockets' {
        $gone = New-Socket
        $gone | Close-Socket
        $ids = Get-Completion 'Close-Socket -Id '
        $ids | Should -Contain "$($Alpha.Id)"
        $ids | Should -Not -Contain "$($gone.Id)"
    }

    It 'completes -Name with the names of open sockets, by prefix' {
        $names = Get-Completion 'Get-Socket -Name completion-a'
        $names | Should -Be @("'completion-alpha'")
    }

    It 'completes -Encoding with the encoding names PowerShell uses' {
        $names = Get-Completion 'Send-SocketData -Encoding utf'
        $names | Should -Contain 'utf8'
        $names | Should -Contain 'utf32'
        $names | Should -Not -Contain 'ascii'
    }

    It 'completes -Encoding of Receive-SocketData too' {
        Get-Completion 'Receive-SocketData -Encoding asc' | Should -Be @('ascii')
    }

    It 'completes enum parameters with their values' {
        Get-Completion 'New-Socket -Protocol ' | Should -Be @('Tcp', 'Udp')
        Get-Completion 'Close-Socket -Direction ' | Should -Be @('Both', 'Send')
        Get-Completion 'Get-Socket -State Li' | Should -Be @('Listening')
    }

    It 'completes -Address with Any and Loopback' {
        $values = Get-Completion 'Register-SocketBinding -Address '
        $values | Should -Contain 'Any'
        $values | Should -Contain 'Loopback'
    }
}

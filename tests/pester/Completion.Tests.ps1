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
        $names | Should -Be @('completion-alpha')
    }

    It 'quotes a completed name only when the bare text would not read back as the name' {
        $odd = 'completion gamma', "completion-it's", 'completion$x', 'completion[1]', 'completion;x'
        $sockets = $odd | ForEach-Object { New-Socket -Name $_ }
        try {
            $names = Get-Completion 'Close-Socket -Name completion'
            $names | Should -Contain 'completion-alpha'
            $names | Should -Contain "'completion gamma'"
            $names | Should -Contain "'completion-it''s'"
            $names | Should -Contain "'completion`$x'"
            $names | Should -Contain "'completion``[1``]'"
            $names | Should -Contain "'completion;x'"
            # Each completion, pasted back, names exactly its socket.
            foreach ($text in $names) {
                $found = @(Invoke-Expression "Get-Socket -Name $text")
                $found.Count | Should -Be 1 -Because "'$text' names one socket"
            }
        } finally {
            $sockets | Close-Socket
        }
    }

    It 'keeps the quote the user started with' {
        Get-Completion "Close-Socket -Name 'completion-b" | Should -Be @("'completion-beta'")
        Get-Completion 'Close-Socket -Name "completion-b' | Should -Be @('"completion-beta"')
    }

    It 'completes -Name of every cmdlet that takes a socket by name' {
        foreach ($command in 'Close-Socket', 'Send-SocketData', 'Receive-SocketData', 'Wait-Socket', 'Get-SocketOption',
            'Set-SocketOption', 'Protect-Socket', 'Register-SocketBinding', 'Start-SocketListen', 'Invoke-SocketRequest',
            'Enter-SocketSession', 'Add-SocketMulticastGroup', 'Remove-SocketMulticastGroup') {
            Get-Completion "$command -Name completion-al" | Should -Be @('completion-alpha') -Because $command
        }
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

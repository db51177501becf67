BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Certificates.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    . (Join-Path $PSScriptRoot 'ServerHelpers.ps1')
}

BeforeDiscovery {
    # A second loopback address (tools/DevTools.psm1: Linux and Windows have it, macOS not without an alias).
    Import-Module (Join-Path $PSScriptRoot '../../tools/DevTools.psm1')
    $script:HasSecondLoopback = Test-LoopbackAddress 127.0.0.2
}

AfterAll {
    Get-Job | Where-Object PSJobTypeName -EQ 'SocketServerJob' | Remove-Job -Force
    Get-Socket | Close-Socket
}

Describe 'Start-SocketServer: limits, bad arguments, TLS and Unix sockets' -Tag 'StartSocketServer' {
    AfterEach {
        Get-Job | Where-Object PSJobTypeName -EQ 'SocketServerJob' | Remove-Job -Force
        Get-Socket | Close-Socket
    }


    Context 'Limits' {
        It 'runs at most -ThrottleLimit handlers at once; the others wait, accepted' {
            $job = Start-SocketServer -Port 0 -Address Loopback -ThrottleLimit 2 -ScriptBlock {
                "start $($_.Id)"
                $null = $_ | Receive-SocketData -Line -TimeoutSec 60
            }
            $clients = 1..4 | ForEach-Object { New-Client $job.LocalEndPoint.Port }
            Wait-Until -TimeoutSec 10 { $job.ActiveConnections -eq 4 -and @(Get-JobText $job).Count -eq 2 }
            Start-Sleep -Milliseconds 500
            @(Get-JobText $job).Count | Should -Be 2
            $clients | ForEach-Object { 'go' | Send-SocketData -Socket $_ -AppendNewLine }
            Wait-Until -TimeoutSec 10 { @(Get-JobText $job).Count -eq 4 }
        }

        It 'closes clients beyond -MaxConnections at once and counts them' {
            $job = Start-SocketServer -Port 0 -Address Loopback -MaxConnections 1 -ScriptBlock {
                "served $($_.RemoteEndPoint.Port)"
                $null = $_ | Receive-SocketData -Line -TimeoutSec 60
            }
            $first = New-Client $job.LocalEndPoint.Port
            Wait-Until -TimeoutSec 10 { $job.ActiveConnections -eq 1 }
            Wait-Until -TimeoutSec 10 { @(Get-JobText $job).Count -eq 1 }
            $second = New-Client $job.LocalEndPoint.Port
            Test-EndOfStream $second | Should -BeTrue
            $job.RejectedConnections | Should -Be 1
            Get-JobText $job | Should -Be "served $($first.LocalEndPoint.Port)"
        }

        It 'turns away a client that -DenyAddress names, and serves others' -Skip:(-not $HasSecondLoopback) {
            $job = Start-SocketServer -Port 0 -Address 127.0.0.1 -DenyAddress 127.0.0.2 -Verbose -ScriptBlock { "served $($_.RemoteEndPoint.Address)" } 4>$null
            $denied = New-Client $job.LocalEndPoint.Port -From 127.0.0.2
            Test-EndOfStream $denied | Should -BeTrue
            $null = New-Client $job.LocalEndPoint.Port
            Wait-Until -TimeoutSec 10 { @(Get-JobText $job).Count -eq 1 }
            Get-JobText $job | Should -Be 'served 127.0.0.1'
            $job.RejectedConnections | Should -Be 1
            $job.Verbose.Message | Where-Object { $_ -like 'Rejected 127.0.0.2:*' } | Should -Not -BeNullOrEmpty
        }

        It 'serves only the ranges -AllowAddress names' -Skip:(-not $HasSecondLoopback) {
            $job = Start-SocketServer -Port 0 -Address 127.0.0.1 -AllowAddress '127.0.0.2/32', '::1' -ScriptBlock { "served $($_.RemoteEndPoint.Address)" }
            $outsider = New-Client $job.LocalEndPoint.Port
            Test-EndOfStream $outsider | Should -BeTrue
            $null = New-Client $job.LocalEndPoint.Port -From 127.0.0.2
            Wait-Until -TimeoutSec 10 { @(Get-JobText $job).Count -eq 1 }
            Get-JobText $job | Should -Be 'served 127.0.0.2'
            $job.RejectedConnections | Should -Be 1
        }

        It 'matches IPv4 clients of a dual-mode listener as IPv4' {
            $job = Start-SocketServer -Port 0 -AllowAddress 127.0.0.0/8 -ScriptBlock { "served $($_.RemoteEndPoint.Address)" }
            $null = New-Client $job.LocalEndPoint.Port
            Wait-Until -TimeoutSec 10 { @(Get-JobText $job).Count -eq 1 }
            Get-JobText $job | Should -Be 'served 127.0.0.1'
            $job.RejectedConnections | Should -Be 0
        }
    }

    Context 'Bad arguments' {
        It 'rejects a malformed CIDR range before anything is bound' {
            $count = @(Get-Socket).Count
            { Start-SocketServer -Port 0 -AllowAddress '10.0.0.0/33' -ScriptBlock { } -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidAddressFilter,SocketCmdlets.Commands.StartSocketServerCommand'
            @(Get-Socket).Count | Should -Be $count
            @(Get-Job | Where-Object PSJobTypeName -EQ 'SocketServerJob') | Should -BeNullOrEmpty
        }

        It 'names the bad entry in the message' {
            try { Start-SocketServer -Port 0 -DenyAddress '::1', 'nonsense' -ScriptBlock { } -ErrorAction Stop } catch { $e = $_ }
            "$e" | Should -Match "'nonsense'"
        }

        It 'rejects a string instead of a script block' {
            { Start-SocketServer -Port 0 -ScriptBlock 'Get-Date' -ErrorAction Stop } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage*'
            @(Get-Socket) | Should -BeNullOrEmpty
        }

        It 'rejects -ThrottleLimit 0' {
            { Start-SocketServer -Port 0 -ThrottleLimit 0 -ScriptBlock { } -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        }

        It 'reports a port in use as AddressInUse and leaves nothing behind' {
            $holder = Start-SocketListen -Port 0 -Address 127.0.0.1
            { Start-SocketServer -Port $holder.LocalEndPoint.Port -Address 127.0.0.1 -ScriptBlock { } -ErrorAction Stop } |
                Should -Throw -ErrorId 'AddressInUse,SocketCmdlets.Commands.StartSocketServerCommand'
            @(Get-Socket).Count | Should -Be 1
            @(Get-Job | Where-Object PSJobTypeName -EQ 'SocketServerJob') | Should -BeNullOrEmpty
        }
    }

    Context 'TLS' {
        BeforeAll {
            $script:Certificate = New-TestCertificate
        }

        It 'makes every connection TLS before the handler runs' {
            $job = Start-SocketServer -Port 0 -Address Loopback -Certificate $Certificate -ScriptBlock {
                "encrypted: $($_.IsEncrypted)" | Send-SocketData -Socket $_ -AppendNewLine
            }
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $job.LocalEndPoint.Port -UseTls -SkipCertificateCheck -TimeoutSec 10
            $client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'encrypted: True'
        }

        It 'makes a failed handshake a job error and goes on serving' {
            $job = Start-SocketServer -Port 0 -Address Loopback -Certificate $Certificate -ScriptBlock {
                'tls ok' | Send-SocketData -Socket $_ -AppendNewLine
            }
            $plain = New-Client $job.LocalEndPoint.Port
            "GET / HTTP/1.0`r`n`r`n" | Send-SocketData -Socket $plain
            Wait-Until -TimeoutSec 15 { $job.Error.Count -gt 0 }
            $job.Error[0].FullyQualifiedErrorId | Should -Be 'TlsHandshakeFailed,SocketCmdlets.Commands.StartSocketServerCommand'
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $job.LocalEndPoint.Port -UseTls -SkipCertificateCheck -TimeoutSec 10
            $client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'tls ok'
            $job.State | Should -Be 'Running'
        }
    }

    Context 'Unix domain socket' {
        It 'serves on -Path and removes the socket file on Stop-Job' -Skip:($IsWindows) {
            $path = Join-Path ([System.IO.Path]::GetTempPath()) "sc-server-$PID.sock"
            $job = Start-SocketServer -Path $path -ScriptBlock { 'unix hello' | Send-SocketData -Socket $_ -AppendNewLine }
            $job.Path | Should -Be $path
            $client = Connect-Socket -Path $path -TimeoutSec 10
            $client | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'unix hello'
            $job | Stop-Job
            Test-Path -LiteralPath $path | Should -BeFalse
        }

        It 'refuses -AllowAddress with -Path (a Unix peer has no address)' {
            { Start-SocketServer -Path 'x.sock' -AllowAddress 127.0.0.1 -ScriptBlock { } -ErrorAction Stop } | Should -Throw -ErrorId 'AmbiguousParameterSet*'
        }
    }
}

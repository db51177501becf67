# The scripts in examples/ run as written, against the staged module, and print what they promise.
# (Readme.Tests.ps1 runs SelectServer.ps1 and Demo.ps1; they are not repeated here.)
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    $script:Examples = (Resolve-Path (Join-Path $PSScriptRoot '../../examples')).ProviderPath
    $script:Folder = Join-Path ([System.IO.Path]::GetTempPath()) "sc-examples-$PID"
    $null = New-Item -ItemType Directory -Force -Path $Folder
    $script:StartCount = @(Get-Socket).Count

    function Start-Example {
        <#
        .SYNOPSIS
            Starts examples/<Name> with -ModulePath and the given parameters in a new runspace of this process.
        #>
        param([Parameter(Mandatory)] [string] $Name, [hashtable] $Parameters = @{})
        $ps = [powershell]::Create()
        $null = $ps.AddCommand((Join-Path $Examples $Name)).AddParameter('ModulePath', $ModulePath)
        foreach ($key in $Parameters.Keys) { $null = $ps.AddParameter($key, $Parameters[$key]) }
        [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke(); Name = $Name }
    }

    function Complete-Example {
        <#
        .SYNOPSIS
            Waits (bounded) for a started example and returns its output objects, its errors (a terminating one
            included) and what it wrote to the host, then disposes of its runspace.
        #>
        param([Parameter(Mandatory, Position = 0)] $Example, [int] $TimeoutSec = 60)
        $ps = $Example.PowerShell
        try {
            if (-not $Example.Handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds($TimeoutSec))) {
                $null = $ps.BeginStop($null, $null).AsyncWaitHandle.WaitOne(10000)
                $said = @($ps.Streams.Information | ForEach-Object { "$($_.MessageData)" }) + @($ps.Streams.Error | ForEach-Object { "$_" })
                throw "examples/$($Example.Name) did not finish within $TimeoutSec s. It said: $($said -join ' | ')"
            }
            $output = @()
            $errors = [System.Collections.Generic.List[string]]::new()
            try {
                $output = @($ps.EndInvoke($Example.Handle))
            } catch {
                $errors.Add("terminating: $($_.Exception.InnerException.Message ?? $_.Exception.Message)")
            }
            foreach ($e in $ps.Streams.Error) { $errors.Add("$($e.FullyQualifiedErrorId): $e") }
            [pscustomobject]@{
                Output = $output
                Text   = @($output | ForEach-Object { "$_" })
                Errors = @($errors)
                Host   = @($ps.Streams.Information | ForEach-Object { "$($_.MessageData)" })
            }
        } finally {
            $ps.Dispose()
        }
    }

    function Invoke-Example {
        # Runs an example to its end (bounded) and returns what Complete-Example returns.
        param([Parameter(Mandatory)] [string] $Name, [hashtable] $Parameters = @{}, [int] $TimeoutSec = 60)
        Complete-Example (Start-Example -Name $Name -Parameters $Parameters) -TimeoutSec $TimeoutSec
    }

    function Start-HttpResponder {
        # Starts examples/HttpResponder.ps1 on a free port for -Count requests; returns it with its port.
        param([int] $Count = 1)
        $portFile = Join-Path $Folder ("http-" + [guid]::NewGuid().ToString('n') + '.port')
        $responder = Start-Example -Name 'HttpResponder.ps1' -Parameters @{ Port = 0; Count = $Count; PortFile = $portFile }
        Wait-Until -TimeoutSec 20 -Because 'HttpResponder.ps1 to write its port' {
            ((Test-Path -LiteralPath $portFile) -and (Get-Content -LiteralPath $portFile -Raw) -match '^\d+\s*$') -or $responder.Handle.IsCompleted
        }
        $responder | Add-Member -NotePropertyName Port -NotePropertyValue ([int] (Get-Content -LiteralPath $portFile -Raw)) -PassThru
    }
}

AfterAll {
    Get-Socket | Close-Socket
    Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction Ignore
}

Describe 'examples/LineChat.ps1' -Tag 'Examples' {
    It 'prints the four turns of the chat, each heard by the other side' {
        $r = Invoke-Example -Name 'LineChat.ps1'
        $r.Errors | Should -BeNullOrEmpty
        $r.Text | Should -Be @(
            'bob heard alice: Hi Bob, are you there?'
            'alice heard bob: Hi Alice! Yes, over a socket.'
            'bob heard alice: Lines end with a newline; -Line reads one at a time.'
            'alice heard bob: Bye!'
        )
    }
}

Describe 'examples/StartTls.ps1' -Tag 'Examples' {
    It 'talks plain text, upgrades to TLS, and the server reads the secret over TLS' {
        $r = Invoke-Example -Name 'StartTls.ps1'
        $r.Errors | Should -BeNullOrEmpty
        $r.Text.Count | Should -Be 4
        $r.Text[0] | Should -Be 'S: 220 ready'
        $r.Text[1] | Should -Be 'S: 220 go ahead'
        $r.Text[2] | Should -Match '^encrypted: True \(Tls1[23], \S.*; certificate errors: 0$'
        $r.Text[3] | Should -Match "^S: 250 got 'the password is swordfish' over Tls1[23]$"
    }
}

Describe 'examples/PortCheck.ps1' -Tag 'Examples' {
    BeforeAll {
        $listener = Start-SocketListen -Port 0 -Address Loopback
        $openPort = $listener.LocalEndPoint.Port
        $closedPort = Get-FreePort
        $script:PortCheck = Invoke-Example -Name 'PortCheck.ps1' -Parameters @{ ComputerName = @('127.0.0.1'); Port = @($openPort, $closedPort); TimeoutSec = 5 }
    }

    AfterAll {
        $listener | Close-Socket
    }

    It 'writes one object per port, with no error' {
        $PortCheck.Errors | Should -BeNullOrEmpty
        $PortCheck.Output.Port | Should -Be @($openPort, $closedPort)
    }

    It 'reports the listening port open, connected to 127.0.0.1' {
        $open = $PortCheck.Output | Where-Object Port -EQ $openPort
        $open.Open | Should -BeTrue
        $open.Result | Should -Be "connected to 127.0.0.1:$openPort"
    }

    It 'reports the closed port not open, with ConnectionRefused' {
        $closed = $PortCheck.Output | Where-Object Port -EQ $closedPort
        $closed.Open | Should -BeFalse
        $closed.Result | Should -Be 'ConnectionRefused'
    }
}

Describe 'examples/ParallelEchoServer.ps1' -Tag 'Examples' {
    It 'echoes every line of 50 clients with 5 lines each' {
        $r = Invoke-Example -Name 'ParallelEchoServer.ps1' -Parameters @{ Clients = 50; Lines = 5 } -TimeoutSec 90
        $r.Errors | Should -BeNullOrEmpty
        $r.Text[-1] | Should -Match '^50 clients, 250 of 250 lines echoed in \d+ ms$'
    }
}

Describe 'examples/HttpGet.ps1 against examples/HttpResponder.ps1' -Tag 'Examples' {
    It 'gets status 200, the headers and the body' {
        $responder = Start-HttpResponder -Count 1
        $get = Invoke-Example -Name 'HttpGet.ps1' -Parameters @{ ComputerName = '127.0.0.1'; Port = $responder.Port; Path = '/from-httpget' }
        $served = Complete-Example $responder -TimeoutSec 20
        $get.Errors | Should -BeNullOrEmpty
        $served.Errors | Should -BeNullOrEmpty
        $page = $get.Output[0]
        $page.Status | Should -Be 'HTTP/1.1 200 OK'
        $page.Headers['Content-Type'] | Should -Be 'text/plain; charset=utf-8'
        $body = "hello from SocketCmdlets, you asked for /from-httpget`n"
        $page.Headers['Content-Length'] | Should -Be ([System.Text.Encoding]::UTF8.GetByteCount($body))
        $page.Body | Should -BeExactly $body
        $served.Host | Should -Contain 'GET /from-httpget -> 200 OK'
    }

    It 'gets status 404 for /missing' {
        $responder = Start-HttpResponder -Count 1
        $get = Invoke-Example -Name 'HttpGet.ps1' -Parameters @{ ComputerName = 'localhost'; Port = $responder.Port; Path = '/missing' }
        $served = Complete-Example $responder -TimeoutSec 20
        $get.Errors | Should -BeNullOrEmpty
        $get.Output[0].Status | Should -Be 'HTTP/1.1 404 Not Found'
        $get.Output[0].Body | Should -BeExactly "no such page`n"
        $served.Errors | Should -BeNullOrEmpty
    }
}

Describe 'examples/RedisPing.ps1' -Tag 'Examples' {
    BeforeAll {
        $script:Redis = $null
    }

    AfterAll {
        Stop-TestProcess $Redis
    }

    It 'pings a redis-server and stores and reads back a binary value' {
        Assert-Tool redis-server redis-server
        $port = Get-FreePort
        $script:Redis = Start-TestProcess redis-server @('--port', "$port", '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', $Folder)
        Wait-Listening $port -Process $Redis
        $r = Invoke-Example -Name 'RedisPing.ps1' -Parameters @{ ComputerName = '127.0.0.1'; Port = $port }
        $r.Errors | Should -BeNullOrEmpty
        $r.Text | Should -Be @(
            'PING -> +PONG'
            'SET -> +OK'
            'GET -> 00 01 02 ff 0d 0a 80 (same bytes: True)'
        )
    }
}

Describe 'examples/EchoServer.ps1' -Tag 'Examples' {
    It 'prints its port and echoes every line of a client, then stops after -MaxClients 1' {
        $server = Start-Example -Name 'EchoServer.ps1' -Parameters @{ Port = 0; MaxClients = 1 }
        try {
            Wait-Until -TimeoutSec 20 -Because 'EchoServer.ps1 to print its port' {
                @($server.PowerShell.Streams.Information | Where-Object { "$($_.MessageData)" -match 'listening on' }).Count -gt 0 -or $server.Handle.IsCompleted
            }
            $banner = "$(@($server.PowerShell.Streams.Information)[0].MessageData)"
            $banner -match '^echo server listening on 127\.0\.0\.1:(\d+)$' | Should -BeTrue -Because "the banner was '$banner'"
            $port = [int] $Matches[1]
            $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
            'echo me', 'and me too' | Send-SocketData -Socket $c -AppendNewLine
            $c | Close-Socket -Direction Send
            $c | Receive-SocketData -Line -ToEnd -TimeoutSec 10 | Should -Be @('echo me', 'and me too')
            $c | Close-Socket
        } finally {
            # A failure to finish is reported after the finally, so it never hides the failure that caused it.
            $r = try { Complete-Example $server -TimeoutSec 20 } catch { [pscustomobject]@{ Errors = @("$_"); Host = @() } }
        }
        $r.Errors | Should -BeNullOrEmpty
        $r.Host | Should -Contain "client 127.0.0.1:$($c.LocalEndPoint.Port) connected"
    }

    It 'serves 3 clients at once with -Parallel' {
        $server = Start-Example -Name 'EchoServer.ps1' -Parameters @{ Port = 0; MaxClients = 3; Parallel = $true }
        try {
            Wait-Until -TimeoutSec 20 -Because 'EchoServer.ps1 to print its port' {
                @($server.PowerShell.Streams.Information).Count -gt 0 -or $server.Handle.IsCompleted
            }
            $banner = "$(@($server.PowerShell.Streams.Information)[0].MessageData)"
            $banner -match ':(\d+)$' | Should -BeTrue -Because "the banner was '$banner'"
            $port = [int] $Matches[1]
            # All three are connected before any is answered.
            $clients = foreach ($i in 1..3) { Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10 }
            foreach ($i in 1..3) { "client $i" | Send-SocketData -Socket $clients[$i - 1] -AppendNewLine }
            foreach ($i in 3..1) { $clients[$i - 1] | Receive-SocketData -Line -TimeoutSec 10 | Should -Be "client $i" }
            $clients | Close-Socket
        } finally {
            $r = try { Complete-Example $server -TimeoutSec 30 } catch { [pscustomobject]@{ Errors = @("$_"); Host = @() } }
        }
        $r.Errors | Should -BeNullOrEmpty
    }
}

Describe 'examples cleanup' -Tag 'Examples' {
    It 'leaves no socket open after the examples' {
        @(Get-Socket).Count | Should -Be $StartCount
    }
}

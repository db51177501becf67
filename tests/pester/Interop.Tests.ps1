# Interoperability with real third-party peers on loopback: socat, nc (netcat-openbsd), a Python socket server,
# curl, redis-server and openssl. Each program is started by the test on a free loopback port and stopped by its id.
# A missing program fails the test with the Debian package that brings it (CI installs them).
BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Certificates.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH
    $ProgressPreference = 'SilentlyContinue'
    $script:Root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath

    $script:Folder = Join-Path ([System.IO.Path]::GetTempPath()) "sc-interop-$PID"
    $null = New-Item -ItemType Directory -Force -Path $Folder
    $script:Started = [System.Collections.Generic.List[object]]::new()

    function Start-Peer {
        # Starts a program for this test and remembers it, so AfterEach stops it by its id whatever happens.
        param([string] $FilePath, [string[]] $ArgumentList, [switch] $RedirectInput, [hashtable] $Environment = @{})
        $p = Start-TestProcess $FilePath $ArgumentList -RedirectInput:$RedirectInput -Environment $Environment
        $Started.Add($p)
        $p
    }

    function Send-Resp {
        # A RESP array of bulk strings; byte[] arguments go as they are.
        param($Socket, [object[]] $Arguments)
        $parts = [System.Collections.Generic.List[byte]]::new()
        $ascii = [System.Text.Encoding]::ASCII
        $parts.AddRange($ascii.GetBytes("*$($Arguments.Count)`r`n"))
        foreach ($a in $Arguments) {
            $bytes = if ($a -is [byte[]]) { $a } else { [System.Text.Encoding]::UTF8.GetBytes([string] $a) }
            $parts.AddRange($ascii.GetBytes("`$$($bytes.Length)`r`n"))
            $parts.AddRange([byte[]] $bytes)
            $parts.AddRange($ascii.GetBytes("`r`n"))
        }
        , $parts.ToArray() | Send-SocketData -Socket $Socket
    }

    function Receive-RespBulk {
        # A RESP bulk string: its length line, the bytes, and CRLF; the bytes are returned as byte[].
        param($Socket)
        $header = $Socket | Receive-SocketData -Line -Encoding ascii -TimeoutSec 10
        if ($header -notmatch '^\$(\d+)$') { throw "Expected a bulk string, got '$header'." }
        $length = [int] $Matches[1]
        $data = $Socket | Receive-SocketData -ByteCount ($length + 2) -AsByteStream -TimeoutSec 10
        , [byte[]] $data[0..($length - 1)]
    }

    $script:Certificate = New-TestCertificate
    $script:CertificateFiles = Export-TestCertificate -Certificate $Certificate -Folder $Folder -Name interop -Password 'interop-password'
}

AfterAll {
    $Started | Stop-TestProcess
    Get-Socket | Close-Socket
    Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction Ignore
}

Describe 'Interop with socat and nc' -Tag 'Interop' {
    AfterEach {
        $Started | Stop-TestProcess
        $Started.Clear()
        Get-Socket | Close-Socket
    }

    It 'talks to socat as a server (EXEC:cat echoes every line)' {
        Assert-Tool socat socat
        $port = Get-FreePort
        $socat = Start-Peer socat @("TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr", 'EXEC:cat')
        Wait-Listening $port -Process $socat
        $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
        'first line', 'second line' | Send-SocketData -Socket $c -AppendNewLine
        $c | Close-Socket -Direction Send
        $c | Receive-SocketData -Line -ToEnd -TimeoutSec 10 | Should -Be @('first line', 'second line')
    }

    It 'talks to socat as a server that transforms (SYSTEM:tr a-z A-Z)' {
        Assert-Tool socat socat
        $port = Get-FreePort
        $socat = Start-Peer socat @("TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr", 'SYSTEM:tr a-z A-Z')
        Wait-Listening $port -Process $socat
        $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
        'make me loud' | Send-SocketData -Socket $c -AppendNewLine
        $c | Close-Socket -Direction Send
        $c | Receive-SocketData -Line -ToEnd -TimeoutSec 10 | Should -Be 'MAKE ME LOUD'
    }

    It 'serves socat as a client (socat - TCP:127.0.0.1:port)' {
        Assert-Tool socat socat
        $listener = Start-SocketListen -Port 0 -Address Loopback
        $socat = Start-Peer socat @('-t', '5', '-', "TCP:127.0.0.1:$($listener.LocalEndPoint.Port)") -RedirectInput
        $socat.StandardInput.Write("hello from socat`n")
        $socat.StandardInput.Close()
        $peer = $listener | Receive-SocketConnection -TimeoutSec 10
        $peer | Receive-SocketData -Line -ToEnd -TimeoutSec 10 | Should -Be 'hello from socat'
        'hello back from PowerShell' | Send-SocketData -Socket $peer -AppendNewLine
        $peer | Close-Socket
        Wait-TestProcess $socat -TimeoutSec 10
        $socat.ExitCode | Should -Be 0 -Because $socat.StdErr
        $socat.StdOut | Should -BeExactly "hello back from PowerShell`n"
    }

    It 'talks to nc as a server (nc -l 127.0.0.1 port), both ways' {
        Assert-Tool nc netcat-openbsd
        $port = Get-FreePort
        $nc = Start-Peer nc @('-N', '-l', '127.0.0.1', "$port") -RedirectInput
        Wait-Listening $port -Process $nc
        # nc sends its input once a client is there, then (-N) shuts down its side; it ends when this side does.
        $nc.StandardInput.Write("from nc to PowerShell`n")
        $nc.StandardInput.Close()
        $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
        'from PowerShell to nc' | Send-SocketData -Socket $c -AppendNewLine
        $c | Close-Socket -Direction Send
        $c | Receive-SocketData -Line -ToEnd -TimeoutSec 10 | Should -Be 'from nc to PowerShell'
        Wait-TestProcess $nc -TimeoutSec 10
        $nc.StdOut | Should -BeExactly "from PowerShell to nc`n"
    }

    It 'serves nc as a client (nc -N 127.0.0.1 port)' {
        Assert-Tool nc netcat-openbsd
        $listener = Start-SocketListen -Port 0 -Address Loopback
        $nc = Start-Peer nc @('-N', '127.0.0.1', "$($listener.LocalEndPoint.Port)") -RedirectInput
        $nc.StandardInput.Write("line one`nline two`n")
        $nc.StandardInput.Close()
        $peer = $listener | Receive-SocketConnection -TimeoutSec 10
        $lines = @($peer | Receive-SocketData -Line -ToEnd -TimeoutSec 10)
        $lines | Should -Be @('line one', 'line two')
        "got $($lines.Count) lines" | Send-SocketData -Socket $peer -AppendNewLine
        $peer | Close-Socket
        Wait-TestProcess $nc -TimeoutSec 10
        $nc.StdOut | Should -BeExactly "got 2 lines`n"
    }

    It 'sends binary data through nc unchanged (nc as a server writing what it gets)' {
        Assert-Tool nc netcat-openbsd
        $port = Get-FreePort
        $out = Join-Path $Folder 'nc-binary.bin'
        # nc's stdout goes to a file through sh, so no text decoding touches the bytes.
        $nc = Start-Peer sh @('-c', "exec nc -l 127.0.0.1 $port > '$out' < /dev/null")
        Wait-Listening $port -Process $nc
        $bytes = New-RandomBytes 300000
        $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
        , $bytes | Send-SocketData -Socket $c
        $c | Close-Socket
        Wait-TestProcess $nc -TimeoutSec 10
        Get-Sha256 ([System.IO.File]::ReadAllBytes($out)) | Should -Be (Get-Sha256 $bytes)
    }
}

Describe 'Interop with a Python socket server' -Tag 'Interop' {
    AfterEach {
        $Started | Stop-TestProcess
        $Started.Clear()
        Get-Socket | Close-Socket
    }

    It 'round-trips binary data through a Python echo server' {
        Assert-Tool python3 python3
        $script = Join-Path $Folder 'echo_server.py'
        Set-Content -LiteralPath $script -Value @'
import socket, sys
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(1)
server.settimeout(20)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.getsockname()[1]))
import os
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
conn, _ = server.accept()
conn.settimeout(20)
total = 0
while True:
    data = conn.recv(65536)
    if not data:
        break
    total += len(data)
    conn.sendall(data)
conn.shutdown(socket.SHUT_WR)
conn.close()
server.close()
print("echoed", total)
'@
        $portFile = Join-Path $Folder 'python.port'
        $python = Start-Peer python3 @($script, $portFile)
        Wait-Until -TimeoutSec 10 -Because 'the Python server to write its port' { (Test-Path -LiteralPath $portFile) -or $python.HasExited }
        $port = [int] (Get-Content -LiteralPath $portFile -Raw)
        $bytes = New-RandomBytes 200000
        $c = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
        , $bytes | Send-SocketData -Socket $c
        $c | Close-Socket -Direction Send
        $echoed = Receive-AllBytes $c -TimeoutSec 10
        Get-Sha256 $echoed | Should -Be (Get-Sha256 $bytes)
        Wait-TestProcess $python -TimeoutSec 10
        $python.StdOut.Trim() | Should -Be 'echoed 200000'
    }
}

Describe 'Interop with curl' -Tag 'Interop' {
    BeforeAll {
        $script:PortFile = Join-Path $Folder 'http.port'
        $script:Responder = Start-ChildPwsh -File (Join-Path $Root 'examples/HttpResponder.ps1') -CacheHome (Join-Path $Folder 'xdg-cache') `
            -ArgumentList '-Port', '0', '-Count', '2', '-PortFile', $PortFile, '-ModulePath', $ModulePath
        Wait-Until -TimeoutSec 30 -Because 'examples/HttpResponder.ps1 to write its port' {
            ((Test-Path -LiteralPath $PortFile) -and (Get-Content -LiteralPath $PortFile -Raw) -match '^\d+\s*$') -or $Responder.HasExited
        }
        $script:HttpPort = [int] (Get-Content -LiteralPath $PortFile -Raw)

        function Invoke-Curl {
            param([string] $Path)
            $body = Join-Path $Folder ("curl-" + [guid]::NewGuid().ToString('n') + '.txt')
            $curl = Start-TestProcess curl @('-sS', '--max-time', '10', '-o', $body, '-w', '%{http_code}', "http://127.0.0.1:$HttpPort$Path")
            try {
                Wait-TestProcess $curl -TimeoutSec 15
                [pscustomobject]@{ ExitCode = $curl.ExitCode; Status = $curl.StdOut; Body = (Get-Content -LiteralPath $body -Raw -ErrorAction Ignore); Errors = $curl.StdErr }
            } finally {
                Stop-TestProcess $curl
            }
        }
    }

    AfterAll {
        Stop-TestProcess $Responder
    }

    It 'fetches a page from examples/HttpResponder.ps1: status 200 and the body' {
        Assert-Tool curl curl
        $r = Invoke-Curl '/hello'
        $r.ExitCode | Should -Be 0 -Because $r.Errors
        $r.Status | Should -Be '200'
        $r.Body | Should -BeExactly "hello from SocketCmdlets, you asked for /hello`n"
    }

    It 'gets 404 for /missing' {
        Assert-Tool curl curl
        $r = Invoke-Curl '/missing'
        $r.ExitCode | Should -Be 0 -Because $r.Errors
        $r.Status | Should -Be '404'
        $r.Body | Should -BeExactly "no such page`n"
    }

    It 'lets the responder end by itself after its -Count requests, with no error' {
        Wait-TestProcess $Responder -TimeoutSec 20
        $Responder.ExitCode | Should -Be 0 -Because $Responder.StdErr
        $Responder.StdOut | Should -Match 'GET /hello -> 200 OK'
        $Responder.StdOut | Should -Match 'GET /missing -> 404 Not Found'
    }
}

Describe 'Interop with redis-server' -Tag 'Interop' {
    BeforeEach {
        Assert-Tool redis-server redis-server
        $port = Get-FreePort
        $redis = Start-Peer redis-server @('--port', "$port", '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', $Folder)
        Wait-Listening $port -Process $redis
        $socket = Connect-Socket -ComputerName 127.0.0.1 -Port $port -TimeoutSec 10
    }

    AfterEach {
        $socket | Close-Socket
        $Started | Stop-TestProcess
        $Started.Clear()
    }

    It 'answers PING with +PONG' {
        Send-Resp $socket @('PING')
        $socket | Receive-SocketData -Line -Encoding ascii -TimeoutSec 10 | Should -BeExactly '+PONG'
    }

    It 'stores a binary value (bytes 0..255) with SET and returns the same bytes with GET' {
        $value = [byte[]] (0..255)
        Send-Resp $socket @('SET', 'socketcmdlets:binary', $value)
        $socket | Receive-SocketData -Line -Encoding ascii -TimeoutSec 10 | Should -BeExactly '+OK'
        Send-Resp $socket @('GET', 'socketcmdlets:binary')
        $back = Receive-RespBulk $socket
        $back.Length | Should -Be 256
        ConvertTo-Hex $back | Should -Be (ConvertTo-Hex $value)
    }

    It 'answers pipelined commands in order' {
        Send-Resp $socket @('SET', 'socketcmdlets:n', '41')
        Send-Resp $socket @('INCR', 'socketcmdlets:n')
        Send-Resp $socket @('PING')
        $socket | Receive-SocketData -Line -Count 3 -Encoding ascii -TimeoutSec 10 | Should -Be @('+OK', ':42', '+PONG')
    }
}

Describe 'Interop with openssl' -Tag 'Interop' {
    AfterEach {
        $Started | Stop-TestProcess
        $Started.Clear()
        Get-Socket | Close-Socket
    }

    It 'talks TLS to openssl s_server with Connect-Socket -UseTls -SkipCertificateCheck' {
        Assert-Tool openssl openssl
        $port = Get-FreePort
        $server = Start-Peer openssl @('s_server', '-accept', "127.0.0.1:$port", '-cert', $CertificateFiles.CertificatePem, '-key', $CertificateFiles.KeyPem, '-quiet', '-rev', '-naccept', '1')
        Wait-Listening $port -Process $server
        $c = Connect-Socket -ComputerName localhost -Port $port -UseTls -SkipCertificateCheck -TimeoutSec 10
        $c.IsEncrypted | Should -BeTrue
        $c.RemoteCertificate.Thumbprint | Should -Be $Certificate.Thumbprint
        # -rev answers every line reversed.
        'hello over openssl' | Send-SocketData -Socket $c -AppendNewLine
        $c | Receive-SocketData -Line -TimeoutSec 10 | Should -BeExactly 'lssnepo revo olleh'
    }

    It 'refuses openssl s_server''s self-signed certificate without -SkipCertificateCheck (CertificateValidationFailed)' {
        Assert-Tool openssl openssl
        $port = Get-FreePort
        $server = Start-Peer openssl @('s_server', '-accept', "127.0.0.1:$port", '-cert', $CertificateFiles.CertificatePem, '-key', $CertificateFiles.KeyPem, '-quiet', '-rev', '-naccept', '1')
        Wait-Listening $port -Process $server
        $before = @(Get-Socket).Count
        $err = { Connect-Socket -ComputerName localhost -Port $port -UseTls -TimeoutSec 10 -ErrorAction Stop } |
            Should -Throw -ErrorId 'CertificateValidationFailed,SocketCmdlets.Commands.ConnectSocketCommand' -PassThru
        "$err" | Should -Match 'untrusted root'
        @(Get-Socket).Count | Should -Be $before
    }

    It 'serves openssl s_client with Protect-Socket -Certificate' {
        Assert-Tool openssl openssl
        $listener = Start-SocketListen -Port 0 -Address Loopback
        $client = Start-Peer openssl @('s_client', '-connect', "127.0.0.1:$($listener.LocalEndPoint.Port)", '-servername', 'localhost', '-quiet') -RedirectInput
        $client.StandardInput.Write("hello from s_client`n")
        $client.StandardInput.Flush()
        $peer = $listener | Receive-SocketConnection -TimeoutSec 10
        $null = $peer | Protect-Socket -Certificate $CertificateFiles.Pfx -CertificatePassword (ConvertTo-SecureString $CertificateFiles.Password -AsPlainText -Force) -TimeoutSec 10
        $peer.IsEncrypted | Should -BeTrue
        $peer | Receive-SocketData -Line -TimeoutSec 10 | Should -Be 'hello from s_client'
        'hello from Protect-Socket' | Send-SocketData -Socket $peer -AppendNewLine
        $peer | Close-Socket
        Wait-TestProcess $client -TimeoutSec 10
        $client.StdOut | Should -Match 'hello from Protect-Socket'
    }
}

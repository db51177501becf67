<#
.SYNOPSIS
    TLS test servers and pairs made with the module's cmdlets. Dot-source this file in BeforeAll, after Common.ps1;
    the certificates themselves come from New-TestCertificate and Export-TestCertificate (tools/DevTools.psm1).
#>

function Start-TlsTestServer {
    <#
    .SYNOPSIS
        A TLS server on a free loopback port, in a second PowerShell (Common.ps1): accepts one connection, runs
        Protect-Socket -Certificate with -Protect, sends 'hello over TLS' and the client certificate's subject as
        lines, waits (bounded) for the client to close, and closes. Returns Listener, Port, Job and PeerName (the name
        of the socket it accepts); end it with Stop-TlsTestServer.
    #>
    param(
        [Parameter(Mandatory)] $Certificate,
        [hashtable] $Protect = @{}
    )
    $listener = Start-SocketListen -Port 0 -Address Loopback
    $peerName = "tls-test-server-$($listener.Id)"
    $job = Start-SecondPowerShell -ArgumentList $listener, $Certificate, $Protect, $peerName {
        param($l, $certificate, $protect, $name)
        try {
            $peer = $l | Receive-SocketConnection -TimeoutSec 20 -Name $name
            $null = $peer | Protect-Socket -Certificate $certificate @protect -TimeoutSec 20 -ErrorAction Stop
            'hello over TLS' | Send-SocketData -Socket $peer -AppendNewLine
            "client: $(if ($peer.RemoteCertificate) { $peer.RemoteCertificate.Subject } else { 'none' })" | Send-SocketData -Socket $peer -AppendNewLine
            $null = $peer | Receive-SocketData -ToEnd -TimeoutSec 20 -ErrorAction SilentlyContinue
            'served'
        } finally {
            # By name: a stop can come after the accept and before $peer holds the socket.
            Get-Socket -Name $name -ErrorAction Ignore | Close-Socket
        }
    }
    [pscustomobject]@{ Listener = $listener; Port = $listener.LocalEndPoint.Port; Job = $job; PeerName = $peerName }
}

function Stop-TlsTestServer {
    <#
    .SYNOPSIS
        Stops a Start-TlsTestServer (its second PowerShell), closes the socket it accepted and its listener. The
        accepted socket is closed from here too: a stop that lands while the server's own finally block runs
        interrupts that block (PowerShell stops a finally block as well), which would leave the socket open.
    #>
    param([Parameter(Mandatory, ValueFromPipeline)] $Server)
    process {
        Remove-SecondPowerShell $Server.Job
        Get-Socket -Name $Server.PeerName -ErrorAction Ignore | Close-Socket
        $Server.Listener | Close-Socket
    }
}

function New-TlsConnectedPair {
    <#
    .SYNOPSIS
        A connected pair on loopback (New-ConnectedPair, from Common.ps1) with TLS on both sides: the handshake's
        server side runs in a second runspace with -Server (its -Certificate by default -Certificate), the client side
        here with -Client; both sockets are then used from the caller. Close it with $pair.Close().
    #>
    param(
        [Parameter(Mandatory)] [System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate,
        [hashtable] $Server = @{},
        [hashtable] $Client = @{ SkipCertificateCheck = $true }
    )
    $pair = New-ConnectedPair
    $serverSide = @{} + $Server
    if (-not $serverSide.ContainsKey('Certificate')) { $serverSide.Certificate = $Certificate }
    $job = Start-SecondPowerShell -ArgumentList $pair.Peer, $serverSide {
        param($s, $protect)
        $null = $s | Protect-Socket @protect -TimeoutSec 10 -ErrorAction Stop
        'server ready'
    }
    try {
        $null = $pair.Client | Protect-Socket @Client -TimeoutSec 10 -ErrorAction Stop
        $ready = Wait-SecondPowerShell $job -TimeoutSec 20
        if ($ready -ne 'server ready') { throw "The TLS server side did not finish its handshake: $($job.PowerShell.Streams.Error)" }
    } catch {
        $pair.Close()
        throw
    } finally {
        Remove-SecondPowerShell $job
    }
    $pair
}

function Skip-WithoutOpenssl {
    # Pester's way to skip from inside a test, naming the tool and its package; true when the test must return.
    $missing = -not (Get-Command openssl -CommandType Application -ErrorAction Ignore)
    if ($missing) { Set-ItResult -Skipped -Because 'openssl is not installed (Debian package openssl)' }
    $missing
}

function Invoke-Openssl {
    <#
    .SYNOPSIS
        Runs the openssl program to its end (bounded, stopped by its id if it hangs) and returns ExitCode, Out and Err;
        with -Require a failure throws with what openssl said.
    #>
    param(
        [Parameter(Mandatory, Position = 0)] [string[]] $ArgumentList,
        [string] $WorkingDirectory,
        [switch] $Require
    )
    $p = Start-TestProcess openssl $ArgumentList -WorkingDirectory $WorkingDirectory
    try {
        Wait-TestProcess $p -TimeoutSec 30
        $result = [pscustomobject]@{ ExitCode = $p.ExitCode; Out = $p.StdOut; Err = $p.StdErr }
    } finally {
        Stop-TestProcess $p
    }
    if ($Require -and $result.ExitCode -ne 0) { throw "openssl $($ArgumentList -join ' ') failed ($($result.ExitCode)): $($result.Err)" }
    $result
}

function Start-TrackedTlsServer {
    <#
    .SYNOPSIS
        Start-TlsTestServer that goes into the test file's $Servers list, which Clear-TlsTestState empties after each
        test.
    #>
    param([Parameter(Mandatory, Position = 0)] $Certificate, [Parameter(Position = 1)] [hashtable] $Protect = @{})
    $s = Start-TlsTestServer -Certificate $Certificate -Protect $Protect
    $Servers.Add($s)
    $s
}

function Connect-Tls {
    # Connect-Socket -UseTls to a Start-TrackedTlsServer with the given TLS parameters; the socket goes into $Opened.
    param($Server, [hashtable] $Tls, [string] $ComputerName = 'localhost')
    $c = Connect-Socket -ComputerName $ComputerName -Port $Server.Port -UseTls @Tls -TimeoutSec 10 -ErrorAction Stop
    $Opened.Add($c)
    $c
}

function Clear-TlsTestState {
    # After each test: stops the programs in $Started (by their id), closes the sockets in $Opened, removes the second
    # PowerShells in $Jobs and stops the test servers in $Servers, the lists of the test file that dot-sourced this one.
    $Started | Stop-TestProcess
    $Started.Clear()
    $Opened | Close-Socket
    $Opened.Clear()
    $Jobs | Remove-SecondPowerShell
    $Jobs.Clear()
    $Servers | Stop-TlsTestServer
    $Servers.Clear()
}

<#
.SYNOPSIS
    Helpers shared by the Start-SocketRelay test files: a test certificate, relays stopped after each test and one
    python3 echo server (peer programs, free ports and Test-Listening come from tools/DevTools.psm1). Dot-source in BeforeAll, after Common.ps1 and
    Certificates.ps1 and the module import; call Stop-RelayTestPeers in AfterAll.
#>
$script:ServerCert = New-TestCertificate
$script:Folder = Join-Path ([System.IO.Path]::GetTempPath()) "sc-relay-$PID"
$null = New-Item -ItemType Directory -Force -Path $Folder
$script:Serial = 0
$script:Python = Get-Command python3 -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
$script:Socat = Get-Command socat -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
$script:OpenSsl = Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
$script:Peers = Join-Path $PSScriptRoot 'RelayPeers.py'

$script:Opened = [System.Collections.Generic.List[object]]::new()
$script:Relays = [System.Collections.Generic.List[object]]::new()
function Use-Socket {
    param([Parameter(ValueFromPipeline)] $Socket)
    process { if ($null -ne $Socket) { $Opened.Add($Socket); $Socket } }
}

function Start-TestRelay {
    # Start-SocketRelay on a free loopback port; the relay is stopped and removed after the test.
    param([hashtable] $Relay)
    if (-not $Relay.ContainsKey('ListenPath') -and -not $Relay.ContainsKey('ListenPort')) { $Relay.ListenPort = 0 }
    if (-not $Relay.ContainsKey('ListenPath') -and -not $Relay.ContainsKey('ListenAddress')) { $Relay.ListenAddress = '127.0.0.1' }
    $job = Start-SocketRelay @Relay -ErrorAction Stop
    $Relays.Add($job)
    $job
}

function Receive-Session {
    # Waits (bounded) until the relay has reported -Count sessions and returns them.
    param([Parameter(Mandatory)] $Job, [int] $Count = 1)
    $all = [System.Collections.Generic.List[object]]::new()
    Wait-Until -TimeoutSec 20 -Because "$Count session(s) from the relay" {
        foreach ($s in @($Job | Receive-Job)) { $all.Add($s) }
        $all.Count -ge $Count
    }
    $all.ToArray()
}

function New-SocketPath {
    $script:Serial++
    Join-Path ([System.IO.Path]::GetTempPath()) "sc-relay-$PID-$Serial.sock"
}

function Get-DescriptorTarget {
    # What this process's descriptors point at (Linux), for a message that says which ones were left open.
    if (-not (Test-Path /proc/self/fd)) { return @() }
    @(Get-ChildItem /proc/self/fd -ErrorAction SilentlyContinue | ForEach-Object { "$($_.LinkTarget)" })
}

function Get-RelayThread {
    # The names of this process's threads that belong to relays (Linux shows thread names in /proc).
    if (-not (Test-Path /proc/self/task)) { return @() }
    @(Get-ChildItem /proc/self/task -ErrorAction SilentlyContinue | ForEach-Object {
            Get-Content (Join-Path $_.FullName 'comm') -ErrorAction SilentlyContinue } | Where-Object { $_ -like 'SocketRelay*' })
}

# One python echo server for the tests that need a target that answers.
if ($Python) {
    $script:Echo = Start-TestProcess $Python.Source @($Peers, 'echo-server') -RedirectInput -KeepStreams
    $script:EchoPort = [int]$Echo.StandardOutput.ReadLine()
}

function Stop-RelayTestPeers {
    # Stops what this file started: the relays left, the echo server (by its id), the temporary folder.
    foreach ($job in $Relays) { $job | Stop-Job; $job | Remove-Job -Force -ErrorAction SilentlyContinue }
    if ($Python) { Stop-TestProcess $Echo -GraceSec 5 }
    Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction Ignore
}

function Clear-RelayTestState {
    # After each test: closes the sockets it opened and stops and removes the relays it started.
    $Opened | Close-Socket
    $Opened.Clear()
    foreach ($job in $Relays) { $job | Stop-Job; $job | Remove-Job -Force -ErrorAction SilentlyContinue }
    $Relays.Clear()
}

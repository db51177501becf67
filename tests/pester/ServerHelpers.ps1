<#
.SYNOPSIS
    Helpers of the Start-SocketServer tests. Dot-source this file in BeforeAll, after Common.ps1 and the module.
#>

function New-Client {
    # A client of 127.0.0.1:<Port>, from -From (another loopback address) when given.
    param([int] $Port, [string] $From)
    if ($From) {
        New-Socket -AddressFamily InterNetwork | Register-SocketBinding -Address $From -Port 0 |
            Connect-Socket -ComputerName 127.0.0.1 -Port $Port -TimeoutSec 5 -ErrorAction Stop
    } else {
        Connect-Socket -ComputerName 127.0.0.1 -Port $Port -TimeoutSec 5 -ErrorAction Stop
    }
}

function Get-JobText {
    # What the job wrote so far, kept for later calls, as strings.
    param($Job)
    @($Job | Receive-Job -Keep -ErrorAction SilentlyContinue | ForEach-Object { "$_" })
}

function Test-EndOfStream {
    # True when the server closed the client's connection: a receive ends without data (or with a reset).
    param($Client)
    try {
        $rest = @($Client | Receive-SocketData -ToEnd -TimeoutSec 10 -ErrorAction Stop)
        $rest.Count -eq 0
    } catch {
        $_.FullyQualifiedErrorId -like 'ConnectionReset*'
    }
}

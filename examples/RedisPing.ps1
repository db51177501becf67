<#
.SYNOPSIS
    Speaks RESP to a Redis server: PING, then SET and GET of a binary value.
.EXAMPLE
    ./examples/RedisPing.ps1 -Port 6379
#>
param(
    [string] $ComputerName = '127.0.0.1',
    [ValidateRange(1, 65535)] [int] $Port = 6379,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SocketCmdlets')
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

function Send-Resp($Socket, [object[]] $Arguments) {
    # A RESP array of bulk strings; byte[] arguments go as they are.
    $parts = [System.Collections.Generic.List[byte]]::new()
    $ascii = [Text.Encoding]::ASCII
    $parts.AddRange($ascii.GetBytes("*$($Arguments.Count)`r`n"))
    foreach ($a in $Arguments) {
        [byte[]] $bytes = if ($a -is [byte[]]) { $a } else { [Text.Encoding]::UTF8.GetBytes("$a") }
        $parts.AddRange($ascii.GetBytes("`$$($bytes.Length)`r`n"))
        $parts.AddRange($bytes)
        $parts.AddRange($ascii.GetBytes("`r`n"))
    }
    , $parts.ToArray() | Send-SocketData -Socket $Socket
}

function Receive-Resp($Socket) {
    # Simple replies (+OK, -ERR, :1) are one line; a bulk string is its length line, the bytes and a CRLF.
    $line = $Socket | Receive-SocketData -Line -Encoding ascii -TimeoutSec 5
    switch ($line[0]) {
        '$' {
            $length = [int]$line.Substring(1)
            if ($length -lt 0) { return $null }
            $data = $Socket | Receive-SocketData -ByteCount ($length + 2) -AsByteStream -TimeoutSec 5
            return , $data[0..($length - 1)]
        }
        default { return $line }
    }
}

$redis = Connect-Socket -ComputerName $ComputerName -Port $Port -TimeoutSec 5
try {
    Send-Resp $redis @('PING')
    "PING -> $(Receive-Resp $redis)"
    $value = [byte[]](0, 1, 2, 255, 13, 10, 128)
    Send-Resp $redis @('SET', 'socketcmdlets:binary', $value)
    "SET -> $(Receive-Resp $redis)"
    Send-Resp $redis @('GET', 'socketcmdlets:binary')
    $back = Receive-Resp $redis
    "GET -> $(($back | ForEach-Object { $_.ToString('x2') }) -join ' ') (same bytes: $([Linq.Enumerable]::SequenceEqual([byte[]]$back, $value)))"
} finally {
    $redis | Close-Socket
}

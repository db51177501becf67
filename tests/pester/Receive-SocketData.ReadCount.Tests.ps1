BeforeAll {
    Set-StrictMode -Version Latest
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $env:SOCKETCMDLETS_MODULE_PATH

    $CommandName = 'SocketCmdlets.Commands.ReceiveSocketDataCommand'

    function New-ObjectList {
        # A list to collect pipeline output into: PowerShell would unroll the arrays in an assignment, a list keeps
        # each array whole ($list.Add($_) in ForEach-Object).
        , [System.Collections.Generic.List[object]]::new()
    }

    function Join-Batches {
        # The records of all the arrays, in order, as one list.
        param([Parameter(Mandatory)] [AllowEmptyCollection()] [System.Collections.Generic.List[object]] $Batches)
        $all = [System.Collections.Generic.List[object]]::new()
        foreach ($batch in $Batches) { $all.AddRange([object[]] $batch) }
        , $all
    }

    function Wait-Arrived {
        # Waits (bounded) until the kernel holds at least this many unread bytes for the socket.
        param($Socket, [int] $Bytes)
        Wait-Until -TimeoutSec 10 -Because "$Bytes bytes to arrive on socket $($Socket.Id)" { $Socket.Socket.Available -ge $Bytes }
    }
}

AfterAll {
    Get-Socket | Close-Socket
}

Describe 'Receive-SocketData -ReadCount' -Tag 'ReceiveSocketData', 'ReadCount' {
    BeforeEach {
        $pair = New-ConnectedPair
        $client = $pair.Client
        $peer = $pair.Peer
        $job = $null
    }

    AfterEach {
        Remove-SecondPowerShell $job
        Get-Socket | Close-Socket
    }

    Context 'Arrays of records' {
        It 'writes 50,000 lines with -ToEnd -ReadCount 1000 as string[] arrays of at most 1000, all lines in order' {
            $lines = [string[]] (1..50000 | ForEach-Object { "line $_" })
            $text = ($lines -join "`n") + "`n"
            $job = Start-SecondPowerShell -ArgumentList $client, $text {
                param($s, $data)
                Send-SocketData -Socket $s -Data $data -TimeoutSec 20 -ErrorAction Stop
                $s | Close-Socket -Direction Send
            }
            $batches = New-ObjectList
            $peer | Receive-SocketData -Line -ToEnd -ReadCount 1000 -TimeoutSec 20 | ForEach-Object { $batches.Add($_) }
            $null = Wait-SecondPowerShell $job -TimeoutSec 20
            $job.PowerShell.Streams.Error | Should -BeNullOrEmpty

            $batches.Count | Should -BeGreaterOrEqual 50
            $batches.Count | Should -BeLessThan 50000 -Because 'the lines come in arrays, not one by one'
            foreach ($batch in $batches) {
                $batch -is [string[]] | Should -BeTrue -Because "each array is a string[], not $($batch.GetType())"
                $batch.Count | Should -BeGreaterThan 0
                $batch.Count | Should -BeLessOrEqual 1000
            }
            ($batches | ForEach-Object { $_.Count } | Measure-Object -Maximum).Maximum | Should -Be 1000 -Because 'arrays fill up to -ReadCount when the lines are there'
            $all = Join-Batches $batches
            $all.Count | Should -Be 50000
            ($all -join "`n") | Should -BeExactly ($lines -join "`n")
        }

        It 'puts every line that has arrived into one array with -ToEnd -ReadCount 0' {
            $lines = [string[]] (1..300 | ForEach-Object { "record $_" })
            $text = ($lines -join "`n") + "`n"
            $text | Send-SocketData -Socket $client
            $client | Close-Socket -Direction Send
            Wait-Arrived $peer $text.Length
            $batches = New-ObjectList
            $peer | Receive-SocketData -Line -ToEnd -ReadCount 0 -TimeoutSec 5 | ForEach-Object { $batches.Add($_) }
            $batches.Count | Should -Be 1 -Because 'all 300 lines had arrived before the call'
            $batches[0] -is [string[]] | Should -BeTrue
            $batches[0] | Should -BeExactly $lines
        }

        It 'writes a stream of lines with -ToEnd -ReadCount 0 in arrays that hold them all, in order' {
            $lines = [string[]] (1..20000 | ForEach-Object { "streamed $_" })
            $job = Start-SecondPowerShell -ArgumentList $client, (($lines -join "`n") + "`n") {
                param($s, $data)
                Send-SocketData -Socket $s -Data $data -TimeoutSec 20 -ErrorAction Stop
                $s | Close-Socket -Direction Send
            }
            $batches = New-ObjectList
            $peer | Receive-SocketData -Line -ToEnd -ReadCount 0 -TimeoutSec 20 | ForEach-Object { $batches.Add($_) }
            $null = Wait-SecondPowerShell $job -TimeoutSec 20
            $batches.Count | Should -BeLessThan 20000
            foreach ($batch in $batches) { $batch -is [string[]] | Should -BeTrue }
            $all = Join-Batches $batches
            $all.Count | Should -Be 20000
            ($all -join "`n") | Should -BeExactly ($lines -join "`n")
        }

        It 'writes -Count 5 -ReadCount 2 as arrays of 2, 2 and 1, and leaves the next line' {
            "one`ntwo`nthree`nfour`nfive`nsix`n" | Send-SocketData -Socket $client
            Wait-Arrived $peer 28
            $batches = New-ObjectList
            $peer | Receive-SocketData -Line -Count 5 -ReadCount 2 -TimeoutSec 5 | ForEach-Object { $batches.Add($_) }
            @($batches | ForEach-Object { $_.Count }) | Should -Be 2, 2, 1
            foreach ($batch in $batches) { $batch -is [string[]] | Should -BeTrue }
            $batches[0] | Should -BeExactly 'one', 'two'
            $batches[1] | Should -BeExactly 'three', 'four'
            $batches[2] | Should -BeExactly @('five')
            $peer | Receive-SocketData -Line -TimeoutSec 5 | Should -BeExactly 'six'
        }

        It 'groups records ended by -Delimiter' {
            'a;bb;;ccc;rest' | Send-SocketData -Socket $client
            Wait-Arrived $peer 14
            $batches = New-ObjectList
            $peer | Receive-SocketData -Delimiter ';' -Count 4 -ReadCount 3 -TimeoutSec 5 | ForEach-Object { $batches.Add($_) }
            $batches.Count | Should -Be 2
            $batches[0] -is [string[]] | Should -BeTrue
            $batches[0] | Should -BeExactly 'a', 'bb', ''
            $batches[1] | Should -BeExactly @('ccc')
            $peer | Receive-SocketData -ByteCount 4 -TimeoutSec 5 | Should -BeExactly 'rest'
        }

        It 'writes byte[][] arrays with the bytes of each record with -AsByteStream' {
            "ab`r`ncd`n`n" | Send-SocketData -Socket $client
            Send-SocketData -Socket $client -Data ([byte[]](0x00, 0xFF, 0x0A))
            $batches = New-ObjectList
            $peer | Receive-SocketData -Line -Count 4 -ReadCount 10 -AsByteStream -TimeoutSec 5 | ForEach-Object { $batches.Add($_) }
            $batches.Count | Should -BeGreaterOrEqual 1
            foreach ($batch in $batches) { $batch -is [byte[][]] | Should -BeTrue -Because "each array is a byte[][], not $($batch.GetType())" }
            $all = Join-Batches $batches
            $all.Count | Should -Be 4
            foreach ($record in $all) { $record.GetType() | Should -Be ([byte[]]) }
            ConvertTo-Hex $all[0] | Should -Be '61 62'
            ConvertTo-Hex $all[1] | Should -Be '63 64'
            $all[2].Length | Should -Be 0
            ConvertTo-Hex $all[3] | Should -Be '00 FF'
        }

        It 'writes the last record without a terminator at end of stream into an array' {
            "x`ny`nlast" | Send-SocketData -Socket $client
            $client | Close-Socket -Direction Send
            $batches = New-ObjectList
            $peer | Receive-SocketData -Line -ToEnd -ReadCount 10 -TimeoutSec 5 | ForEach-Object { $batches.Add($_) }
            foreach ($batch in $batches) { $batch -is [string[]] | Should -BeTrue }
            (Join-Batches $batches) | Should -BeExactly 'x', 'y', 'last'
        }

        It 'writes one string per record with -ReadCount 1, as without it' {
            "p`nq`n" | Send-SocketData -Socket $client
            $records = New-ObjectList
            $peer | Receive-SocketData -Line -Count 2 -ReadCount 1 -TimeoutSec 5 | ForEach-Object { $records.Add($_) }
            $records.Count | Should -Be 2
            foreach ($record in $records) {
                $record | Should -BeOfType ([string])
                $record -is [array] | Should -BeFalse
            }
            $records | Should -BeExactly 'p', 'q'
        }
    }

    Context 'Records that run out' {
        It 'returns -Count 3 -ReadCount 100 as one array of 3 without waiting for 100' {
            "l1`nl2`nl3`n" | Send-SocketData -Socket $client
            Wait-Arrived $peer 9
            $batches = New-ObjectList
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $peer | Receive-SocketData -Line -Count 3 -ReadCount 100 -TimeoutSec 5 | ForEach-Object { $batches.Add($_) }
            $clock.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 3
            $batches.Count | Should -Be 1
            $batches[0] -is [string[]] | Should -BeTrue
            $batches[0] | Should -BeExactly 'l1', 'l2', 'l3'
        }

        It 'writes a partial array as soon as the lines that have arrived are used up, while it waits for more' {
            $arrays = [System.Collections.Concurrent.ConcurrentQueue[object]]::new()
            $job = Start-SecondPowerShell -ArgumentList $peer, $arrays {
                param($s, $queue)
                $s | Receive-SocketData -Line -ToEnd -ReadCount 100 -TimeoutSec 20 -ErrorAction Stop | ForEach-Object { $queue.Enqueue($_) }
            }
            "s1`ns2`ns3`n" | Send-SocketData -Socket $client
            Wait-Until -TimeoutSec 10 -Because 'the three lines to be written before more come' {
                (@($arrays.ToArray() | ForEach-Object { $_.Count }) | Measure-Object -Sum).Sum -ge 3
            }
            $job.PowerShell.InvocationStateInfo.State | Should -Be 'Running' -Because 'the receiver still waits for the end of the stream'
            $first = @($arrays.ToArray())
            foreach ($batch in $first) { $batch -is [string[]] | Should -BeTrue }
            @($first | ForEach-Object { $_ }) | Should -BeExactly 's1', 's2', 's3'

            "s4`ns5`n" | Send-SocketData -Socket $client
            $client | Close-Socket -Direction Send
            $null = Wait-SecondPowerShell $job -TimeoutSec 20
            $job.PowerShell.Streams.Error | Should -BeNullOrEmpty
            $all = @($arrays.ToArray())
            $all.Count | Should -BeGreaterThan $first.Count -Because 'the later lines come in a later array'
            @($all | ForEach-Object { $_ }) | Should -BeExactly 's1', 's2', 's3', 's4', 's5'
        }

        It 'writes the records received before a ReceiveTimeout as an array, before the error' {
            "one`ntwo`n" | Send-SocketData -Socket $client
            Wait-Arrived $peer 8
            $merged = New-ObjectList
            $peer | Receive-SocketData -Line -Count 5 -ReadCount 10 -TimeoutSec 1 -ErrorAction Continue 2>&1 | ForEach-Object { $merged.Add($_) }
            $merged.Count | Should -Be 2
            $merged[0] -is [string[]] | Should -BeTrue
            $merged[0] | Should -BeExactly 'one', 'two'
            $merged[1] | Should -BeOfType ([System.Management.Automation.ErrorRecord])
            $merged[1].FullyQualifiedErrorId | Should -Be "ReceiveTimeout,$CommandName"
        }

        It 'writes the records gathered before a RecordTooLong as an array, before the error' {
            "one`ntwo`n$('x' * 20)`n" | Send-SocketData -Socket $client
            Wait-Arrived $peer 29
            $merged = New-ObjectList
            $peer | Receive-SocketData -Line -Count 5 -ReadCount 10 -MaxRecordLength 8 -TimeoutSec 5 -ErrorAction Continue 2>&1 | ForEach-Object { $merged.Add($_) }
            $merged.Count | Should -Be 2
            $merged[0] -is [string[]] | Should -BeTrue
            $merged[0] | Should -BeExactly 'one', 'two'
            $merged[1].FullyQualifiedErrorId | Should -Be "RecordTooLong,$CommandName"
        }
    }

    Context 'Parameters and output type' {
        It 'rejects -ReadCount without -Line or -Delimiter as ConflictingParameters<Label>' -ForEach @(
            @{ Label = ''; Extra = @{} }
            @{ Label = ' (with -ToEnd)'; Extra = @{ ToEnd = $true } }
            @{ Label = ' (with -AsByteStream)'; Extra = @{ AsByteStream = $true } }
        ) {
            'kept' | Send-SocketData -Socket $client
            { $peer | Receive-SocketData -ReadCount 10 -TimeoutSec 1 @Extra -ErrorAction Stop } |
                Should -Throw -ErrorId "ConflictingParameters,$CommandName"
            $peer | Receive-SocketData -ByteCount 4 -TimeoutSec 5 | Should -BeExactly 'kept' -Because 'nothing was received'
        }

        It 'rejects a negative -ReadCount' {
            { $peer | Receive-SocketData -Line -ReadCount -1 -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId "ParameterArgumentValidationError,$CommandName"
        }

        It 'declares string[] and byte[][] among its output types' {
            $types = @((Get-Command Receive-SocketData -Module SocketCmdlets -ErrorAction Stop).OutputType.Type)
            $types | Should -Contain ([string[]])
            $types | Should -Contain ([byte[][]])
        }
    }
}

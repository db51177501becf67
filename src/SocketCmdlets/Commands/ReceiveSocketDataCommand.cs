using System;
using System.IO;
using System.Management.Automation;
using System.Text;

namespace SocketCmdlets.Commands
{
    /// <summary>recv(): receives text, bytes, records or a whole stream from a connected socket.</summary>
    [Cmdlet(VerbsCommunications.Receive, "SocketData", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(string), typeof(byte[]), typeof(SocketDatagram), typeof(string[]), typeof(byte[][]))]
    [Alias("rcsd")]
    public sealed class ReceiveSocketDataCommand : SocketCommandBase
    {
        /// <summary>The default -MaxRecordLength: 1 MiB.</summary>
        public const int DefaultMaxRecordLength = 1024 * 1024;

        private string _outFile;

        /// <summary>The connected socket to receive from.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = SocketSet)]
        [ValidateNotNull]
        public NetSocket Socket { get; set; }

        /// <summary>The id of the connected socket to receive from.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int Id { get; set; }

        /// <summary>The name of the socket to receive from; wildcards allowed, as long as they match one socket.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SocketNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>How bytes are decoded: a name such as utf8 (the default) or ascii, a code page or an Encoding.</summary>
        [Parameter]
        [EncodingTransformation]
        [ArgumentCompleter(typeof(EncodingCompleter))]
        public Encoding Encoding { get; set; } = TextEncoding.Default;

        /// <summary>Writes byte arrays instead of strings.</summary>
        [Parameter]
        public SwitchParameter AsByteStream { get; set; }

        /// <summary>Receives lines: one string per line, without its "`n" or "`r`n".</summary>
        [Parameter]
        public SwitchParameter Line { get; set; }

        /// <summary>Receives records ended by this string: one string per record, without the delimiter.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Delimiter { get; set; }

        /// <summary>How many receives (or records, with -Line or -Delimiter) to write; 1 by default.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Count { get; set; } = 1;

        /// <summary>Receives exactly this many bytes (fewer only if the peer closes first).</summary>
        [Parameter]
        [ValidateRange(1, long.MaxValue)]
        public long ByteCount { get; set; }

        /// <summary>Receives until the peer closes, writing each chunk or record as it arrives (UDP: every datagram until Ctrl+C, a timeout or the socket closes).</summary>
        [Parameter]
        [Alias("Continuous")]
        public SwitchParameter ToEnd { get; set; }

        /// <summary>Writes what is received to this file (until the peer closes, or -ByteCount bytes), with a progress bar.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string OutFile { get; set; }

        /// <summary>Seconds to wait for data each time none is there; 0 (the default) waits without limit.</summary>
        [Parameter]
        [ValidateRange(0.0, (double)int.MaxValue)]
        public double TimeoutSec { get; set; }

        /// <summary>
        /// Seconds without data after which the call ends quietly (no error): "serve until idle". Like -TimeoutSec, it
        /// applies to each wait; it cannot be combined with -TimeoutSec.
        /// </summary>
        [Parameter]
        [ValidateRange(0.0, (double)int.MaxValue)]
        public double IdleTimeoutSec { get; set; }

        /// <summary>
        /// Takes only what has already arrived (whole records with -Line or -Delimiter) and returns at once, with nothing
        /// when nothing is there: for select() loops (Wait-Socket) that must not block on one slow client.
        /// </summary>
        [Parameter]
        public SwitchParameter Available { get; set; }

        /// <summary>The longest record -Line or -Delimiter accepts, in bytes (1 MiB by default).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue / 2)]
        public int MaxRecordLength { get; set; } = DefaultMaxRecordLength;

        /// <summary>With -Line or -Delimiter: writes the records in arrays of up to this many (0: as many as have arrived) instead of one object each.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int ReadCount { get; set; } = 1;

        private bool Records => Line.IsPresent || Delimiter != null;

        // -ReadCount other than 1: the records gathered for the next array (List<string>, or List<byte[]> with -AsByteStream).
        private System.Collections.IList _batch;

        protected override void BeginProcessing()
        {
            if (Line.IsPresent && Delimiter != null)
            {
                ThrowParameterError("ConflictingParameters", "Use -Line or -Delimiter, not both.");
            }

            ErrorRecord unencodable = RecordChecks.Unencodable(Delimiter, nameof(Delimiter), Encoding);
            if (unencodable != null)
            {
                ThrowTerminatingError(unencodable);
            }

            if (IsBound(nameof(Count)) && ToEnd.IsPresent)
            {
                ThrowParameterError("ConflictingParameters", "Use -Count or -ToEnd, not both.");
            }

            if (IsBound(nameof(IdleTimeoutSec)) && IsBound(nameof(TimeoutSec)))
            {
                ThrowParameterError("ConflictingParameters", "Use -TimeoutSec (a wait that passes is an error) or -IdleTimeoutSec (it ends the output quietly), not both.");
            }

            if (Available.IsPresent && (IsBound(nameof(TimeoutSec)) || IsBound(nameof(IdleTimeoutSec)) || ToEnd.IsPresent || IsBound(nameof(ByteCount)) || OutFile != null))
            {
                ThrowParameterError("ConflictingParameters", "-Available takes what has already arrived without waiting; it does not combine with -TimeoutSec, -IdleTimeoutSec, -ToEnd, -ByteCount or -OutFile.");
            }

            if (IsBound(nameof(ByteCount)) && (Records || ToEnd.IsPresent || IsBound(nameof(Count))))
            {
                ThrowParameterError("ConflictingParameters", "-ByteCount reads a fixed number of bytes; it does not combine with -Line, -Delimiter, -Count or -ToEnd.");
            }

            if (IsBound(nameof(ReadCount)) && !Records)
            {
                ThrowParameterError("ConflictingParameters", "-ReadCount groups records: use it with -Line or -Delimiter.");
            }

            if (ReadCount != 1)
            {
                _batch = AsByteStream.IsPresent ? (System.Collections.IList)new System.Collections.Generic.List<byte[]>() : new System.Collections.Generic.List<string>();
            }

            if (OutFile != null && (Records || IsBound(nameof(Count)) || AsByteStream.IsPresent))
            {
                ThrowParameterError("ConflictingParameters", "-OutFile writes raw bytes to a file; it does not combine with -Line, -Delimiter, -Count or -AsByteStream.");
            }

            if (IsBound(nameof(ByteCount)) && OutFile == null && ByteCount > int.MaxValue / 2)
            {
                ThrowParameterError("ByteCountTooLarge", "A -ByteCount over 1 GiB cannot be held in one object; add -OutFile to write it to a file.");
            }

            if (OutFile != null)
            {
                _outFile = GetUnresolvedProviderPathFromPSPath(OutFile);
                string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_outFile));
                if (Directory.Exists(_outFile))
                {
                    ThrowTerminatingError(ErrorFactory.Create(new IOException($"'{_outFile}' is a directory."),
                        "PathIsDirectory", ErrorCategory.InvalidArgument, OutFile, $"Cannot write '{OutFile}': it is a directory. Give a file path for -OutFile."));
                }

                if (!Directory.Exists(folder))
                {
                    ThrowTerminatingError(ErrorFactory.Create(new DirectoryNotFoundException($"The folder '{folder}' does not exist."),
                        "FileNotFound", ErrorCategory.ObjectNotFound, OutFile, $"Cannot write '{OutFile}': the folder '{folder}' does not exist."));
                }
            }
        }

        protected override void ProcessRecord()
        {
            NetSocket socket = ResolveSocket(Socket, Id);
            if (socket == null)
            {
                return;
            }

            string from = Peer(socket);
            if (VerboseEnabled)
            {
                WriteVerbose($"Waiting for data from {from}{(TimeoutSec > 0 ? $", timeout {Seconds(TimeoutSec)}" : string.Empty)}.");
            }

            long before = socket.BytesReceived;
            bool endedBefore = socket.EndOfStream;
            // -Available looks once (a zero timeout) and takes all that is there; -IdleTimeoutSec waits like
            // -TimeoutSec. Either way a wait that passes ends the output quietly.
            bool quietTimeout = Available.IsPresent || IsBound(nameof(IdleTimeoutSec));
            TimeSpan timeout = Available.IsPresent ? TimeSpan.Zero : IsBound(nameof(IdleTimeoutSec)) ? ToTimeout(IdleTimeoutSec) : TimeoutFor(socket, TimeoutSec, send: false);
            int count = ToEnd.IsPresent || (Available.IsPresent && !IsBound(nameof(Count))) ? -1 : Count;
            if (socket.Protocol == SocketProtocol.Udp)
            {
                ReceiveDatagrams(socket, count, timeout);
                return;
            }

            Try(() =>
            {
                if (_outFile != null)
                {
                    ReceiveFile(socket, timeout);
                }
                else if (IsBound(nameof(ByteCount)))
                {
                    byte[] bytes = socket.ReceiveExactly((int)ByteCount, timeout, StopToken);
                    if (bytes.Length < ByteCount)
                    {
                        WriteWarning($"The peer closed the connection after {bytes.Length} of {ByteCount} bytes.");
                    }

                    if (bytes.Length > 0)
                    {
                        WriteObject(AsByteStream.IsPresent ? (object)bytes : TextDecoder.Decode(Encoding, bytes));
                    }
                }
                else if (Records && _batch != null)
                {
                    try
                    {
                        socket.ReceiveRecords(new RecordReader(Encoding, Delimiter ?? "\n", Line.IsPresent, MaxRecordLength), count, timeout, StopToken, AddToBatch);
                    }
                    finally
                    {
                        // Records gathered before an error (a timeout, a reset) are written, not lost; after Ctrl+C nothing is.
                        if (!StopToken.IsCancellationRequested)
                        {
                            WriteBatch();
                        }
                    }
                }
                else if (Records)
                {
                    socket.ReceiveRecords(Encoding, Delimiter ?? "\n", Line.IsPresent, count, MaxRecordLength, timeout, StopToken, WriteRecord);
                }
                else if (AsByteStream.IsPresent)
                {
                    socket.ReceiveChunks(count, timeout, StopToken, WriteChunk);
                }
                else
                {
                    socket.ReceiveTextChunks(Encoding, count, timeout, StopToken, WriteText);
                }
            }, socket, $"receive from {from}", SocketOperation.Receive,
                quiet: e => quietTimeout && e is SocketTimeoutException t && t.Operation == SocketOperation.Receive && TransferFacts.Get(e, TransferFacts.BytesKept) == null);

            if (!endedBefore && socket.EndOfStream && socket.TlsTruncated)
            {
                // A TLS stream cut without close_notify is never a silent clean end: an error where the whole stream
                // was asked for (-ToEnd), a warning otherwise.
                const string cut = "the TLS stream ended without the peer's close_notify: the connection was cut, so what arrived may be incomplete.";
                if (ToEnd.IsPresent)
                {
                    WriteError(ErrorFactory.Create(new TlsTruncatedException(socket, null), "TlsTruncated", ErrorCategory.ProtocolError, socket,
                        $"Could not receive from {from} to the end: {cut} Treat the data as incomplete."));
                }
                else
                {
                    WriteWarning($"Socket {socket.Id}: {cut}");
                }
            }

            if (VerboseEnabled)
            {
                WriteVerbose($"Received {socket.BytesReceived - before} bytes from {from}{(socket.EndOfStream ? "; the peer has closed its side (end of stream)" : string.Empty)}.");
            }
        }

        private void ReceiveDatagrams(NetSocket socket, int count, TimeSpan timeout)
        {
            if (Records || IsBound(nameof(ByteCount)) || OutFile != null)
            {
                WriteError(ErrorFactory.Create(new System.NotSupportedException("Framing options are for stream sockets."), "ConflictingParameters", ErrorCategory.InvalidArgument, socket,
                    $"Socket {socket.Id} is UDP: each datagram is one object already. -Line, -Delimiter, -ByteCount and -OutFile are for stream sockets."));
                return;
            }

            Try(() => socket.ReceiveDatagrams(count, Encoding, timeout, StopToken, datagram =>
            {
                if (VerboseEnabled)
                {
                    WriteVerbose($"Received a datagram of {datagram.Length} bytes from {NetSocket.Format(datagram.RemoteEndPoint)} (socket {socket.Id}).");
                }

                WriteObject(AsByteStream.IsPresent ? (object)datagram.Data : datagram);
            }), socket, $"receive a datagram on {NetSocket.Format(socket.LocalEndPoint)} (socket {socket.Id})", SocketOperation.Receive,
                quiet: e => count < 0 && e is InvalidSocketStateException && socket.State == SocketState.Closed);
        }

        private void ReceiveFile(NetSocket socket, TimeSpan timeout)
        {
            long limit = IsBound(nameof(ByteCount)) ? ByteCount : -1;
            var progress = new ProgressReporter(this, $"Receiving {System.IO.Path.GetFileName(_outFile)} from {NetSocket.Format(socket.RemoteEndPoint)}", Math.Max(0, limit));
            // The file is created (or truncated) only once there is something to write, or at a clean end of stream.
            long received = socket.ReceiveTo(() => new FileStream(_outFile, FileMode.Create, FileAccess.Write, FileShare.Read, 1, FileOptions.SequentialScan),
                limit, timeout, StopToken, progress.Report);
            if (limit > 0 && received < limit)
            {
                WriteWarning($"The peer closed the connection after {received} of {limit} bytes.");
            }

            progress.Complete();
        }

        /// <summary>
        /// Gathers a record; the batch goes out when it is full, or when no other record is buffered (so nothing
        /// gathered waits behind a receive).
        /// </summary>
        private bool AddToBatch(byte[] buffer, int offset, int length, RecordFlags flags)
        {
            _batch.Add(Received(buffer, offset, length, AsByteStream.IsPresent, Encoding));
            if ((ReadCount > 0 && _batch.Count >= ReadCount) || (flags & RecordFlags.MoreBuffered) == 0)
            {
                WriteBatch();
            }

            return true;
        }

        /// <summary>Writes the gathered records as one array (string[], or byte[][] with -AsByteStream).</summary>
        private void WriteBatch()
        {
            if (_batch.Count == 0)
            {
                return;
            }

            var batch = Array.CreateInstance(AsByteStream.IsPresent ? typeof(byte[]) : typeof(string), _batch.Count);
            _batch.CopyTo(batch, 0);
            _batch.Clear();
            WriteObject(batch, enumerateCollection: false);
        }

        private void WriteRecord(byte[] buffer, int offset, int length) => WriteReceived(buffer, offset, length, AsByteStream.IsPresent, Encoding);

        private void WriteChunk(byte[] chunk) => WriteObject(chunk);

        private void WriteText(string text) => WriteObject(text);
    }
}

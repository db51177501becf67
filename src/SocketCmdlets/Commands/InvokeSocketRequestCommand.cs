using System;
using System.Management.Automation;
using System.Text;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// send() then recv() for every object from the pipeline: one call serves a whole request/response conversation,
    /// so a long exchange costs one pipeline object per request instead of two cmdlet calls.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "SocketRequest", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(string), typeof(byte[]), typeof(string[]))]
    public sealed partial class InvokeSocketRequestCommand : SocketCommandBase
    {
        private NetSocket _socket;
        private StreamSink _sink;
        private TimeSpan _receiveTimeout;
        private string _attempt;
        private string _delimiter;
        private bool _line;
        private int _partialReplyLines;
        private long _requests;
        private bool _verbose;

        /// <summary>The connected stream socket to converse on.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = SocketSet)]
        [ValidateNotNull]
        public NetSocket Socket { get; set; }

        /// <summary>The id of the connected stream socket to converse on.</summary>
        [Parameter(Mandatory = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int Id { get; set; }

        /// <summary>The name of the socket to send the request on; wildcards allowed, as long as they match one socket.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SocketNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>One request: a string (encoded), a byte array (as it is) or another object (as text). Each object from the pipeline is one request.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
        [AllowEmptyString]
        [Alias("InputObject")]
        public object Data { get; set; }

        /// <summary>The reply is one line (or -Count lines), without its "`n" or "`r`n".</summary>
        [Parameter]
        public SwitchParameter Line { get; set; }

        /// <summary>The reply is one record (or -Count records) ended by this string, without it.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Delimiter { get; set; }

        /// <summary>The reply is exactly this many bytes.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue / 2)]
        public int ByteCount { get; set; }

        /// <summary>With -Line or -Delimiter: how many records make one reply (1 by default); each is written as it arrives.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Count { get; set; } = 1;

        /// <summary>Adds a line ending (-NewLine, "`n" by default) after each string request.</summary>
        [Parameter]
        public SwitchParameter AppendNewLine { get; set; }

        /// <summary>The line ending -AppendNewLine adds: "`n" by default; "`r`n" for protocols such as SMTP and Redis.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string NewLine { get; set; } = "\n";

        /// <summary>How requests are encoded and replies decoded: a name such as utf8 (the default) or ascii, a code page or an Encoding.</summary>
        [Parameter]
        [EncodingTransformation]
        [ArgumentCompleter(typeof(EncodingCompleter))]
        public Encoding Encoding { get; set; } = TextEncoding.Default;

        /// <summary>Writes each reply as a byte array instead of a string.</summary>
        [Parameter]
        public SwitchParameter AsByteStream { get; set; }

        /// <summary>Seconds to wait for each reply (and for room to send each request); 0 waits without limit. Default: the socket's own timeouts.</summary>
        [Parameter]
        [ValidateRange(0.0, (double)int.MaxValue)]
        public double TimeoutSec { get; set; }

        /// <summary>
        /// A reply of several lines: lines (or -Delimiter records) are gathered until one matches this regular expression,
        /// and the reply is written as one string[] of its lines. SMTP: '^\d{3} '. Implies -Line without -Delimiter.
        /// </summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string ReplyPattern { get; set; }

        /// <summary>
        /// A reply of several lines: called after each line with the lines so far (as $args[0] and $_); the reply is
        /// complete when it returns $true, and is written as one string[]. Redis: { $args[0][0] -notmatch '^\$\d' -or $args[0].Count -eq 2 }.
        /// Implies -Line without -Delimiter.
        /// </summary>
        [Parameter]
        [ValidateNotNull]
        public ScriptBlock ReplyUntil { get; set; }

        /// <summary>With -ReplyPattern or -ReplyUntil: the most lines one reply may have (10,000 by default); a longer reply ends the call with ReplyTooLong.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxReplyLines { get; set; } = DefaultMaxReplyLines;

        /// <summary>The longest record -Line or -Delimiter accepts, in bytes (1 MiB by default).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue / 2)]
        public int MaxRecordLength { get; set; } = ReceiveSocketDataCommand.DefaultMaxRecordLength;

        protected override void BeginProcessing()
        {
            if (Line.IsPresent && Delimiter != null)
            {
                ThrowParameterError("ConflictingParameters", "Use -Line or -Delimiter, not both.");
            }

            if (IsBound(nameof(ByteCount)) && (Line.IsPresent || Delimiter != null || IsBound(nameof(Count))))
            {
                ThrowParameterError("ConflictingParameters", "-ByteCount reads a reply of a fixed size; it does not combine with -Line, -Delimiter or -Count.");
            }

            if (IsBound(nameof(Count)) && !Line.IsPresent && Delimiter == null)
            {
                ThrowParameterError("ConflictingParameters", "-Count is the number of records in a reply: use it with -Line or -Delimiter.");
            }

            CheckReplyParameters();
            ErrorRecord unencodable = RecordChecks.Unencodable(Delimiter, nameof(Delimiter), Encoding)
                ?? (AppendNewLine.IsPresent ? RecordChecks.Unencodable(NewLine, nameof(NewLine), Encoding) : null);
            if (unencodable != null)
            {
                ThrowTerminatingError(unencodable);
            }

            _socket = ResolveSocket(Socket, Id);
            if (_socket == null)
            {
                // SocketNotFound was written; every request is then skipped.
                return;
            }

            if (_socket.Protocol != SocketProtocol.Tcp)
            {
                ThrowTerminatingError(ErrorFactory.Create(new NotSupportedException("Invoke-SocketRequest needs a stream socket."), "ConflictingParameters", ErrorCategory.InvalidArgument, _socket,
                    $"Socket {_socket.Id} is UDP. Invoke-SocketRequest converses over a connected stream socket; for datagrams use Send-SocketData and Receive-SocketData."));
            }

            _verbose = VerboseEnabled;
            _receiveTimeout = TimeoutFor(_socket, TimeoutSec, send: false);
            _sink = new StreamSink(_socket, new PayloadEncoder(Encoding, AppendNewLine.IsPresent ? NewLine : null), TimeoutFor(_socket, TimeoutSec, send: true), StopToken, null, background: false);
            _line = Line.IsPresent || (WholeReplies && Delimiter == null);
            _delimiter = _line ? "\n" : Delimiter;
            _attempt = $"exchange a request and its reply with {Peer(_socket)}";
        }

        protected override void ProcessRecord()
        {
            if (_socket == null)
            {
                return;
            }

            object data = Data is PSObject ps ? ps.BaseObject : Data;
            if (data is NetSocket)
            {
                WriteError(ErrorFactory.Create(new ArgumentException("The request is a socket."), "DataIsSocket", ErrorCategory.InvalidArgument, data,
                    "The request is a socket object. Name the socket with -Socket and pipe the requests."));
                return;
            }

            long number = ++_requests;
            long sentBefore = _socket.BytesSent;
            long receivedBefore = _socket.BytesReceived;
            bool answered = false;

            // A failed exchange is the end of the call: a reply may still be on its way, and the next request must not
            // be matched with it.
            try
            {
                Try(() =>
                {
                    // The request and its reply are one exchange: no other runspace's request or read comes between.
                    using (_socket.EnterExchange(_receiveTimeout, StopToken))
                    {
                        _sink.Write(data);
                        _sink.Flush();
                        answered = WholeReplies ? ReceiveWholeReply(number) : ReceiveReply();
                    }
                }, _socket, _attempt, SocketOperation.Receive, terminating: true);
            }
            finally
            {
                if (_verbose && !StopToken.IsCancellationRequested)
                {
                    WriteVerbose($"Request {number}: sent {_socket.BytesSent - sentBefore} bytes to {Peer(_socket)}; received {_socket.BytesReceived - receivedBefore} bytes{(answered ? string.Empty : _socket.EndOfStream ? " and the end of the stream" : ", and no whole reply")}.");
                }
            }

            ThrowIfReplyFailed();
            if (!answered)
            {
                // The conversation is over: later requests would have nobody to answer them, so the call stops here.
                ThrowTerminatingError(ErrorFactory.Create(new System.IO.EndOfStreamException("The peer closed the connection."), "NoReply", ErrorCategory.ReadError, data,
                    $"Request {number}: {Peer(_socket)} closed the connection before its whole reply arrived ({_socket.BytesReceived - receivedBefore} bytes of it came{(WholeReplies ? $", {_partialReplyLines} whole line(s)" : string.Empty)}). Later requests were not sent."));
            }
        }

        /// <summary>Receives one reply and writes it; false when the peer closed the connection before it was whole.</summary>
        private bool ReceiveReply()
        {
            if (IsBound(nameof(ByteCount)))
            {
                byte[] bytes = _socket.ReceiveExactly(ByteCount, _receiveTimeout, StopToken);
                if (bytes.Length == ByteCount)
                {
                    WriteObject(AsByteStream.IsPresent ? (object)bytes : TextDecoder.Decode(Encoding, bytes));
                    return true;
                }

                return false;
            }

            if (_delimiter != null)
            {
                // A last record without its terminator is not a whole reply.
                return _socket.ReceiveRecords(new RecordReader(Encoding, _delimiter, _line, MaxRecordLength), Count, _receiveTimeout, StopToken,
                    WholeRecord(WriteRecord)) == Count;
            }

            // No framing: the reply is what one receive brings.
            return AsByteStream.IsPresent
                ? _socket.ReceiveChunks(1, _receiveTimeout, StopToken, WriteObject) == 1
                : _socket.ReceiveTextChunks(Encoding, 1, _receiveTimeout, StopToken, WriteObject) == 1;
        }

        private void WriteRecord(byte[] buffer, int offset, int length) => WriteReceived(buffer, offset, length, AsByteStream.IsPresent, Encoding);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _sink?.Dispose();
                _sink = null;
            }

            base.Dispose(disposing);
        }
    }
}

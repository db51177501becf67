using System;
using System.Management.Automation;
using System.Net;
using System.Text;

namespace SocketCmdlets.Commands
{
    /// <summary>send(): sends strings, bytes or a file over a connected socket.</summary>
    [Cmdlet(VerbsCommunications.Send, "SocketData", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(NetSocket))]
    [Alias("sdsd")]
    public sealed partial class SendSocketDataCommand : SocketCommandBase
    {
        private const string ReplySet = "Reply";

        private PayloadEncoder _encoder;
        private SocketSink _sink;
        private NetSocket _failed;
        private string _path;
        private bool _socketNamed;
        private IPEndPoint _destination;
        private bool _endPointNamed;
        private NetSocket _lastSocket;

        /// <summary>The connected socket to send on (for UDP: any socket; see -ComputerName).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = SocketSet)]
        [ValidateNotNull]
        public NetSocket Socket { get; set; }

        /// <summary>The id of the connected socket to send on.</summary>
        [Parameter(Mandatory = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int Id { get; set; }

        /// <summary>The name of the socket to send on; wildcards allowed, as long as they match one socket.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SocketNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>What to send: strings (encoded), byte arrays (as they are), single bytes (gathered) or other objects (as text).</summary>
        [Parameter(Position = 1, ValueFromPipeline = true)]
        [AllowNull]
        [AllowEmptyString]
        [AllowEmptyCollection]
        [Alias("InputObject")]
        public object Data { get; set; }

        /// <summary>How strings are encoded: a name such as utf8 (the default) or ascii, a code page or an Encoding. No byte-order mark is sent.</summary>
        [Parameter]
        [EncodingTransformation]
        [ArgumentCompleter(typeof(EncodingCompleter))]
        public Encoding Encoding { get; set; } = TextEncoding.Default;

        /// <summary>Adds a line ending (-NewLine, "`n" by default) after each string.</summary>
        [Parameter]
        public SwitchParameter AppendNewLine { get; set; }

        /// <summary>The line ending -AppendNewLine adds: "`n" by default; "`r`n" for protocols such as HTTP and SMTP.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string NewLine { get; set; } = "\n";

        /// <summary>Streams this file to the peer, with a progress bar.</summary>
        [Parameter]
        [Alias("FilePath")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        /// <summary>UDP: the host name or address to send each datagram to (sendto), instead of the connected peer.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string ComputerName { get; set; }

        /// <summary>UDP: the port to send each datagram to, with -ComputerName.</summary>
        [Parameter]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        /// <summary>UDP: where to send each datagram, as an endpoint.</summary>
        [Parameter]
        public IPEndPoint RemoteEndPoint { get; set; }

        /// <summary>
        /// UDP: a received datagram to answer: its sender is the destination, and its socket sends when -Socket is not
        /// named, so $datagram | Send-SocketData -Data 'pong' replies.
        /// </summary>
        /// <remarks>
        /// A parameter set of its own, so that a pipeline of strings to a named -Socket never tries to bind its items
        /// here: that per-item attempt would cost more than the send.
        /// </remarks>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ReplySet)]
        [ValidateNotNull]
        public SocketDatagram ReplyTo { get; set; }

        /// <summary>Sends each input as soon as it arrives instead of gathering small inputs into large sends.</summary>
        [Parameter]
        public SwitchParameter Unbuffered { get; set; }

        /// <summary>Seconds to wait while the peer does not read (its receive window is full); 0 (the default) waits without limit.</summary>
        [Parameter]
        [ValidateRange(0.0, (double)int.MaxValue)]
        public double TimeoutSec { get; set; }

        /// <summary>Writes the socket to the pipeline after sending.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void BeginProcessing()
        {
            // Only the command line has bound parameters yet; pipeline input binds later, record by record.
            _socketNamed = ById || IsBound(nameof(Socket));
            _endPointNamed = IsBound(nameof(RemoteEndPoint));
            if (ParameterSetName == SocketSet && !IsBound(nameof(Socket)) && !IsBound(nameof(Data)) && !IsBound(nameof(Path)))
            {
                ThrowParameterError("SocketOrDataRequired",
                    "Name either -Socket (and pipe the data) or -Data (and pipe the sockets): 'x' | Send-SocketData -Socket $s, or $s | Send-SocketData -Data 'x'.");
            }

            if (IsBound(nameof(Path)) && IsBound(nameof(Data)))
            {
                ThrowParameterError("ConflictingParameters", "Use -Data or -Path, not both.");
            }

            if (IsBound(nameof(ComputerName)) != IsBound(nameof(Port)))
            {
                ThrowParameterError("ConflictingParameters", "-ComputerName and -Port go together: they name where a UDP datagram goes.");
            }

            ErrorRecord unencodable = AppendNewLine.IsPresent ? RecordChecks.Unencodable(NewLine, nameof(NewLine), Encoding) : null;
            if (unencodable != null)
            {
                ThrowTerminatingError(unencodable);
            }

            if (Path != null)
            {
                _path = ResolveFile(Path);
            }

            _encoder = new PayloadEncoder(Encoding, AppendNewLine.IsPresent ? NewLine : null);
        }

        /// <summary>One piped object: checked, then handed to the sink of its socket (a stream or datagrams).</summary>
        protected override void ProcessRecord()
        {
            NetSocket socket = ById ? ResolveSocket(null, Id) : Socket ?? ReplyTo?.Socket;
            if (socket == null && !ById)
            {
                ThrowParameterError("SocketOrDataRequired", "Name the socket to send on: -Socket, -Id, or pipe the sockets (with -Data), or pipe a received datagram to reply to it.");
            }

            object data = Data is PSObject ps ? ps.BaseObject : Data;
            if (socket == null || socket == _failed || !Acceptable(socket, data))
            {
                return;
            }

            _lastSocket = socket;
            SocketSink sink = _path == null ? SinkFor(socket) : null;
            bool ok = sink == null ? SendFile(socket) : Try(() => sink.Write(data), socket, sink.Attempt, SocketOperation.Send);
            if (!ok)
            {
                Fail(socket);
                return;
            }

            // A socket from the pipeline gets its data now; data from the pipeline is gathered unless -Unbuffered (single
            // bytes make one datagram either way: each datagram leaves at once, so -Unbuffered changes nothing there).
            bool unbuffered = Unbuffered.IsPresent && (sink == null || sink.GathersInputs);
            if ((unbuffered || !_socketNamed) && Flush() && PassThru.IsPresent && !_socketNamed)
            {
                WriteObject(socket);
            }
        }

        protected override void EndProcessing()
        {
            NetSocket socket = _lastSocket;
            if (Flush() && PassThru.IsPresent && socket != null && _socketNamed)
            {
                WriteObject(socket);
            }
        }

        /// <summary>False, after writing the error, when this input cannot go to <paramref name="socket"/> at all.</summary>
        private bool Acceptable(NetSocket socket, object data)
        {
            bool datagram = socket.Protocol == SocketProtocol.Udp;
            if (datagram && _path != null)
            {
                WriteError(ErrorFactory.Create(new NotSupportedException("-Path streams a file over a stream socket."), "ConflictingParameters", ErrorCategory.InvalidArgument, socket,
                    $"-Path streams a file, which needs a stream socket; socket {socket.Id} is UDP. Send the file's bytes in datagrams of at most {NetSocket.MaxDatagramIPv4} bytes instead."));
                Fail(socket);
                return false;
            }

            // A piped socket brings its own RemoteEndPoint by property name: only a named one is a conflict.
            if (!datagram && (ComputerName != null || _endPointNamed))
            {
                WriteError(ErrorFactory.Create(new ArgumentException("A destination was given for a stream socket."), "ConflictingParameters", ErrorCategory.InvalidArgument, socket,
                    $"-ComputerName, -Port and -RemoteEndPoint address UDP datagrams; socket {socket.Id} is a connected stream socket, whose data goes to its peer. Leave them out."));
                return false;
            }

            if (_path != null)
            {
                // With -Path the piped objects are sockets; a socket the binder also put in -Data is not data.
                if (data != null && data != socket)
                {
                    ThrowParameterError("ConflictingParameters", "-Path sends a file; data from the pipeline cannot be sent with it. Send them in two calls.");
                }

                return true;
            }

            if (data is NetSocket)
            {
                WriteError(ErrorFactory.Create(new ArgumentException("The data is a socket."), "DataIsSocket", ErrorCategory.InvalidArgument, data,
                    "The data to send is a socket object. Name -Socket when piping data, or -Data when piping sockets."));
                return false;
            }

            return true;
        }

        /// <summary>The sink of <paramref name="socket"/>; the sink of another socket is flushed first, so input stays in order.</summary>
        private SocketSink SinkFor(NetSocket socket)
        {
            if (_sink != null && _sink.Socket != socket)
            {
                Flush();
            }

            if (_sink == null)
            {
                TimeSpan timeout = TimeoutFor(socket, TimeoutSec, send: true);
                _sink = socket.Protocol == SocketProtocol.Udp
                    ? new DatagramSink(socket, _encoder, timeout, StopToken, Trace, answered => Destination(socket, answered), DestinationText(socket))
                    : (SocketSink)new StreamSink(socket, _encoder, timeout, StopToken, Trace, background: true);
            }

            return _sink;
        }

        /// <summary>Sends what the sink holds and lets it go; false after writing the error of a failed send.</summary>
        private bool Flush()
        {
            SocketSink sink = _sink;
            if (sink == null)
            {
                return true;
            }

            _sink = null;
            try
            {
                bool ok = Try(sink.Flush, sink.Socket, sink.Attempt, SocketOperation.Send);
                if (!ok)
                {
                    Fail(sink.Socket);
                }

                return ok;
            }
            finally
            {
                sink.Dispose();
            }
        }

        /// <summary>
        /// Runs even when EndProcessing does not: what was handed over before a command earlier in the pipeline failed
        /// is still sent (not after Ctrl+C).
        /// </summary>
        protected override void Dispose(bool disposing)
        {
            if (disposing && _sink != null)
            {
                try
                {
                    if (!StopToken.IsCancellationRequested)
                    {
                        _sink.Flush();
                    }
                }
                catch (Exception e) when (ErrorFactory.IsExpected(e) || e is OperationCanceledException)
                {
                    // No error can be written once the pipeline has ended; the socket's BytesSent tells what went.
                }
                finally
                {
                    _sink.Dispose();
                    _sink = null;
                }
            }

            base.Dispose(disposing);
        }

        private void Fail(NetSocket socket)
        {
            _failed = socket;
            if (_sink != null && _sink.Socket == socket)
            {
                _sink.Dispose();
                _sink = null;
            }
        }
    }
}

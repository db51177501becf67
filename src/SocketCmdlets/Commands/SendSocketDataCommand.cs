using System;
using System.Collections;
using System.IO;
using System.Management.Automation;
using System.Text;

namespace SocketCmdlets.Commands
{
    /// <summary>send(): sends strings, bytes or a file over a connected socket.</summary>
    [Cmdlet(VerbsCommunications.Send, "SocketData", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(NetSocket))]
    public sealed class SendSocketDataCommand : SocketCommandBase
    {
        private SendBuffer _buffer;
        private NetSocket _failed;
        private long _pendingSince;
        private string _path;
        private bool _socketNamed;

        /// <summary>The connected socket to send on.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = SocketSet)]
        [ValidateNotNull]
        public NetSocket Socket { get; set; }

        /// <summary>The id of the connected socket to send on.</summary>
        [Parameter(Mandatory = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int Id { get; set; }

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

        /// <summary>Sends each input as soon as it arrives instead of gathering small inputs into large sends.</summary>
        [Parameter]
        public SwitchParameter Unbuffered { get; set; }

        /// <summary>Seconds to wait while the peer does not read (its receive window is full); 0 (the default) waits without limit.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int TimeoutSec { get; set; }

        /// <summary>Writes the socket to the pipeline after sending.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void BeginProcessing()
        {
            // Only the command line has bound parameters yet; pipeline input binds later, record by record.
            _socketNamed = ParameterSetName == IdSet || IsBound(nameof(Socket));
            if (ParameterSetName == SocketSet && !IsBound(nameof(Socket)) && !IsBound(nameof(Data)) && !IsBound(nameof(Path)))
            {
                ThrowParameterError("SocketOrDataRequired",
                    "Name either -Socket (and pipe the data) or -Data (and pipe the sockets): 'x' | Send-SocketData -Socket $s, or $s | Send-SocketData -Data 'x'.");
            }

            if (IsBound(nameof(Path)) && IsBound(nameof(Data)))
            {
                ThrowParameterError("ConflictingParameters", "Use -Data or -Path, not both.");
            }

            if (Path != null)
            {
                _path = GetUnresolvedProviderPathFromPSPath(Path);
                if (!File.Exists(_path))
                {
                    ThrowTerminatingError(ErrorFactory.Create(new FileNotFoundException($"The file '{_path}' does not exist.", _path),
                        "FileNotFound", ErrorCategory.ObjectNotFound, Path, $"Cannot send '{Path}': the file does not exist. Check the path."));
                }
            }
        }

        protected override void ProcessRecord()
        {
            NetSocket socket = ResolveSocket(Socket, Id);
            if (socket == null || socket == _failed)
            {
                return;
            }

            if (_buffer != null && _buffer.Socket != socket)
            {
                Flush();
            }

            if (_buffer == null)
            {
                _buffer = new SendBuffer(socket, ToTimeout(TimeoutSec), StopToken);
                _pendingSince = socket.BytesSent;
            }

            bool ok;
            if (_path != null)
            {
                ok = SendFile(socket);
            }
            else
            {
                object data = Data is PSObject ps ? ps.BaseObject : Data;
                if (data is NetSocket)
                {
                    WriteError(ErrorFactory.Create(new ArgumentException("The data is a socket."), "DataIsSocket", ErrorCategory.InvalidArgument, data,
                        "The data to send is a socket object. Name -Socket when piping data, or -Data when piping sockets."));
                    return;
                }

                ok = Try(() => Append(data, 0), socket, $"send to {Describe(socket)}", SocketOperation.Send);
            }

            if (!ok)
            {
                Fail(socket);
                return;
            }

            // A socket from the pipeline gets its data now; data from the pipeline is gathered unless -Unbuffered.
            if (Unbuffered.IsPresent || !_socketNamed)
            {
                if (!Flush())
                {
                    return;
                }

                if (PassThru.IsPresent && !_socketNamed)
                {
                    WriteObject(socket);
                }
            }
        }

        protected override void EndProcessing()
        {
            NetSocket socket = _buffer?.Socket;
            if (Flush() && PassThru.IsPresent && socket != null && _socketNamed)
            {
                WriteObject(socket);
            }
        }

        private void Append(object data, int depth)
        {
            switch (data)
            {
                case null:
                    return;
                case byte[] bytes:
                    _buffer.Append(bytes);
                    return;
                case byte single:
                    _buffer.Append(single);
                    return;
                case string text:
                    AppendText(text);
                    return;
                case char c:
                    AppendText(c.ToString());
                    return;
                case char[] chars:
                    AppendText(new string(chars));
                    return;
                case PSObject ps:
                    Append(ps.BaseObject, depth);
                    return;
                case IEnumerable items when depth == 0:
                    foreach (object item in items)
                    {
                        Append(item, depth + 1);
                    }

                    return;
                default:
                    AppendText(LanguagePrimitives.ConvertTo<string>(data));
                    return;
            }
        }

        private void AppendText(string text)
        {
            _buffer.Append(text, Encoding);
            if (AppendNewLine.IsPresent)
            {
                _buffer.Append(NewLine, Encoding);
            }
        }

        private bool SendFile(NetSocket socket)
        {
            if (!Flush())
            {
                return false;
            }

            return Try(() =>
            {
                using (var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
                {
                    var progress = new ProgressReporter(this, $"Sending {System.IO.Path.GetFileName(_path)} to {NetSocket.Format(socket.RemoteEndPoint)}", file.Length);
                    if (VerboseEnabled)
                    {
                        WriteVerbose($"Sending '{_path}' ({file.Length} bytes) to {Describe(socket)}.");
                    }

                    long sent = socket.SendFrom(file, ToTimeout(TimeoutSec), StopToken, progress.Report);
                    progress.Complete();
                    if (VerboseEnabled)
                    {
                        WriteVerbose($"Sent {sent} bytes from '{_path}' to {Describe(socket)}.");
                    }
                }
            }, socket, $"send '{Path}' to {Describe(socket)}", SocketOperation.Send);
        }

        private bool Flush()
        {
            SendBuffer buffer = _buffer;
            if (buffer == null)
            {
                return true;
            }

            _buffer = null;
            NetSocket socket = buffer.Socket;
            try
            {
                bool ok = Try(buffer.Flush, socket, $"send to {Describe(socket)}", SocketOperation.Send);
                if (!ok)
                {
                    Fail(socket);
                }
                else if (VerboseEnabled && socket.BytesSent > _pendingSince)
                {
                    WriteVerbose($"Sent {socket.BytesSent - _pendingSince} bytes to {Describe(socket)}.");
                }

                return ok;
            }
            finally
            {
                buffer.Dispose();
            }
        }

        private void Fail(NetSocket socket)
        {
            _failed = socket;
            _buffer?.Dispose();
            _buffer = null;
        }

        private static string Describe(NetSocket socket) => $"{NetSocket.Format(socket.RemoteEndPoint)} (socket {socket.Id})";
    }
}

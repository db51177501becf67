using System;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Text;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// Netcat in the console: shows what the peer sends as it arrives while the user types, and sends each typed line.
    /// On a connected socket, or one this call connects (-ComputerName/-Port) or accepts (-ListenPort).
    /// </summary>
    [Cmdlet(VerbsCommon.Enter, "SocketSession", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(NetSocket))]
    public sealed partial class EnterSocketSessionCommand : SocketCommandBase
    {
        private const string ConnectSet = "Connect";
        private const string ListenSet = "Listen";

        /// <summary>The connected socket to talk over; it stays open afterwards.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = SocketSet)]
        [ValidateNotNull]
        public NetSocket Socket { get; set; }

        /// <summary>The id of the connected socket to talk over.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int Id { get; set; }

        /// <summary>The name of the socket to talk over; wildcards allowed, as long as they match one socket.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SocketNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>The host to connect to; the connection is closed when the session ends.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ConnectSet)]
        [Alias("HostName")]
        [ValidateNotNullOrEmpty]
        public string ComputerName { get; set; }

        /// <summary>The port to connect to.</summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = ConnectSet)]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        /// <summary>Starts TLS right after connecting; the server's certificate is validated against -ComputerName.</summary>
        [Parameter(ParameterSetName = ConnectSet)]
        public SwitchParameter UseTls { get; set; }

        /// <summary>With -UseTls: accepts the server's certificate without validating it (tests and self-signed certificates only).</summary>
        [Parameter(ParameterSetName = ConnectSet)]
        public SwitchParameter SkipCertificateCheck { get; set; }

        /// <summary>Listens on this port (0: a free one) and talks to the first client, like nc -l.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ListenSet)]
        [ValidateRange(0, 65535)]
        public int ListenPort { get; set; }

        /// <summary>With -ListenPort: the address to listen on (Any, the default, Loopback, or an IP address).</summary>
        [Parameter(ParameterSetName = ListenSet)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(AddressCompleter))]
        public string ListenAddress { get; set; } = "Any";

        /// <summary>Seconds the connect (or the wait for a client) may take; 0 (the default) means no limit.</summary>
        [Parameter(ParameterSetName = ConnectSet)]
        [Parameter(ParameterSetName = ListenSet)]
        [ValidateRange(0, double.MaxValue)]
        public double TimeoutSec { get; set; }

        /// <summary>How typed lines are encoded and received bytes decoded (utf8 by default).</summary>
        [Parameter]
        [EncodingTransformation]
        [ArgumentCompleter(typeof(EncodingCompleter))]
        public Encoding Encoding { get; set; } = TextEncoding.Default;

        /// <summary>The line ending sent after each typed line: "`n" by default, "`r`n" for SMTP, HTTP and the like.</summary>
        [Parameter]
        [AllowEmptyString]
        [ValidateNotNull]
        public string NewLine { get; set; } = "\n";

        /// <summary>Shows what arrives as a hex dump, as Format-Hex does, instead of as text.</summary>
        [Parameter]
        public SwitchParameter Hex { get; set; }

        /// <summary>A file to write the conversation to, both directions, one timestamped entry per line.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string TranscriptPath { get; set; }

        /// <summary>Writes the socket when the session ends (closed, when this call opened it), to show its counters.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        private string _transcriptPath;

        protected override void BeginProcessing()
        {
            if (!UseTls.IsPresent && SkipCertificateCheck.IsPresent)
            {
                ThrowParameterError("ConflictingParameters", "-SkipCertificateCheck goes with -UseTls.");
            }

            // A host without a console (a job, a remoting session, a runspace) cannot hold a conversation: say so at once.
            if (!HasConsole(Host))
            {
                ThrowTerminatingError(ErrorFactory.Create(
                    new PSInvalidOperationException("The host has no console to read keys from."),
                    "NoConsole",
                    ErrorCategory.InvalidOperation,
                    Host?.Name,
                    $"Enter-SocketSession needs an interactive console, and the host '{Host?.Name}' has none (a job, a remoting session, a runspace, or redirected input). " +
                    "Run it in a console window, or use Send-SocketData and Receive-SocketData in scripts."));
            }

            if (TranscriptPath != null)
            {
                _transcriptPath = GetUnresolvedProviderPathFromPSPath(TranscriptPath);
            }
        }

        protected override void ProcessRecord()
        {
            NetSocket socket = ParameterSetName == ConnectSet || ParameterSetName == ListenSet ? null : ResolveSocket(Socket, Id);
            if ((ParameterSetName == SocketSet || ById) && socket == null)
            {
                return;
            }

            SessionTranscript transcript = null;
            bool owned = socket == null;
            try
            {
                if (_transcriptPath != null && !Try(() => transcript = new SessionTranscript(_transcriptPath), _transcriptPath, $"create the transcript '{_transcriptPath}'"))
                {
                    return;
                }

                if (owned)
                {
                    socket = ParameterSetName == ConnectSet ? ConnectNew() : AcceptOne();
                    if (socket == null)
                    {
                        return;
                    }
                }
                else if (socket.State != SocketState.Connected && socket.State != SocketState.HalfClosed)
                {
                    WriteError(ErrorFactory.FromException(
                        new InvalidSocketStateException(socket, "enter a session", "a session needs a connected socket (Connect-Socket, Receive-SocketConnection), or use -ComputerName or -ListenPort."),
                        socket, $"enter a session on socket {socket.Id}", SocketOperation.Receive));
                    return;
                }

                Converse(socket, transcript);
            }
            finally
            {
                transcript?.Dispose();
                if (owned)
                {
                    socket?.Close();
                }
            }

            if (PassThru.IsPresent)
            {
                WriteObject(socket);
            }
        }

        private NetSocket ConnectNew()
        {
            string where = Where(ComputerName, Port);
            NetSocket socket = null;
            bool ok = Try(() =>
            {
                socket = Own(NetSocket.Create(SocketProtocol.Tcp));
                TlsOptions tls = UseTls.IsPresent ? new TlsOptions { TargetHost = ComputerName, SkipCertificateCheck = SkipCertificateCheck.IsPresent } : null;
                socket.Connect(ComputerName, Port, ToTimeout(TimeoutSec), StopToken, Trace, tls);
            }, where, $"connect to {where}", SocketOperation.Connect);
            if (!ok)
            {
                socket?.Close();
                return null;
            }

            if (VerboseEnabled)
            {
                WriteVerbose($"Socket {socket.Id} connected: {NetSocket.Format(socket.LocalEndPoint)} -> {NetSocket.Format(socket.RemoteEndPoint)}{(socket.IsEncrypted ? " (TLS)" : string.Empty)}.");
            }

            return socket;
        }

        private NetSocket AcceptOne()
        {
            string where = Where(ListenAddress, ListenPort);
            NetSocket listener = null;
            NetSocket accepted = null;
            try
            {
                Try(() =>
                {
                    listener = Own(NetSocket.Create(SocketProtocol.Tcp));
                    listener.Bind(AddressResolver.ForBinding(ListenAddress, listener), ListenPort);
                    listener.Listen(1);
                    if (VerboseEnabled)
                    {
                        WriteVerbose($"Waiting for a client on {NetSocket.Format(listener.LocalEndPoint)} (socket {listener.Id}).");
                    }

                    accepted = Own(listener.Accept(ToTimeout(TimeoutSec), StopToken));
                }, where, $"wait for a client on {where}", SocketOperation.Accept);
            }
            finally
            {
                // Like nc -l: one client, then the port is free again.
                listener?.Close();
            }

            if (accepted != null && VerboseEnabled)
            {
                WriteVerbose($"Socket {accepted.Id} accepted: {NetSocket.Format(accepted.LocalEndPoint)} <- {NetSocket.Format(accepted.RemoteEndPoint)}.");
            }

            return accepted;
        }

        private static bool HasConsole(PSHost host)
        {
            try
            {
                PSHostRawUserInterface raw = host?.UI?.RawUI;
                if (raw == null)
                {
                    return false;
                }

                // Hosts without a console throw here (HostException, NotImplementedException, or
                // InvalidOperationException when input is redirected).
                _ = raw.KeyAvailable;
                return true;
            }
            catch (Exception e) when (e is HostException || e is NotImplementedException || e is InvalidOperationException || e is NotSupportedException || e is System.IO.IOException)
            {
                return false;
            }
        }
    }
}

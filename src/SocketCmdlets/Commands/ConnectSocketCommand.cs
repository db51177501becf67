using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>connect(): connects a socket (or a new one) to a host and port, or to a Unix domain socket path.</summary>
    [Cmdlet(VerbsCommunications.Connect, "Socket", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(NetSocket))]
    [Alias("ccsk")]
    public sealed class ConnectSocketCommand : SocketCommandBase
    {
        private const string SocketPathSet = "SocketPath";
        private const string IdPathSet = "IdPath";

        /// <summary>The socket to connect; without it a new TCP socket (or Unix domain socket, with -Path) is created.</summary>
        [Parameter(ValueFromPipeline = true, ParameterSetName = SocketSet)]
        [Parameter(ValueFromPipeline = true, ParameterSetName = SocketPathSet)]
        public NetSocket Socket { get; set; }

        /// <summary>The id of the socket to connect.</summary>
        [Parameter(Mandatory = true, ParameterSetName = IdSet)]
        [Parameter(Mandatory = true, ParameterSetName = IdPathSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int Id { get; set; }

        /// <summary>
        /// The host name or IP address to connect to, or host and port in one: host:port, [IPv6]:port, or [IPv6] with
        /// -Port (::1 alone is a host). Every address of a name is tried, IPv6 and IPv4 racing as RFC 8305 describes.
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = SocketSet)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
        [Alias("HostName", "RemoteAddress", "Address")]
        [ValidateNotNullOrEmpty]
        public string ComputerName { get; set; }

        /// <summary>The port to connect to (1-65535); needed unless -ComputerName carries it (host:port).</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = SocketSet)]
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
        [Alias("RemotePort")]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        /// <summary>The file path of a Unix domain socket to connect to.</summary>
        [Parameter(Mandatory = true, ParameterSetName = SocketPathSet)]
        [Parameter(Mandatory = true, ParameterSetName = IdPathSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        /// <summary>Seconds the whole connect (name resolution included) may take; 0 (the default) means no limit of ours.</summary>
        [Parameter]
        [ValidateRange(0.0, (double)int.MaxValue)]
        public double TimeoutSec { get; set; }

        /// <summary>A label for a socket this call creates.</summary>
        [Parameter(ParameterSetName = SocketSet)]
        [Parameter(ParameterSetName = SocketPathSet)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>Starts TLS right after connecting, as Protect-Socket does; the server's certificate is validated against -ComputerName (or -TargetHost).</summary>
        [Parameter(ParameterSetName = SocketSet)]
        [Parameter(ParameterSetName = IdSet)]
        public SwitchParameter UseTls { get; set; }

        /// <summary>With -UseTls: accepts the server's certificate without validating it (for tests and self-signed certificates only).</summary>
        [Parameter(ParameterSetName = SocketSet)]
        [Parameter(ParameterSetName = IdSet)]
        public SwitchParameter SkipCertificateCheck { get; set; }

        /// <summary>With -UseTls: certificates (X509Certificate2 objects or paths of PEM, DER or PFX files) trusted as roots for this call only; the host name is still checked.</summary>
        [Parameter(ParameterSetName = SocketSet)]
        [Parameter(ParameterSetName = IdSet)]
        [ValidateNotNullOrEmpty]
        public object[] TrustedCertificate { get; set; }

        /// <summary>With -UseTls: SHA-256 (or SHA-1) thumbprints of the exact certificates to accept; any other certificate is refused.</summary>
        [Parameter(ParameterSetName = SocketSet)]
        [Parameter(ParameterSetName = IdSet)]
        [ValidateNotNullOrEmpty]
        public string[] CertificateThumbprint { get; set; }

        /// <summary>With -UseTls: the name the server's certificate must carry, if not -ComputerName.</summary>
        [Parameter(ParameterSetName = SocketSet)]
        [Parameter(ParameterSetName = IdSet)]
        [ValidateNotNullOrEmpty]
        public string TargetHost { get; set; }

        /// <summary>With -UseTls: ALPN protocol names to offer, most preferred first.</summary>
        [Parameter(ParameterSetName = SocketSet)]
        [Parameter(ParameterSetName = IdSet)]
        [ValidateNotNullOrEmpty]
        public string[] ApplicationProtocol { get; set; }

        /// <summary>Disables Nagle's algorithm on a TCP socket this call creates (TCP_NODELAY).</summary>
        [Parameter(ParameterSetName = SocketSet)]
        public SwitchParameter NoDelay { get; set; }

        private CertificateTrust _trust;

        protected override void BeginProcessing()
        {
            if (!UseTls.IsPresent && (SkipCertificateCheck.IsPresent || TargetHost != null || ApplicationProtocol != null || TrustedCertificate != null || CertificateThumbprint != null))
            {
                ThrowParameterError("ConflictingParameters", "-SkipCertificateCheck, -TargetHost, -ApplicationProtocol, -TrustedCertificate and -CertificateThumbprint go with -UseTls.");
            }

            _trust = TlsTrustParameters.Create(this, TrustedCertificate, CertificateThumbprint, SkipCertificateCheck.IsPresent);
        }

        protected override void ProcessRecord()
        {
            string host = null;
            int port = 0;
            if (Path == null && !SplitEndPoint(ComputerName, IsBound(nameof(Port)) ? Port : (int?)null, out host, out port))
            {
                return;
            }

            NetSocket socket = ResolveSocket(Socket, Id);
            if (socket == null && ById)
            {
                return;
            }

            bool created = socket == null;
            string path = Path == null ? null : GetUnresolvedProviderPathFromPSPath(Path);
            string where = path != null ? $"'{path}'" : Where(host, port);
            bool ok = false;
            try
            {
                ok = Try(() =>
                {
                    if (created)
                    {
                        SocketOptions options = OptionsFromParameters();
                        socket = Own(NetSocket.Create(SocketProtocol.Tcp, path != null ? SocketFamily.Unix : (SocketFamily?)null, options, Name));
                    }

                    if (path != null)
                    {
                        Trace?.Invoke($"Connecting to the Unix socket '{path}'.");
                        socket.ConnectPath(path, ToTimeout(TimeoutSec), StopToken, Trace);
                    }
                    else
                    {
                        TlsOptions tls = null;
                        if (UseTls.IsPresent)
                        {
                            tls = new TlsOptions
                            {
                                TargetHost = TargetHost ?? host,
                                SkipCertificateCheck = SkipCertificateCheck.IsPresent,
                                ApplicationProtocols = ApplicationProtocol,
                                Trust = _trust,
                            };
                            if (_trust != null)
                            {
                                Trace?.Invoke(TlsTrustParameters.Describe(_trust));
                            }
                        }

                        // -TimeoutSec bounds the whole call: resolution, the attempts and the handshake share one deadline.
                        socket.Connect(host, port, ToTimeout(TimeoutSec), StopToken, Trace, tls);
                    }
                }, (object)socket ?? where, $"connect to {where}", SocketOperation.Connect);
            }
            finally
            {
                if (!ok && created)
                {
                    // A socket the user never saw must not stay open, whether the connect failed or was stopped.
                    socket?.Close();
                }
            }

            if (!ok)
            {
                return;
            }

            if (VerboseEnabled)
            {
                WriteVerbose(socket.Path != null
                    ? $"Socket {socket.Id} connected to the Unix socket '{socket.Path}'."
                    : socket.Protocol == SocketProtocol.Udp
                        ? $"UDP socket {socket.Id} sends to {NetSocket.Format(socket.RemoteEndPoint)} by default, from {NetSocket.Format(socket.LocalEndPoint)}."
                        : $"Socket {socket.Id} connected: {NetSocket.Format(socket.LocalEndPoint)} -> {NetSocket.Format(socket.RemoteEndPoint)}.");
            }

            WriteObject(socket);
        }
    }
}

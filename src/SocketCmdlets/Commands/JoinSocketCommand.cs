using System;
using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// Relays two connected sockets to each other: bytes are pumped both ways at once in the engine until both
    /// directions have ended; then both sockets are closed and one SocketRelaySession is written.
    /// </summary>
    [Cmdlet(VerbsCommon.Join, "Socket", DefaultParameterSetName = TargetSet)]
    [OutputType(typeof(SocketRelaySession))]
    public sealed class JoinSocketCommand : SocketCommandBase
    {
        private const string TargetSet = "Target";
        private const string HostSet = "Host";
        private const string PathSet = "Path";

        /// <summary>The connected socket whose peer is the source of the relay.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public NetSocket Socket { get; set; }

        /// <summary>The connected socket to relay to.</summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = TargetSet)]
        [ValidateNotNull]
        public NetSocket Target { get; set; }

        /// <summary>The host to connect to and relay to.</summary>
        [Parameter(Mandatory = true, ParameterSetName = HostSet)]
        [Alias("HostName")]
        [ValidateNotNullOrEmpty]
        public string ComputerName { get; set; }

        /// <summary>The port to connect to (1-65535).</summary>
        [Parameter(Mandatory = true, ParameterSetName = HostSet)]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        /// <summary>The Unix domain socket to connect to and relay to.</summary>
        [Parameter(Mandatory = true, ParameterSetName = PathSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        /// <summary>Starts TLS towards -ComputerName after connecting (originates TLS); the certificate is validated.</summary>
        [Parameter(ParameterSetName = HostSet)]
        public SwitchParameter UseTls { get; set; }

        /// <summary>With -UseTls: accepts the server's certificate without validating it (for tests only).</summary>
        [Parameter(ParameterSetName = HostSet)]
        public SwitchParameter SkipCertificateCheck { get; set; }

        /// <summary>With -UseTls: certificates (X509Certificate2 objects or paths of PEM, DER or PFX files) trusted as roots for this call only; the host name is still checked.</summary>
        [Parameter(ParameterSetName = HostSet)]
        [ValidateNotNullOrEmpty]
        public object[] TrustedCertificate { get; set; }

        /// <summary>With -UseTls: SHA-256 (or SHA-1) thumbprints of the exact certificates to accept; any other certificate is refused.</summary>
        [Parameter(ParameterSetName = HostSet)]
        [ValidateNotNullOrEmpty]
        public string[] CertificateThumbprint { get; set; }

        /// <summary>With -UseTls: the name the server's certificate must carry, if not -ComputerName.</summary>
        [Parameter(ParameterSetName = HostSet)]
        [ValidateNotNullOrEmpty]
        public string TargetHost { get; set; }

        /// <summary>Seconds the connect (and TLS handshake) to the target may take; 0 (the default) means no limit of ours.</summary>
        [Parameter(ParameterSetName = HostSet)]
        [Parameter(ParameterSetName = PathSet)]
        [ValidateRange(0, double.MaxValue)]
        public double TimeoutSec { get; set; }

        /// <summary>Closes both sockets when no byte has moved either way for this many seconds; 0 (the default) means never.</summary>
        [Parameter]
        [ValidateRange(0, double.MaxValue)]
        public double IdleTimeoutSec { get; set; }

        protected override void BeginProcessing()
        {
            if (!UseTls.IsPresent && (SkipCertificateCheck.IsPresent || TargetHost != null || TrustedCertificate != null || CertificateThumbprint != null))
            {
                ThrowParameterError("ConflictingParameters", "-SkipCertificateCheck, -TargetHost, -TrustedCertificate and -CertificateThumbprint go with -UseTls.");
            }

            _trust = TlsTrustParameters.Create(this, TrustedCertificate, CertificateThumbprint, SkipCertificateCheck.IsPresent);
        }

        private CertificateTrust _trust;

        protected override void ProcessRecord()
        {
            NetSocket target = Target;
            if (ParameterSetName != TargetSet && !Connect(out target))
            {
                return;
            }

            SocketRelaySession session = null;
            bool ok = Try(() => session = SocketRelay.Join(Socket, target, ToTimeout(IdleTimeoutSec), StopToken, Trace),
                Socket, $"relay {Peer(Socket)} to {Peer(target)}", SocketOperation.Receive);
            if (!ok)
            {
                if (ParameterSetName != TargetSet)
                {
                    target.Close();
                }

                return;
            }

            if (StopToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }

            if (VerboseEnabled)
            {
                WriteVerbose($"Relay ended ({session.EndReason}{(session.Error.Length > 0 ? ": " + session.Error : string.Empty)}): {session.BytesToTarget} bytes to {session.TargetEndPoint}, {session.BytesToSource} bytes to {session.SourceEndPoint}.");
            }

            WriteObject(session);
        }

        /// <summary>Connects a new socket to -ComputerName/-Port (with TLS) or -Path; on failure writes the error (-Socket stays open).</summary>
        private bool Connect(out NetSocket target)
        {
            string path = Path == null ? null : GetUnresolvedProviderPathFromPSPath(Path);
            string where = path != null ? $"'{path}'" : Where(ComputerName, Port);
            NetSocket created = null;
            bool ok = false;
            try
            {
                ok = Try(() =>
                {
                    created = NetSocket.Create(SocketProtocol.Tcp, path != null ? SocketFamily.Unix : (SocketFamily?)null);
                    created.Owner = CurrentOwner;
                    TimeSpan timeout = ToTimeout(TimeoutSec);
                    if (path != null)
                    {
                        Trace?.Invoke($"Connecting to the Unix socket '{path}' to relay socket {Socket.Id} there.");
                        created.ConnectPath(path, timeout, StopToken);
                        return;
                    }

                    // One deadline for the connect and the handshake.
                    TlsOptions tls = UseTls.IsPresent ? new TlsOptions { TargetHost = TargetHost ?? ComputerName, SkipCertificateCheck = SkipCertificateCheck.IsPresent, Trust = _trust } : null;
                    created.Connect(ComputerName, Port, timeout, StopToken, Trace, tls);
                }, where, $"connect to {where} to relay {Peer(Socket)}", SocketOperation.Connect);
            }
            finally
            {
                if (!ok)
                {
                    created?.Close();
                }
            }

            target = created;
            return ok;
        }
    }
}

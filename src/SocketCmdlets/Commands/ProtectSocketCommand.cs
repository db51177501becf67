using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;

namespace SocketCmdlets.Commands
{
    /// <summary>Upgrades a connected socket to TLS, as a client or (with -Certificate) as a server.</summary>
    [Cmdlet(VerbsSecurity.Protect, "Socket", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(NetSocket))]
    public sealed class ProtectSocketCommand : SocketCommandBase
    {
        /// <summary>The connected socket to encrypt.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = SocketSet)]
        [ValidateNotNull]
        public NetSocket Socket { get; set; }

        /// <summary>The id of the connected socket to encrypt.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int Id { get; set; }

        /// <summary>The name of the socket to protect; wildcards allowed, as long as they match one socket.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SocketNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>Client: the name the server's certificate must carry, also sent as SNI; by default the name the socket connected to.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string TargetHost { get; set; }

        /// <summary>Accepts the peer's certificate without validating it (for tests and self-signed certificates only).</summary>
        [Parameter]
        public SwitchParameter SkipCertificateCheck { get; set; }

        /// <summary>Client: certificates (X509Certificate2 objects or paths of PEM, DER or PFX files) trusted as roots for this call only; the host name is still checked. Server: trusted issuers of client certificates.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public object[] TrustedCertificate { get; set; }

        /// <summary>SHA-256 (or SHA-1) thumbprints of the exact certificates to accept; any other certificate is refused.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] CertificateThumbprint { get; set; }

        /// <summary>Server: its certificate with the private key, as an X509Certificate2 or the path of a PFX or PEM file. Makes this side the TLS server.</summary>
        [Parameter]
        [ValidateNotNull]
        public object Certificate { get; set; }

        /// <summary>The password of a PFX file given to -Certificate.</summary>
        [Parameter]
        public SecureString CertificatePassword { get; set; }

        /// <summary>The PEM private key file, when -Certificate is a PEM certificate whose key is in another file.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string KeyPath { get; set; }

        /// <summary>Server: requires the client to present a certificate (validated unless -SkipCertificateCheck).</summary>
        [Parameter]
        public SwitchParameter RequireClientCertificate { get; set; }

        /// <summary>Client: a certificate (with private key) to present when the server asks for one.</summary>
        [Parameter]
        [ValidateNotNull]
        public X509Certificate2 ClientCertificate { get; set; }

        /// <summary>The TLS versions to allow (Tls12, Tls13); the system's choice by default.</summary>
        [Parameter]
        public TlsVersion[] TlsProtocol { get; set; }

        /// <summary>ALPN protocol names to offer (client) or accept (server), most preferred first, for example h2, http/1.1.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] ApplicationProtocol { get; set; }

        /// <summary>Seconds the handshake may take; 0 (the default) means no limit.</summary>
        [Parameter]
        [ValidateRange(0.0, (double)int.MaxValue)]
        public double TimeoutSec { get; set; }

        private X509Certificate2 _certificate;
        private CertificateTrust _trust;

        protected override void BeginProcessing()
        {
            if (Certificate != null && (TargetHost != null || ClientCertificate != null))
            {
                ThrowParameterError("ConflictingParameters", "-Certificate makes this side the TLS server; -TargetHost and -ClientCertificate are for a client.");
            }

            if (Certificate == null && (RequireClientCertificate.IsPresent || CertificatePassword != null || KeyPath != null))
            {
                ThrowParameterError("ConflictingParameters", "-RequireClientCertificate, -CertificatePassword and -KeyPath go with -Certificate (a TLS server).");
            }

            _trust = TlsTrustParameters.Create(this, TrustedCertificate, CertificateThumbprint, SkipCertificateCheck.IsPresent);
            _certificate = TlsCommands.LoadCertificate(this, Certificate, CertificatePassword, KeyPath);
        }

        protected override void ProcessRecord()
        {
            NetSocket socket = ResolveSocket(Socket, Id);
            if (socket == null)
            {
                return;
            }

            var options = new TlsOptions
            {
                IsServer = _certificate != null,
                Certificate = _certificate ?? ClientCertificate,
                TargetHost = TargetHost,
                SkipCertificateCheck = SkipCertificateCheck.IsPresent,
                RequireClientCertificate = RequireClientCertificate.IsPresent,
                Protocols = TlsVersions.ToSslProtocols(TlsProtocol),
                ApplicationProtocols = ApplicationProtocol,
                Trust = _trust,
            };
            if (_trust != null && VerboseEnabled)
            {
                WriteVerbose(TlsTrustParameters.Describe(_trust));
            }

            if (Try(() => socket.Protect(options, ToTimeout(TimeoutSec), StopToken, Trace), socket, $"start TLS on {Peer(socket)}", SocketOperation.Connect))
            {
                WriteObject(socket);
            }
        }
    }

    internal static class TlsCommands
    {
        /// <summary>The certificate given as an object or a path, or null; a bad one stops the call before any socket is touched.</summary>
        public static X509Certificate2 LoadCertificate(PSCmdlet cmdlet, object certificate, SecureString password, string keyPath)
        {
            object value = certificate is PSObject ps ? ps.BaseObject : certificate;
            switch (value)
            {
                case null:
                    return null;
                case X509Certificate2 x509:
                    if (!x509.HasPrivateKey)
                    {
                        cmdlet.ThrowTerminatingError(ErrorFactory.Create(new System.ArgumentException("The certificate has no private key."), "CertificateLoadFailed",
                            ErrorCategory.InvalidArgument, x509, $"The certificate '{x509.Subject}' has no private key: a TLS server needs one."));
                    }

                    return x509;
                case string path:
                    string full = cmdlet.GetUnresolvedProviderPathFromPSPath(path);
                    string key = keyPath == null ? null : cmdlet.GetUnresolvedProviderPathFromPSPath(keyPath);
                    try
                    {
                        return CertificateLoader.Load(full, password, key);
                    }
                    catch (System.Exception e) when (e is System.IO.IOException || e is System.PlatformNotSupportedException || e is System.UnauthorizedAccessException)
                    {
                        string id = e is System.IO.FileNotFoundException ? "FileNotFound" : "CertificateLoadFailed";
                        cmdlet.ThrowTerminatingError(ErrorFactory.Create(e, id, e is System.IO.FileNotFoundException ? ErrorCategory.ObjectNotFound : ErrorCategory.InvalidData, path,
                            $"Cannot use the certificate '{path}': {ErrorFactory.Text(e)}"));
                        return null;
                    }

                default:
                    cmdlet.ThrowTerminatingError(ErrorFactory.Create(new System.ArgumentException("Not a certificate."), "CertificateLoadFailed", ErrorCategory.InvalidArgument, value,
                        "-Certificate takes an X509Certificate2 or the path of a PFX or PEM file."));
                    return null;
            }
        }
    }
}

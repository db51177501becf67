using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Security;
using System.Reflection;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>What a TLS handshake should do.</summary>
    internal sealed class TlsOptions
    {
        /// <summary>True to act as the TLS server.</summary>
        public bool IsServer { get; set; }

        /// <summary>Client: the name the server's certificate must carry (SNI); by default the name connected to.</summary>
        public string TargetHost { get; set; }

        /// <summary>Accept any peer certificate.</summary>
        public bool SkipCertificateCheck { get; set; }

        /// <summary>Server: its certificate, with the private key. Client: a certificate to offer when asked.</summary>
        public X509Certificate2 Certificate { get; set; }

        /// <summary>Server: ask for and require a client certificate.</summary>
        public bool RequireClientCertificate { get; set; }

        /// <summary>The TLS versions allowed; None lets the system choose.</summary>
        public SslProtocols Protocols { get; set; } = SslProtocols.None;

        /// <summary>ALPN protocol names to offer (client) or accept (server), most preferred first.</summary>
        public IList<string> ApplicationProtocols { get; set; }

        /// <summary>Client (or a server checking client certificates): roots and thumbprints trusted for this handshake only.</summary>
        public CertificateTrust Trust { get; set; }
    }
}

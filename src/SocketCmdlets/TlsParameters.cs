using System.Security.Authentication;

namespace SocketCmdlets.Commands
{
    /// <summary>The TLS versions a user can ask for.</summary>
    public enum TlsVersion
    {
        /// <summary>TLS 1.2.</summary>
        Tls12,
        /// <summary>TLS 1.3.</summary>
        Tls13,
    }

    internal static class TlsVersions
    {
        /// <summary>The SslProtocols for a list of versions; None (the system's choice) for none.</summary>
        public static SslProtocols ToSslProtocols(TlsVersion[] versions)
        {
            SslProtocols protocols = SslProtocols.None;
            foreach (TlsVersion v in versions ?? new TlsVersion[0])
            {
                // SslProtocols.Tls13 (12288) is not named in netstandard2.0.
                protocols |= v == TlsVersion.Tls12 ? SslProtocols.Tls12 : (SslProtocols)12288;
            }

            return protocols;
        }
    }
}

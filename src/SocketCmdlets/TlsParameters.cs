using System.Collections.Generic;
using System.Management.Automation;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

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

    /// <summary>
    /// -TrustedCertificate and -CertificateThumbprint, shared by every cmdlet that makes a TLS client: checked and
    /// loaded before any socket call, turned into the engine's <see cref="CertificateTrust"/>.
    /// </summary>
    /// <remarks>
    /// The TLS parameters themselves stay declared in each cmdlet, on purpose. PowerShell lists the parameters of a
    /// base class after those of the cmdlet class, and dynamic parameters after both, so moving them into a
    /// TlsClientCommandBase or an IDynamicParameters object would reorder Get-Command -Syntax and the help; and the
    /// cmdlets put them in different parameter sets (Connect-Socket: the host sets only; Join-Socket: its host set;
    /// Start-SocketRelay: the sets that forward to a host; Protect-Socket and Test-SocketConnection: all sets), which
    /// one shared declaration cannot say. What they share is what the parameters mean, which lives here and in
    /// <see cref="TlsCommands"/>.
    /// </remarks>
    internal static class TlsTrustParameters
    {
        /// <summary>
        /// The trust the parameters give, or null when neither was given. Conflicts with -SkipCertificateCheck, bad
        /// thumbprints and unreadable files stop the call (ConflictingParameters, InvalidThumbprint, FileNotFound,
        /// CertificateLoadFailed).
        /// </summary>
        public static CertificateTrust Create(PSCmdlet cmdlet, object[] trustedCertificate, string[] thumbprint, bool skipCertificateCheck)
        {
            if (trustedCertificate == null && thumbprint == null)
            {
                return null;
            }

            if (skipCertificateCheck)
            {
                cmdlet.ThrowTerminatingError(ErrorFactory.Create(new System.ArgumentException("Conflicting parameters."), "ConflictingParameters", ErrorCategory.InvalidArgument, null,
                    "-SkipCertificateCheck accepts any certificate; -TrustedCertificate and -CertificateThumbprint say which ones to accept. Give one or the other."));
            }

            var roots = new List<X509Certificate2>();
            foreach (object item in trustedCertificate ?? new object[0])
            {
                object value = item is PSObject ps ? ps.BaseObject : item;
                switch (value)
                {
                    case X509Certificate2 certificate:
                        roots.Add(certificate);
                        break;
                    case X509Certificate2Collection collection:
                        foreach (X509Certificate2 certificate in collection)
                        {
                            roots.Add(certificate);
                        }

                        break;
                    case X509Certificate certificate:
                        roots.Add(new X509Certificate2(certificate));
                        break;
                    case System.IO.FileInfo file:
                        roots.AddRange(LoadFile(cmdlet, file.FullName, file.FullName));
                        break;
                    case string path:
                        roots.AddRange(LoadFile(cmdlet, cmdlet.GetUnresolvedProviderPathFromPSPath(path), path));
                        break;
                    default:
                        cmdlet.ThrowTerminatingError(ErrorFactory.Create(new System.ArgumentException("Not a certificate."), "CertificateLoadFailed", ErrorCategory.InvalidArgument, value,
                            "-TrustedCertificate takes X509Certificate2 objects or the paths of PEM, DER or PFX files."));
                        break;
                }
            }

            var thumbprints = new List<string>();
            foreach (string text in thumbprint ?? new string[0])
            {
                try
                {
                    thumbprints.Add(CertificateTrust.NormalizeThumbprint(text));
                }
                catch (System.ArgumentException e)
                {
                    cmdlet.ThrowTerminatingError(ErrorFactory.Create(e, "InvalidThumbprint", ErrorCategory.InvalidArgument, text,
                        e.Message + " (Get-FileHash -Algorithm SHA256 on the DER file, or $certificate.Thumbprint for SHA-1.)"));
                }
            }

            return new CertificateTrust(roots, thumbprints);
        }

        /// <summary>A -Verbose line about the trust given, or null.</summary>
        public static string Describe(CertificateTrust trust) =>
            trust == null ? null
                : $"Trusting, for this handshake only, {trust.Roots.Count} certificate(s){(trust.Roots.Count > 0 ? " (" + string.Join(", ", System.Linq.Enumerable.Select(trust.Roots, r => r.Subject)) + ")" : string.Empty)} and {trust.Thumbprints.Count} pinned thumbprint(s).";

        private static X509Certificate2[] LoadFile(PSCmdlet cmdlet, string fullPath, string given)
        {
            try
            {
                return CertificateTrust.Load(fullPath);
            }
            catch (System.Exception e) when (e is System.IO.IOException || e is System.UnauthorizedAccessException)
            {
                bool missing = e is System.IO.FileNotFoundException;
                cmdlet.ThrowTerminatingError(ErrorFactory.Create(e, missing ? "FileNotFound" : "CertificateLoadFailed", missing ? ErrorCategory.ObjectNotFound : ErrorCategory.InvalidData, given,
                    $"Cannot trust the certificate '{given}': {e.Message}"));
                return null;
            }
        }
    }
}

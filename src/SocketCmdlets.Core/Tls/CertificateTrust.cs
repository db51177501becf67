using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace SocketCmdlets
{
    /// <summary>
    /// Trust given for one TLS handshake only, without touching any certificate store: roots (or the certificates
    /// themselves) a peer's chain may end in, and thumbprints (SHA-256 or SHA-1) of the exact certificates to accept.
    /// </summary>
    internal sealed class CertificateTrust
    {
        private readonly List<X509Certificate2> _roots;
        private readonly HashSet<string> _thumbprints;

        public CertificateTrust(IEnumerable<X509Certificate2> roots, IEnumerable<string> thumbprints)
        {
            _roots = (roots ?? Enumerable.Empty<X509Certificate2>()).Where(c => c != null).ToList();
            _thumbprints = new HashSet<string>((thumbprints ?? Enumerable.Empty<string>()).Select(NormalizeThumbprint), StringComparer.Ordinal);
        }

        /// <summary>The certificates trusted as roots.</summary>
        public IReadOnlyList<X509Certificate2> Roots => _roots;

        /// <summary>The accepted thumbprints, upper-case hex without separators.</summary>
        public IReadOnlyCollection<string> Thumbprints => _thumbprints;

        /// <summary>True when neither roots nor thumbprints were given.</summary>
        public bool IsEmpty => _roots.Count == 0 && _thumbprints.Count == 0;

        /// <summary>
        /// A thumbprint as upper-case hex: separators (colons, spaces, dashes) removed; 40 digits (SHA-1) or 64 (SHA-256),
        /// else <see cref="ArgumentException"/>.
        /// </summary>
        public static string NormalizeThumbprint(string thumbprint)
        {
            string hex = new string((thumbprint ?? string.Empty).Where(c => c != ':' && c != ' ' && c != '-').ToArray()).ToUpperInvariant();
            if ((hex.Length != 40 && hex.Length != 64) || !hex.All(Uri.IsHexDigit))
            {
                throw new ArgumentException($"'{thumbprint}' is not a certificate thumbprint: give 64 hex digits (SHA-256) or 40 (SHA-1).");
            }

            return hex;
        }

        /// <summary>The SHA-256 thumbprint of a certificate, upper-case hex.</summary>
        public static string Sha256Thumbprint(X509Certificate certificate)
        {
            using (SHA256 sha = SHA256.Create())
            {
                return Hex(sha.ComputeHash(certificate.GetRawCertData()));
            }
        }

        /// <summary>
        /// Decides on a peer's certificate as a TLS validation callback would, and says why it fails. Without trust
        /// of its own (<see cref="IsEmpty"/>) the runtime's verdict stands. A certificate whose thumbprint was given is
        /// accepted as it is; otherwise, with thumbprints and no roots, it is refused. With roots, a chain that the
        /// system does not trust is built again with them and accepted when it ends in one of them with no other fault
        /// (expiry included); the host name is still checked.
        /// </summary>
        public CertificateVerdict Evaluate(X509Certificate certificate, X509Chain chain, SslPolicyErrors errors, string targetHost, bool isServer, bool requireCertificate)
        {
            var reasons = new List<string>();
            if (certificate == null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            {
                reasons.Add(isServer ? "the client sent no certificate" : "the server sent no certificate");
                bool optional = isServer && !requireCertificate;
                return new CertificateVerdict(optional, optional ? Array.Empty<string>() : reasons.ToArray(), false, errors);
            }

            bool pinned = _thumbprints.Count > 0 && Matches(certificate);
            if (pinned)
            {
                return new CertificateVerdict(true, Array.Empty<string>(), false, errors);
            }

            var faults = new List<string>();
            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                faults.Add($"the certificate's name does not match '{targetHost}' (name mismatch)");
            }

            if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
            {
                faults.AddRange(_roots.Count > 0 ? ChainThroughRoots(certificate, chain) : ChainReasons(chain));
            }

            // Thumbprints alone accept nothing else; with roots as well, a certificate may pass either way.
            bool accepted = faults.Count == 0 && (_thumbprints.Count == 0 || _roots.Count > 0);
            if (accepted)
            {
                return new CertificateVerdict(true, Array.Empty<string>(), false, errors);
            }

            if (_thumbprints.Count > 0)
            {
                reasons.Add($"it is not one of the pinned certificates (its SHA-256 thumbprint is {Sha256Thumbprint(certificate)})");
            }

            reasons.AddRange(faults.Distinct());
            return new CertificateVerdict(false, reasons.ToArray(), _thumbprints.Count > 0 && _roots.Count == 0, errors);
        }

        /// <summary>
        /// Loads certificates to trust from a file: PEM (one or many certificates), DER, or PKCS#12 without a password.
        /// Throws <see cref="FileNotFoundException"/> or <see cref="CertificateLoadException"/>.
        /// </summary>
        public static X509Certificate2[] Load(string path)
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"The certificate file '{path}' does not exist.", path);
            }

            byte[] bytes = File.ReadAllBytes(path);
            string text = Encoding.ASCII.GetString(bytes);
            try
            {
                if (text.Contains("-----BEGIN"))
                {
                    var found = new List<X509Certificate2>();
                    const string begin = "-----BEGIN CERTIFICATE-----";
                    const string end = "-----END CERTIFICATE-----";
                    for (int at = text.IndexOf(begin, StringComparison.Ordinal); at >= 0; at = text.IndexOf(begin, at + 1, StringComparison.Ordinal))
                    {
                        int stop = text.IndexOf(end, at, StringComparison.Ordinal);
                        if (stop < 0)
                        {
                            break;
                        }

                        string base64 = text.Substring(at + begin.Length, stop - at - begin.Length);
                        found.Add(new X509Certificate2(Convert.FromBase64String(new string(base64.Where(c => !char.IsWhiteSpace(c)).ToArray()))));
                    }

                    if (found.Count == 0)
                    {
                        throw new CertificateLoadException($"'{path}' is PEM but holds no CERTIFICATE block.", null);
                    }

                    return found.ToArray();
                }

                var collection = new X509Certificate2Collection();
                collection.Import(bytes, null, X509KeyStorageFlags.DefaultKeySet);
                if (collection.Count == 0)
                {
                    throw new CertificateLoadException($"'{path}' holds no certificate.", null);
                }

                return collection.Cast<X509Certificate2>().ToArray();
            }
            catch (Exception e) when (e is CryptographicException || e is FormatException)
            {
                throw new CertificateLoadException($"'{path}' could not be read as a certificate (PEM, DER, or PKCS#12 without a password): {e.Message.TrimEnd('.')}. A password-protected PFX can be given as an X509Certificate2 object instead.{Pkcs12Facts.Advice(bytes, Pkcs12Facts.RuntimeLacksAes256)}", e);
            }
        }

        private bool Matches(X509Certificate certificate)
        {
            string sha1 = certificate.GetCertHashString().ToUpperInvariant();
            return _thumbprints.Contains(sha1) || _thumbprints.Contains(Sha256Thumbprint(certificate));
        }

        /// <summary>The peer's chain built again with the trusted roots; its faults up to the first trusted certificate, or why it reaches none.</summary>
        private IEnumerable<string> ChainThroughRoots(X509Certificate certificate, X509Chain presented)
        {
            using (var leaf = new X509Certificate2(certificate))
            using (var chain = new X509Chain())
            {
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
                chain.ChainPolicy.ExtraStore.AddRange(_roots.ToArray());
                if (presented != null)
                {
                    // Intermediates the peer sent.
                    chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
                    foreach (X509ChainElement element in presented.ChainElements)
                    {
                        chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                    }
                }

                chain.Build(leaf);
                var faults = new List<string>();
                foreach (X509ChainElement element in chain.ChainElements)
                {
                    faults.AddRange(element.ChainElementStatus.Where(s => !Tolerated(s.Status)).Select(s => ChainText(s.Status, s.StatusInformation)));
                    if (_roots.Any(root => root.RawData.SequenceEqual(element.Certificate.RawData)))
                    {
                        return faults;
                    }
                }

                faults.AddRange(chain.ChainStatus.Where(s => !Tolerated(s.Status)).Select(s => ChainText(s.Status, s.StatusInformation)));
                faults.Add("it is not issued by any of the certificates trusted for this call (untrusted root)");
                return faults;
            }
        }

        private static bool Tolerated(X509ChainStatusFlags flag) =>
            flag == X509ChainStatusFlags.UntrustedRoot || flag == X509ChainStatusFlags.PartialChain
            || flag == X509ChainStatusFlags.RevocationStatusUnknown || flag == X509ChainStatusFlags.OfflineRevocation || flag == X509ChainStatusFlags.NoError;

        /// <summary>The runtime's chain faults, in words.</summary>
        internal static IEnumerable<string> ChainReasons(X509Chain chain)
        {
            var reasons = new List<string>();
            if (chain != null)
            {
                foreach (X509ChainStatus status in chain.ChainStatus)
                {
                    if (status.Status != X509ChainStatusFlags.NoError)
                    {
                        reasons.Add(ChainText(status.Status, status.StatusInformation));
                    }
                }
            }

            if (reasons.Count == 0)
            {
                reasons.Add("its certificate chain is not valid");
            }

            return reasons;
        }

        private static string ChainText(X509ChainStatusFlags flag, string information)
        {
            string detail = string.IsNullOrWhiteSpace(information) ? string.Empty : $" ({information.Trim().TrimEnd('.')})";
            switch (flag)
            {
                case X509ChainStatusFlags.UntrustedRoot:
                case X509ChainStatusFlags.PartialChain:
                    return "it is not issued by a trusted root (untrusted root; a self-signed certificate is not trusted)" + detail;
                case X509ChainStatusFlags.NotTimeValid:
                    return "it has expired or is not valid yet (expired)" + detail;
                case X509ChainStatusFlags.Revoked:
                    return "it was revoked" + detail;
                case X509ChainStatusFlags.NotValidForUsage:
                    return "it is not valid for this use" + detail;
                default:
                    return flag + detail;
            }
        }

        private static string Hex(byte[] bytes)
        {
            var text = new StringBuilder(bytes.Length * 2);
            foreach (byte b in bytes)
            {
                text.Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }

            return text.ToString();
        }
    }

    /// <summary>The decision on a peer's certificate and the reasons it fails (empty when it passes).</summary>
    internal sealed class CertificateVerdict
    {
        public CertificateVerdict(bool accepted, string[] reasons, bool pinMismatch, SslPolicyErrors errors)
        {
            Accepted = accepted;
            Reasons = reasons;
            PinMismatch = pinMismatch;
            Errors = errors;
        }

        /// <summary>True when the certificate is accepted.</summary>
        public bool Accepted { get; }

        /// <summary>Why it fails, in words; empty when it passes.</summary>
        public string[] Reasons { get; }

        /// <summary>True when only thumbprints were given and none matched.</summary>
        public bool PinMismatch { get; }

        /// <summary>What the runtime found wrong.</summary>
        public SslPolicyErrors Errors { get; }
    }
}

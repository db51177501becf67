using System;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace SocketCmdlets
{
    /// <summary>The peer certificate's verdict on a TLS socket, and the trust given for one handshake.</summary>
    public sealed partial class NetSocket
    {
        private static readonly string[] s_noErrors = new string[0];

        /// <summary>
        /// Why the peer's certificate failed validation (name mismatch, untrusted root with the chain's own words,
        /// expired, not pinned); empty when it is valid or the socket is not encrypted. Filled even when the check
        /// was skipped, so a script can connect once and report.
        /// </summary>
        public string[] CertificateErrors { get; private set; } = s_noErrors;

        /// <summary>Judges the peer certificate of one handshake and remembers why it failed.</summary>
        internal sealed class CertificateCheck
        {
            private readonly TlsOptions _options;
            private readonly string _targetHost;
            private readonly CertificateTrust _trust;

            public CertificateCheck(TlsOptions options, string targetHost)
            {
                _options = options;
                _targetHost = targetHost;
                _trust = options.Trust ?? new CertificateTrust(null, null);
            }

            /// <summary>The last verdict, or null when the peer's certificate was not looked at.</summary>
            public CertificateVerdict Verdict { get; private set; }

            /// <summary>True when the certificate was refused (whether or not the check is skipped).</summary>
            public bool Refused => Verdict != null && !Verdict.Accepted;

            /// <summary>The validation callback's answer, the check skipped or not.</summary>
            public bool Validate(X509Certificate certificate, X509Chain chain, SslPolicyErrors errors)
            {
                Verdict = _trust.Evaluate(certificate, chain, errors, _targetHost, _options.IsServer, _options.RequireClientCertificate);
                return _options.SkipCertificateCheck || Verdict.Accepted;
            }

            /// <summary>The exception for a refused certificate.</summary>
            public Exception Failure(Exception inner)
            {
                string message = "The peer's certificate was refused: " + string.Join("; ", Verdict.Reasons) + ".";
                return Verdict.PinMismatch
                    ? (Exception)new CertificatePinMismatchException(message, inner)
                    : new CertificateValidationException(message, Verdict.Errors, inner);
            }

            /// <summary>What the socket shows once encrypted.</summary>
            public string[] Reasons => Verdict?.Reasons ?? s_noErrors;
        }
    }
}

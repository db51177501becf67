using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SocketCmdlets.Commands
{
    /// <summary>Makes a self-signed certificate with its private key for test servers and clients, optionally written to a PFX or PEM file.</summary>
    [Cmdlet(VerbsCommon.New, "SocketCertificate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(X509Certificate2))]
    public sealed class NewSocketCertificateCommand : SocketCommandBase
    {
        /// <summary>DNS names for the Subject Alternative Name extension; localhost by default (when -IPAddress is not given either).</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string[] DnsName { get; set; }

        /// <summary>IP addresses for the Subject Alternative Name extension; 127.0.0.1 and ::1 by default (when -DnsName is not given either).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] IPAddress { get; set; }

        /// <summary>The subject, for example 'CN=test server'; by default CN= the first name.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Subject { get; set; }

        /// <summary>Days the certificate is valid, from now (it starts five minutes ago); 365 by default.</summary>
        [Parameter]
        [ValidateRange(1, 36500)]
        public int ValidDays { get; set; } = 365;

        /// <summary>Rsa (2048 bits, the default) or ECDsa (P-256).</summary>
        [Parameter]
        public CertificateKeyAlgorithm KeyAlgorithm { get; set; } = CertificateKeyAlgorithm.Rsa;

        /// <summary>The RSA key size in bits: 2048 (the default), 3072 or 4096.</summary>
        [Parameter]
        [ValidateSet("2048", "3072", "4096")]
        public int KeySize { get; set; } = 2048;

        /// <summary>Also writes the certificate to this file: .pfx or .p12 (PKCS#12, with -Password) or .pem (certificate and unencrypted key, or the key in -KeyPath).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        /// <summary>With a .pem -Path: writes the private key to this file instead of next to the certificate.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string KeyPath { get; set; }

        /// <summary>The password that protects a .pfx file.</summary>
        [Parameter]
        public SecureString Password { get; set; }

        protected override void BeginProcessing()
        {
            string extension = Path == null ? null : System.IO.Path.GetExtension(Path).ToLowerInvariant();
            if (Path == null && (Password != null || KeyPath != null))
            {
                Fail("ConflictingParameters", ErrorCategory.InvalidArgument, "-Password and -KeyPath say how to write the file in -Path; give -Path too.");
            }

            if (extension != null && extension != ".pfx" && extension != ".p12" && extension != ".pem")
            {
                Fail("UnsupportedCertificateFormat", ErrorCategory.InvalidArgument, $"-Path '{Path}' must end in .pfx or .p12 (PKCS#12) or .pem (PEM certificate and key).");
            }

            if (extension == ".pem" && Password != null)
            {
                Fail("ConflictingParameters", ErrorCategory.InvalidArgument, "PEM keys are written unencrypted; for a password-protected file give a .pfx -Path.");
            }

            if (extension != ".pem" && KeyPath != null)
            {
                Fail("ConflictingParameters", ErrorCategory.InvalidArgument, "-KeyPath goes with a .pem -Path; a PFX holds its key.");
            }

            if (KeyAlgorithm == CertificateKeyAlgorithm.ECDsa && MyInvocation.BoundParameters.ContainsKey(nameof(KeySize)))
            {
                Fail("ConflictingParameters", ErrorCategory.InvalidArgument, "-KeySize is for Rsa keys; ECDsa keys use the P-256 curve.");
            }
        }

        protected override void ProcessRecord()
        {
            var request = new SelfSignedCertificateRequest
            {
                Subject = Subject,
                KeyAlgorithm = KeyAlgorithm,
                KeySize = KeySize,
                ValidDays = ValidDays,
            };
            bool defaults = DnsName == null && IPAddress == null;
            foreach (string name in defaults ? new[] { "localhost" } : DnsName ?? new string[0])
            {
                request.DnsNames.Add(name);
            }

            foreach (string text in defaults ? new[] { "127.0.0.1", "::1" } : IPAddress ?? new string[0])
            {
                if (!System.Net.IPAddress.TryParse(text, out IPAddress address))
                {
                    Fail("InvalidArgument", ErrorCategory.InvalidArgument, $"-IPAddress '{text}' is not an IP address; host names go in -DnsName.");
                }

                request.IPAddresses.Add(address);
            }

            X509Certificate2 certificate = null;
            try
            {
                certificate = SelfSignedCertificate.Create(request);
            }
            catch (PlatformNotSupportedException e)
            {
                Fail("CertificateCreationNotSupported", ErrorCategory.NotImplemented, $"Cannot make a certificate here: {e.Message}", e);
            }
            catch (Exception e) when (e is CryptographicException || e is ArgumentException)
            {
                Fail("CertificateCreationFailed", ErrorCategory.InvalidOperation, $"Cannot make the certificate: {e.Message}", e);
            }

            string names = string.Join(", ", request.DnsNames.Concat(request.IPAddresses.Select(a => a.ToString())));
            WriteVerbose($"Made a self-signed {(KeyAlgorithm == CertificateKeyAlgorithm.Rsa ? "RSA " + KeySize : "ECDSA P-256")} certificate '{certificate.Subject}' for {names}, valid until {certificate.NotAfter:u}, SHA-256 thumbprint {CertificateTrust.Sha256Thumbprint(certificate)}.");

            if (Path != null)
            {
                string full = GetUnresolvedProviderPathFromPSPath(Path);
                string key = KeyPath == null ? null : GetUnresolvedProviderPathFromPSPath(KeyPath);
                string what = key == null ? full : $"{full} and {key}";
                if (!ShouldProcess(what, "Write certificate and private key"))
                {
                    certificate.Dispose();
                    return;
                }

                try
                {
                    SelfSignedCertificate.Export(certificate, full, Password, key);
                    WriteVerbose($"Wrote the certificate and its private key to {what}.");
                }
                catch (PlatformNotSupportedException e)
                {
                    Fail("NotSupported", ErrorCategory.NotImplemented, $"Cannot write '{Path}': {e.Message}", e);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is CryptographicException)
                {
                    Fail(e is UnauthorizedAccessException ? "AccessDenied" : "FileError", e is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.WriteError,
                        $"Cannot write the certificate to '{what}': {e.Message}", e);
                }
            }

            WriteObject(certificate);
        }

        private void Fail(string errorId, ErrorCategory category, string message, Exception inner = null) =>
            ThrowTerminatingError(ErrorFactory.Create(inner ?? new ArgumentException(message), errorId, category, Path, message));
    }
}

using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Reflection;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace SocketCmdlets
{
    /// <summary>The key algorithms a self-signed certificate can use.</summary>
    public enum CertificateKeyAlgorithm
    {
        /// <summary>RSA, 2048 bits by default.</summary>
        Rsa,
        /// <summary>ECDSA on the NIST P-256 curve.</summary>
        ECDsa,
    }

    /// <summary>What a self-signed certificate should be.</summary>
    internal sealed class SelfSignedCertificateRequest
    {
        /// <summary>The subject; by default CN= the first DNS name (or IP address).</summary>
        public string Subject { get; set; }

        /// <summary>DNS names for the Subject Alternative Name extension.</summary>
        public IList<string> DnsNames { get; set; } = new List<string>();

        /// <summary>IP addresses for the Subject Alternative Name extension.</summary>
        public IList<IPAddress> IPAddresses { get; set; } = new List<IPAddress>();

        /// <summary>The key algorithm.</summary>
        public CertificateKeyAlgorithm KeyAlgorithm { get; set; } = CertificateKeyAlgorithm.Rsa;

        /// <summary>The RSA key size in bits (ignored for ECDsa).</summary>
        public int KeySize { get; set; } = 2048;

        /// <summary>The start of validity; by default five minutes ago, so clocks a little behind still accept it.</summary>
        public DateTimeOffset? NotBefore { get; set; }

        /// <summary>The end of validity; by default <see cref="ValidDays"/> days from now.</summary>
        public DateTimeOffset? NotAfter { get; set; }

        /// <summary>Days of validity from now, when <see cref="NotAfter"/> is not set.</summary>
        public int ValidDays { get; set; } = 365;

        /// <summary>True to mark it as a certificate authority that may issue others (basic constraints CA:TRUE).</summary>
        public bool IsCertificateAuthority { get; set; }
    }

    /// <summary>
    /// Makes self-signed certificates with their private key. CertificateRequest is not named by netstandard2.0, but
    /// PowerShell 7's runtime and .NET Framework 4.7.2 have it: it is reached by reflection, and where it is missing the
    /// call throws <see cref="PlatformNotSupportedException"/>.
    /// </summary>
    internal static class SelfSignedCertificate
    {
        private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
        private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";
        private const string Namespace = "System.Security.Cryptography.X509Certificates.";

        // CertificateRequest lives where RSACertificateExtensions does: System.Security.Cryptography.X509Certificates on
        // .NET, System.Core on .NET Framework 4.7.2.
        private static readonly Assembly s_assembly = typeof(RSACertificateExtensions).Assembly;
        private static readonly Type s_request = s_assembly.GetType(Namespace + "CertificateRequest", false);
        private static readonly Type s_names = s_assembly.GetType(Namespace + "SubjectAlternativeNameBuilder", false);

        /// <summary>True when this runtime can make certificates.</summary>
        public static bool IsSupported => s_request != null && s_names != null;

        /// <summary>A new self-signed certificate with its private key, usable at once as a TLS server or client certificate.</summary>
        public static X509Certificate2 Create(SelfSignedCertificateRequest request)
        {
            if (request == null)
            {
                throw new ArgumentNullException(nameof(request));
            }

            if (!IsSupported)
            {
                throw new PlatformNotSupportedException("This runtime has no CertificateRequest (it needs .NET Framework 4.7.2 or .NET Core 2.0 or later); make the certificate with openssl or New-SelfSignedCertificate and load it from a file.");
            }

            DateTimeOffset notBefore = request.NotBefore ?? DateTimeOffset.UtcNow.AddMinutes(-5);
            DateTimeOffset notAfter = request.NotAfter ?? DateTimeOffset.UtcNow.AddDays(request.ValidDays);
            if (notAfter <= notBefore)
            {
                throw new ArgumentException("The certificate would end before it begins: give a positive number of days.");
            }

            string subject = request.Subject ?? "CN=" + (request.DnsNames.FirstOrDefault() ?? request.IPAddresses.FirstOrDefault()?.ToString() ?? "localhost");
            AsymmetricAlgorithm key = null;
            try
            {
                object builder;
                if (request.KeyAlgorithm == CertificateKeyAlgorithm.ECDsa)
                {
                    var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                    key = ecdsa;
                    builder = Activator.CreateInstance(s_request, subject, ecdsa, HashAlgorithmName.SHA256);
                }
                else
                {
                    // RSA.Create(int) (.NET Framework 4.7.2, .NET Core 2.0) sizes the key on every runtime; setting KeySize
                    // afterwards does not on .NET Framework's RSACryptoServiceProvider.
                    MethodInfo sized = typeof(RSA).GetMethod("Create", new[] { typeof(int) });
                    RSA rsa = sized != null ? (RSA)sized.Invoke(null, new object[] { request.KeySize }) : RSA.Create();
                    key = rsa;
                    if (rsa.KeySize != request.KeySize)
                    {
                        rsa.KeySize = request.KeySize;
                    }
                    builder = Activator.CreateInstance(s_request, subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                }

                var extensions = (IList)s_request.GetProperty("CertificateExtensions").GetValue(builder);
                AddExtensions(extensions, request, key);
                var selfSigned = (X509Certificate2)Call(builder, "CreateSelfSigned", notBefore, notAfter);

                // A key made in memory cannot serve TLS on every platform (Windows' SslStream needs a stored key); a
                // PKCS#12 round trip gives one that can, at once, everywhere.
                using (selfSigned)
                {
                    byte[] pfx = selfSigned.Export(X509ContentType.Pkcs12, "round-trip");
                    return new X509Certificate2(pfx, "round-trip", X509KeyStorageFlags.Exportable);
                }
            }
            finally
            {
                key?.Dispose();
            }
        }

        /// <summary>
        /// Writes <paramref name="certificate"/> to <paramref name="path"/>: a .pfx/.p12 (PKCS#12, protected by
        /// <paramref name="password"/> when given) or a .pem holding the certificate and its unencrypted PKCS#8 key
        /// (or the key in <paramref name="keyPath"/>), which openssl reads as they are.
        /// </summary>
        public static void Export(X509Certificate2 certificate, string path, SecureString password, string keyPath = null)
        {
            string extension = Path.GetExtension(path).ToLowerInvariant();
            if (extension == ".pfx" || extension == ".p12")
            {
                byte[] pfx = password != null ? certificate.Export(X509ContentType.Pkcs12, password) : certificate.Export(X509ContentType.Pkcs12);
                WritePrivate(path, pfx);
                return;
            }

            if (extension != ".pem" && extension != ".crt" && extension != ".cer")
            {
                throw new ArgumentException($"'{path}' must end in .pfx or .p12 (PKCS#12) or .pem (PEM certificate and key).");
            }

            if (password != null)
            {
                throw new ArgumentException("PEM keys are written unencrypted; for a password-protected file give a .pfx path.");
            }

            string certificatePem = Pem("CERTIFICATE", certificate.RawData);
            string keyPem = Pem("PRIVATE KEY", ExportPkcs8(certificate));
            if (keyPath == null)
            {
                WritePrivate(path, Encoding.ASCII.GetBytes(certificatePem + keyPem));
            }
            else
            {
                File.WriteAllText(path, certificatePem, Encoding.ASCII);
                WritePrivate(keyPath, Encoding.ASCII.GetBytes(keyPem));
            }
        }

        /// <summary>Text in PEM armour: base64 in lines of 64 characters.</summary>
        internal static string Pem(string label, byte[] der)
        {
            string base64 = Convert.ToBase64String(der);
            var text = new StringBuilder();
            text.Append("-----BEGIN ").Append(label).Append("-----\n");
            for (int i = 0; i < base64.Length; i += 64)
            {
                text.Append(base64, i, Math.Min(64, base64.Length - i)).Append('\n');
            }

            return text.Append("-----END ").Append(label).Append("-----\n").ToString();
        }

        private static void AddExtensions(IList extensions, SelfSignedCertificateRequest request, AsymmetricAlgorithm key)
        {
            extensions.Add(new X509BasicConstraintsExtension(request.IsCertificateAuthority, false, 0, true));
            X509KeyUsageFlags usage = request.IsCertificateAuthority
                ? X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature
                : key is RSA ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment : X509KeyUsageFlags.DigitalSignature;
            extensions.Add(new X509KeyUsageExtension(usage, true));
            if (!request.IsCertificateAuthority)
            {
                extensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid(ServerAuthentication), new Oid(ClientAuthentication) }, false));
            }

            if (request.DnsNames.Count > 0 || request.IPAddresses.Count > 0)
            {
                object names = Activator.CreateInstance(s_names);
                foreach (string name in request.DnsNames)
                {
                    Call(names, "AddDnsName", name);
                }

                foreach (IPAddress address in request.IPAddresses)
                {
                    Call(names, "AddIpAddress", address);
                }

                extensions.Add((X509Extension)Call(names, "Build", false));
            }
        }

        private static byte[] ExportPkcs8(X509Certificate2 certificate)
        {
            AsymmetricAlgorithm key = (AsymmetricAlgorithm)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey();
            if (key == null)
            {
                throw new ArgumentException($"The certificate '{certificate.Subject}' has no RSA or ECDSA private key to write.");
            }

            using (key)
            {
                MethodInfo export = key.GetType().GetMethod("ExportPkcs8PrivateKey", Type.EmptyTypes);
                if (export == null)
                {
                    throw new PlatformNotSupportedException("Writing a PEM key needs PowerShell 7 (.NET Core 3.0 or later); give a .pfx path instead.");
                }

                try
                {
                    return (byte[])export.Invoke(key, null);
                }
                catch (TargetInvocationException e) when (e.InnerException is CryptographicException)
                {
                    throw new CertificateLoadException($"The private key of '{certificate.Subject}' cannot be exported: {e.InnerException.Message}", e.InnerException);
                }
            }
        }

        private static void WritePrivate(string path, byte[] bytes)
        {
            // Created empty and readable by its owner only (where the runtime can say so) before the key goes in.
            using (new FileStream(path, FileMode.Create, FileAccess.Write))
            {
            }

            Type mode = Type.GetType("System.IO.UnixFileMode, System.Runtime", false) ?? typeof(File).Assembly.GetType("System.IO.UnixFileMode", false);
            MethodInfo setMode = mode == null ? null : typeof(File).GetMethod("SetUnixFileMode", new[] { typeof(string), mode });
            if (setMode != null && Path.DirectorySeparatorChar == '/')
            {
                // UserRead | UserWrite (0600).
                setMode.Invoke(null, new[] { path, Enum.ToObject(mode, 256 | 128) });
            }

            File.WriteAllBytes(path, bytes);
        }

        private static object Call(object target, string name, params object[] arguments)
        {
            MethodInfo method = target.GetType().GetMethods()
                .First(m => m.Name == name && m.GetParameters().Length == arguments.Length
                    && m.GetParameters().Select((p, i) => arguments[i] == null || p.ParameterType.IsInstanceOfType(arguments[i])).All(ok => ok));
            try
            {
                return method.Invoke(target, arguments);
            }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>Certificates for the TLS tests: made in memory, or by the openssl program where the runtime cannot (Mono).</summary>
    internal static class TestCertificates
    {
        /// <summary>A self-signed RSA certificate for localhost and 127.0.0.1, with a private key SslStream can use on every runtime.</summary>
        public static X509Certificate2 SelfSigned()
        {
            if (RuntimeFacts.IsMono)
            {
                // Mono's class library has no CertificateRequest.
                string folder = Path.Combine(Path.GetTempPath(), "socketcmdlets-tls-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(folder);
                try
                {
                    return new X509Certificate2(OpenSslPfx(folder, "server", legacy: true, password: "tls-test"), "tls-test", X509KeyStorageFlags.Exportable);
                }
                finally
                {
                    Directory.Delete(folder, true);
                }
            }

            return InMemory();
        }

        /// <summary>
        /// Writes <paramref name="name"/>.pfx to <paramref name="folder"/> with the openssl program, from one key and
        /// certificate kept in the folder: with OpenSSL 3's defaults (AES-256, PBES2) or, <paramref name="legacy"/>,
        /// 3DES with a SHA-1 MAC as <c>openssl pkcs12 -export -legacy</c> writes (spelled out, so OpenSSL's legacy
        /// provider is not needed).
        /// </summary>
        public static string OpenSslPfx(string folder, string name, bool legacy, string password)
        {
            string key = Path.Combine(folder, "key.pem");
            string cert = Path.Combine(folder, "cert.pem");
            if (!File.Exists(cert))
            {
                OpenSsl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=localhost", "-days", "2",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1");
            }

            string pfx = Path.Combine(folder, name + ".pfx");
            var args = new List<string> { "pkcs12", "-export", "-in", cert, "-inkey", key, "-out", pfx, "-passout", "pass:" + password };
            if (legacy)
            {
                args.AddRange(new[] { "-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1" });
            }

            OpenSsl(args.ToArray());
            return pfx;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static X509Certificate2 InMemory()
        {
            using (RSA rsa = RSA.Create(2048))
            {
                var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                var names = new SubjectAlternativeNameBuilder();
                names.AddDnsName("localhost");
                names.AddIpAddress(IPAddress.Loopback);
                request.CertificateExtensions.Add(names.Build());
                request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                    new OidCollection { new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2") }, false));
                request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
                using (X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.Now.AddMinutes(-10), DateTimeOffset.Now.AddDays(2)))
                {
                    // A PKCS#12 round trip gives a key that SslStream can use on every platform.
                    return new X509Certificate2(ephemeral.Export(X509ContentType.Pkcs12, "round-trip"), "round-trip", X509KeyStorageFlags.Exportable);
                }
            }
        }

        private static void OpenSsl(params string[] args)
        {
            string openssl = RuntimeFactAttribute.FindOnPath("openssl");
            Assert.True(openssl != null, "openssl is not installed.");
            var start = new ProcessStartInfo(openssl)
            {
                Arguments = string.Join(" ", Array.ConvertAll(args, a => "\"" + a + "\"")),
                UseShellExecute = false,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            using (Process process = Process.Start(start))
            {
                var output = process.StandardOutput.ReadToEndAsync();
                var errors = process.StandardError.ReadToEndAsync();
                Assert.True(process.WaitForExit(60000), "openssl did not finish in time.");
                process.WaitForExit();
                Assert.True(process.ExitCode == 0, $"openssl {string.Join(" ", args)} failed: {errors.Result}");
            }
        }
    }
}

using System;
using System.IO;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>
    /// The certificate loader (CertificateLoader.cs): PFX files made by the openssl program (OpenSSL 3's default,
    /// AES-256 with PBES2, which Mono and older .NET Framework cannot decrypt, and -legacy, 3DES, which every runtime
    /// reads), PEM files with the key inside or beside them, and the errors that name what is wrong.
    /// </summary>
    public sealed class CertificateLoaderTests : IDisposable
    {
        private const string Password = "pfx-secret";
        private readonly string _folder = Path.Combine(Path.GetTempPath(), "socketcmdlets-pfx-" + Guid.NewGuid().ToString("N"));

        public CertificateLoaderTests() => Directory.CreateDirectory(_folder);

        public void Dispose() => Directory.Delete(_folder, true);

        [RuntimeFact(Tool = "openssl")]
        public void OpenSSL_3_defaults_are_recognised_as_AES_256_and_legacy_files_are_not()
        {
            Assert.True(Pkcs12Facts.UsesAes256(MakePfx("default", legacy: false)));
            Assert.False(Pkcs12Facts.UsesAes256(MakePfx("legacy", legacy: true)));
        }

        [RuntimeFact(Tool = "openssl")]
        public void A_legacy_PFX_loads_with_its_private_key()
        {
            using (var certificate = CertificateLoader.Load(MakePfx("legacy", legacy: true), Secure(Password)))
            {
                Assert.True(certificate.HasPrivateKey);
                Assert.Equal("CN=localhost", certificate.Subject);
            }
        }

        [RuntimeFact(Tool = "openssl")]
        public void A_wrong_password_is_named_as_a_possible_cause()
        {
            var e = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(MakePfx("legacy", legacy: true), Secure("not-the-password")));
            Assert.Equal(CertificateLoadReason.Unreadable, e.Reason);
            Assert.Contains("wrong password", e.Message);
        }

        [RuntimeFact(TestRuntime.Mono | TestRuntime.NetFramework, "its PKCS#12 reader cannot decrypt AES-256 (see the test that checks the message)", Tool = "openssl")]
        public void An_OpenSSL_3_default_PFX_loads_where_the_runtime_reads_AES_256()
        {
            using (var certificate = CertificateLoader.Load(MakePfx("default", legacy: false), Secure(Password)))
            {
                Assert.True(certificate.HasPrivateKey);
            }
        }

        [RuntimeFact(TestRuntime.DotNet, ".NET 5 and later read AES-256 PFX files, so there is no failure to describe", Tool = "openssl")]
        public void An_OpenSSL_3_default_PFX_the_runtime_cannot_read_names_the_cause_and_the_legacy_export()
        {
            string path = MakePfx("default", legacy: false);
            var e = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(path, Secure(Password)));
            Assert.Contains("AES-256", e.Message);
            Assert.Contains("openssl pkcs12 -export -legacy", e.Message);
            Assert.DoesNotContain("wrong password", e.Message);
            Assert.NotEqual(CertificateLoadReason.Unreadable, e.Reason);
            Assert.Contains(path, e.Message);
        }

        [Fact]
        public void A_missing_certificate_or_key_file_is_FileNotFound_naming_it()
        {
            string missing = Path.Combine(_folder, "missing.pfx");
            Assert.Equal(missing, Assert.Throws<FileNotFoundException>(() => CertificateLoader.Load(missing)).FileName);
            string present = Path.Combine(_folder, "present.pem");
            File.WriteAllText(present, "-----BEGIN CERTIFICATE-----\n");
            string missingKey = Path.Combine(_folder, "missing.key");
            Assert.Equal(missingKey, Assert.Throws<FileNotFoundException>(() => CertificateLoader.Load(present, null, missingKey)).FileName);
        }

        [Fact]
        public void A_password_for_a_PEM_file_is_refused_as_unsupported()
        {
            string pem = Path.Combine(_folder, "any.pem");
            File.WriteAllText(pem, "-----BEGIN CERTIFICATE-----\n");
            var e = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(pem, Secure(Password)));
            Assert.Contains("encrypted PEM keys are not supported", e.Message);
        }

        [Fact]
        public void A_file_that_is_neither_PFX_nor_PEM_cannot_be_read()
        {
            string junk = Path.Combine(_folder, "junk.bin");
            File.WriteAllBytes(junk, new byte[] { 1, 2, 3, 4 });
            var e = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(junk));
            Assert.Contains(junk, e.Message);
        }

        [RuntimeFact(TestRuntime.Mono | TestRuntime.NetFramework, "PEM certificates need .NET 5 or later")]
        public void A_PEM_file_with_its_key_inside_loads_with_the_private_key()
        {
            using (X509Certificate2 certificate = TestCertificates.SelfSigned())
            {
                string pem = Path.Combine(_folder, "both.pem");
                SelfSignedCertificate.Export(certificate, pem, null);
                using (X509Certificate2 loaded = CertificateLoader.Load(pem))
                {
                    Assert.True(loaded.HasPrivateKey);
                    Assert.Equal(certificate.Thumbprint, loaded.Thumbprint);
                }
            }
        }

        [RuntimeFact(TestRuntime.Mono | TestRuntime.NetFramework, "PEM certificates need .NET 5 or later")]
        public void A_PEM_certificate_loads_with_its_key_from_another_file()
        {
            using (X509Certificate2 certificate = TestCertificates.SelfSigned())
            {
                string pem = Path.Combine(_folder, "cert.pem");
                string key = Path.Combine(_folder, "cert.key");
                SelfSignedCertificate.Export(certificate, pem, null, key);
                Assert.DoesNotContain("PRIVATE KEY", File.ReadAllText(pem));
                using (X509Certificate2 loaded = CertificateLoader.Load(pem, null, key))
                {
                    Assert.True(loaded.HasPrivateKey);
                    Assert.Equal(certificate.Thumbprint, loaded.Thumbprint);
                }
            }
        }

        [RuntimeFact(TestRuntime.Mono | TestRuntime.NetFramework, "PEM certificates need .NET 5 or later")]
        public void A_PEM_key_of_another_certificate_is_refused_naming_both_files()
        {
            using (X509Certificate2 certificate = TestCertificates.SelfSigned())
            using (X509Certificate2 other = TestCertificates.SelfSigned())
            {
                string pem = Path.Combine(_folder, "mine.pem");
                string otherPem = Path.Combine(_folder, "other.pem");
                string otherKey = Path.Combine(_folder, "other.key");
                SelfSignedCertificate.Export(certificate, pem, null, Path.Combine(_folder, "mine.key"));
                SelfSignedCertificate.Export(other, otherPem, null, otherKey);
                var e = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(pem, null, otherKey));
                Assert.Contains("No certificate with a matching private key", e.Message);
                Assert.Contains(pem, e.Message);
                Assert.Contains(otherKey, e.Message);
            }
        }

        [RuntimeFact(TestRuntime.Mono, "its PKCS#12 export of a certificate without a key is not checked here")]
        public void A_PFX_without_a_private_key_is_refused()
        {
            using (X509Certificate2 certificate = TestCertificates.SelfSigned())
            using (var publicOnly = new X509Certificate2(certificate.RawData))
            {
                string pfx = Path.Combine(_folder, "public.pfx");
                File.WriteAllBytes(pfx, publicOnly.Export(X509ContentType.Pkcs12));
                var e = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(pfx));
                Assert.Contains("holds no private key", e.Message);
            }
        }

        private string MakePfx(string name, bool legacy) => TestCertificates.OpenSslPfx(_folder, name, legacy, Password);

        internal static SecureString Secure(string text)
        {
            var secure = new SecureString();
            foreach (char c in text)
            {
                secure.AppendChar(c);
            }

            secure.MakeReadOnly();
            return secure;
        }
    }
}

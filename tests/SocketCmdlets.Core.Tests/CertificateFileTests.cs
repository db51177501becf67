using System;
using System.IO;
using System.Security;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>
    /// PFX files made by the openssl program: OpenSSL 3's default (AES-256, PBES2), which Mono and older .NET Framework
    /// cannot decrypt, and -legacy (3DES), which every runtime reads.
    /// </summary>
    public sealed class CertificateFileTests : IDisposable
    {
        private const string Password = "pfx-secret";
        private readonly string _folder = Path.Combine(Path.GetTempPath(), "socketcmdlets-pfx-" + Guid.NewGuid().ToString("N"));

        public CertificateFileTests() => Directory.CreateDirectory(_folder);

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

using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>CertificateTrust and SelfSignedCertificate without any socket: verdicts on certificates and chains built here.</summary>
    public sealed class CertificateTrustTests
    {
        private static X509Certificate2 SelfSigned(string name = "localhost", int days = 2, bool ca = false) =>
            SelfSignedCertificate.Create(new SelfSignedCertificateRequest
            {
                DnsNames = { name },
                ValidDays = days,
                IsCertificateAuthority = ca,
                NotBefore = DateTimeOffset.UtcNow.AddDays(-10),
            });

        /// <summary>A leaf for localhost issued by <paramref name="issuer"/>, valid from <paramref name="notBefore"/> to <paramref name="notAfter"/>.</summary>
        private static X509Certificate2 Issued(X509Certificate2 issuer, DateTimeOffset notBefore, DateTimeOffset notAfter)
        {
            using (RSA rsa = RSA.Create(2048))
            {
                var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                var names = new SubjectAlternativeNameBuilder();
                names.AddDnsName("localhost");
                request.CertificateExtensions.Add(names.Build());
                request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
                byte[] serial = new byte[8];
                using (var random = RandomNumberGenerator.Create())
                {
                    random.GetBytes(serial);
                }
                using (X509Certificate2 leaf = request.Create(issuer, notBefore, notAfter, serial))
                {
                    return leaf.CopyWithPrivateKey(rsa);
                }
            }
        }

        /// <summary>What a TLS client sees: the system's chain (which trusts neither test root) and its errors.</summary>
        private static (X509Chain Chain, SslPolicyErrors Errors) SystemView(X509Certificate2 certificate, bool nameMismatch = false, params X509Certificate2[] sent)
        {
            var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.ExtraStore.AddRange(sent);
            bool valid = chain.Build(certificate);
            SslPolicyErrors errors = (valid ? SslPolicyErrors.None : SslPolicyErrors.RemoteCertificateChainErrors)
                | (nameMismatch ? SslPolicyErrors.RemoteCertificateNameMismatch : SslPolicyErrors.None);
            return (chain, errors);
        }

        [RuntimeTheory(TestRuntime.Mono, "Mono has no CertificateRequest, which these tests use to make certificates and chains")]
        [InlineData("ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01", "ABCDEF0123456789ABCDEF0123456789ABCDEF01")]
        [InlineData("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789")]
        public void A_thumbprint_is_normalized_to_upper_case_hex(string given, string expected) =>
            Assert.Equal(expected, CertificateTrust.NormalizeThumbprint(given));

        [RuntimeTheory(TestRuntime.Mono, "Mono has no CertificateRequest, which these tests use to make certificates and chains")]
        [InlineData("")]
        [InlineData("ABCDEF")]
        [InlineData("XYZDEF0123456789ABCDEF0123456789ABCDEF01")]
        public void A_value_that_is_not_a_thumbprint_is_refused(string given) =>
            Assert.Throws<ArgumentException>(() => CertificateTrust.NormalizeThumbprint(given));

        [RuntimeFact(TestRuntime.Mono, "Mono has no CertificateRequest, which these tests use to make certificates and chains")]
        public void Without_trust_of_its_own_a_self_signed_certificate_is_refused_with_the_chain_status()
        {
            using (X509Certificate2 certificate = SelfSigned())
            {
                var (chain, errors) = SystemView(certificate);
                CertificateVerdict verdict = new CertificateTrust(null, null).Evaluate(certificate, chain, errors, "localhost", false, false);
                Assert.False(verdict.Accepted);
                Assert.Contains(verdict.Reasons, r => r.Contains("untrusted root"));
            }
        }

        [RuntimeFact(TestRuntime.Mono, "Mono has no CertificateRequest, which these tests use to make certificates and chains")]
        public void A_self_signed_certificate_given_as_a_root_is_accepted_with_no_reasons()
        {
            using (X509Certificate2 certificate = SelfSigned())
            using (var publicOnly = new X509Certificate2(certificate.RawData))
            {
                var (chain, errors) = SystemView(certificate);
                Assert.NotEqual(SslPolicyErrors.None, errors);
                CertificateVerdict verdict = new CertificateTrust(new[] { publicOnly }, null).Evaluate(certificate, chain, errors, "localhost", false, false);
                Assert.True(verdict.Accepted, string.Join("; ", verdict.Reasons));
                Assert.Empty(verdict.Reasons);
            }
        }

        [RuntimeFact(TestRuntime.Mono, "Mono has no CertificateRequest, which these tests use to make certificates and chains")]
        public void A_trusted_root_does_not_excuse_a_name_mismatch()
        {
            using (X509Certificate2 certificate = SelfSigned())
            {
                var (chain, errors) = SystemView(certificate, nameMismatch: true);
                CertificateVerdict verdict = new CertificateTrust(new[] { certificate }, null).Evaluate(certificate, chain, errors, "other.test", false, false);
                Assert.False(verdict.Accepted);
                Assert.Equal(new[] { "the certificate's name does not match 'other.test' (name mismatch)" }, verdict.Reasons);
                Assert.False(verdict.PinMismatch);
            }
        }

        [RuntimeFact(TestRuntime.Mono, "Mono has no CertificateRequest, which these tests use to make certificates and chains")]
        public void Another_root_does_not_vouch_for_a_certificate()
        {
            using (X509Certificate2 certificate = SelfSigned())
            using (X509Certificate2 other = SelfSigned())
            {
                var (chain, errors) = SystemView(certificate);
                CertificateVerdict verdict = new CertificateTrust(new[] { other }, null).Evaluate(certificate, chain, errors, "localhost", false, false);
                Assert.False(verdict.Accepted);
                Assert.Contains(verdict.Reasons, r => r.Contains("not issued by any of the certificates trusted for this call"));
            }
        }

        [RuntimeFact(TestRuntime.Mono, "Mono has no CertificateRequest, which these tests use to make certificates and chains")]
        public void A_leaf_issued_by_a_trusted_authority_is_accepted_and_an_expired_one_is_not()
        {
            using (X509Certificate2 ca = SelfSigned("Test CA", 2, ca: true))
            using (X509Certificate2 leaf = Issued(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1)))
            using (X509Certificate2 expired = Issued(ca, DateTimeOffset.UtcNow.AddDays(-3), DateTimeOffset.UtcNow.AddDays(-1)))
            using (var caPublic = new X509Certificate2(ca.RawData))
            {
                var trust = new CertificateTrust(new[] { caPublic }, null);
                var (chain, errors) = SystemView(leaf);
                CertificateVerdict good = trust.Evaluate(leaf, chain, errors, "localhost", false, false);
                Assert.True(good.Accepted, string.Join("; ", good.Reasons));

                var (chain2, errors2) = SystemView(expired);
                CertificateVerdict bad = trust.Evaluate(expired, chain2, errors2, "localhost", false, false);
                Assert.False(bad.Accepted);
                Assert.Contains(bad.Reasons, r => r.Contains("expired"));
            }
        }

        [RuntimeFact(TestRuntime.Mono, "Mono has no CertificateRequest, which these tests use to make certificates and chains")]
        public void A_pinned_certificate_is_accepted_by_its_SHA256_or_SHA1_thumbprint_and_another_is_refused_as_a_pin_mismatch()
        {
            using (X509Certificate2 certificate = SelfSigned())
            using (X509Certificate2 other = SelfSigned())
            {
                var (chain, errors) = SystemView(certificate);
                string sha256 = BitConverter.ToString(Compat.Sha256(certificate.RawData)).Replace("-", string.Empty);
                Assert.Equal(sha256, CertificateTrust.Sha256Thumbprint(certificate));
                Assert.True(new CertificateTrust(null, new[] { sha256.ToLowerInvariant() }).Evaluate(certificate, chain, errors, "localhost", false, false).Accepted);
                Assert.True(new CertificateTrust(null, new[] { certificate.Thumbprint }).Evaluate(certificate, chain, errors, "localhost", false, false).Accepted);

                CertificateVerdict refused = new CertificateTrust(null, new[] { other.Thumbprint }).Evaluate(certificate, chain, errors, "localhost", false, false);
                Assert.False(refused.Accepted);
                Assert.True(refused.PinMismatch);
                Assert.Contains(sha256, refused.Reasons[0]);
            }
        }

        [RuntimeFact(TestRuntime.Mono, "Mono has no CertificateRequest, which these tests use to make certificates and chains")]
        public void A_pin_refuses_even_a_certificate_the_system_would_accept()
        {
            using (X509Certificate2 certificate = SelfSigned())
            using (X509Certificate2 other = SelfSigned())
            {
                CertificateVerdict verdict = new CertificateTrust(null, new[] { other.Thumbprint }).Evaluate(certificate, null, SslPolicyErrors.None, "localhost", false, false);
                Assert.False(verdict.Accepted);
            }
        }

        [RuntimeFact(TestRuntime.Mono, "Mono has no CertificateRequest, which these tests use to make certificates and chains")]
        public void A_server_accepts_a_client_without_certificate_unless_it_requires_one()
        {
            var trust = new CertificateTrust(null, null);
            Assert.True(trust.Evaluate(null, null, SslPolicyErrors.RemoteCertificateNotAvailable, "localhost", true, false).Accepted);
            CertificateVerdict required = trust.Evaluate(null, null, SslPolicyErrors.RemoteCertificateNotAvailable, "localhost", true, true);
            Assert.False(required.Accepted);
            Assert.Equal(new[] { "the client sent no certificate" }, required.Reasons);
        }

        [RuntimeFact(TestRuntime.Mono, "Mono has no CertificateRequest, which these tests use to make certificates and chains")]
        public void An_AES_encrypted_pfx_gets_the_legacy_export_advice_only_where_the_runtime_cannot_read_it()
        {
            // The DER of the two OIDs an OpenSSL 3 PFX names: PBES2 and AES-256-CBC.
            byte[] aes = { 0x30, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D, 0x30, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A };
            using (X509Certificate2 certificate = SelfSigned())
            {
                // .NET writes 3DES by default.
                byte[] tripleDes = certificate.Export(X509ContentType.Pkcs12, "pw");
                Assert.Contains("openssl pkcs12 -export -legacy", Pkcs12Facts.Advice(aes, runtimeLacksAes256: true));
                Assert.Equal(string.Empty, Pkcs12Facts.Advice(aes, runtimeLacksAes256: false));
                Assert.Equal(string.Empty, Pkcs12Facts.Advice(tripleDes, runtimeLacksAes256: true));
                Assert.Equal(RuntimeFacts.IsMono || RuntimeFacts.IsNetFramework, Pkcs12Facts.RuntimeLacksAes256);
            }
        }

        [RuntimeTheory(TestRuntime.Mono, "Mono has no CertificateRequest, which these tests use to make certificates and chains")]
        [InlineData(CertificateKeyAlgorithm.Rsa)]
        [InlineData(CertificateKeyAlgorithm.ECDsa)]
        public void A_new_certificate_has_its_key_the_default_names_and_the_requested_validity(CertificateKeyAlgorithm algorithm)
        {
            var request = new SelfSignedCertificateRequest { KeyAlgorithm = algorithm, ValidDays = 3, DnsNames = { "localhost" }, IPAddresses = { IPAddress.Loopback, IPAddress.IPv6Loopback } };
            using (X509Certificate2 certificate = SelfSignedCertificate.Create(request))
            {
                Assert.True(certificate.HasPrivateKey);
                Assert.Equal("CN=localhost", certificate.Subject);
                Assert.InRange(certificate.NotAfter.ToUniversalTime(), DateTime.UtcNow.AddDays(2), DateTime.UtcNow.AddDays(4));
                string names = certificate.Extensions["2.5.29.17"].Format(false);
                Assert.Contains("localhost", names);
                Assert.Contains("127.0.0.1", names);
                Assert.True(algorithm == CertificateKeyAlgorithm.Rsa ? certificate.GetRSAPrivateKey() != null : certificate.GetECDsaPrivateKey() != null);
            }
        }

        [RuntimeFact(TestRuntime.Mono, "Mono has no CertificateRequest, which these tests use to make certificates and chains")]
        public void Pem_and_pfx_files_load_back_with_their_key_and_as_trusted_certificates()
        {
            string folder = Path.Combine(Path.GetTempPath(), "sc-trust-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(folder);
            try
            {
                using (X509Certificate2 certificate = SelfSigned())
                using (X509Certificate2 other = SelfSigned("other.test"))
                {
                    string pem = Path.Combine(folder, "c.pem");
                    string pfx = Path.Combine(folder, "c.pfx");
                    string der = Path.Combine(folder, "c.cer");
                    string bundle = Path.Combine(folder, "bundle.pem");
                    SelfSignedCertificate.Export(certificate, pem, null);
                    SelfSignedCertificate.Export(certificate, pfx, null);
                    File.WriteAllBytes(der, certificate.RawData);
                    File.WriteAllText(bundle, SelfSignedCertificate.Pem("CERTIFICATE", other.RawData) + SelfSignedCertificate.Pem("CERTIFICATE", certificate.RawData));

                    using (X509Certificate2 fromPem = CertificateLoader.Load(pem))
                    {
                        Assert.True(fromPem.HasPrivateKey);
                        Assert.Equal(certificate.Thumbprint, fromPem.Thumbprint);
                    }

                    foreach (string path in new[] { pem, pfx, der })
                    {
                        Assert.Equal(certificate.Thumbprint, Assert.Single(CertificateTrust.Load(path)).Thumbprint);
                    }

                    Assert.Equal(new[] { other.Thumbprint, certificate.Thumbprint }, CertificateTrust.Load(bundle).Select(c => c.Thumbprint));
                    File.WriteAllText(Path.Combine(folder, "junk.txt"), "not a certificate");
                    Assert.Throws<CertificateLoadException>(() => CertificateTrust.Load(Path.Combine(folder, "junk.txt")));
                    Assert.Throws<FileNotFoundException>(() => CertificateTrust.Load(Path.Combine(folder, "missing.pem")));
                }
            }
            finally
            {
                Directory.Delete(folder, true);
            }
        }
    }
}

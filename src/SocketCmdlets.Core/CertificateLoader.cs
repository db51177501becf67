using System;
using System.IO;
using System.Reflection;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SocketCmdlets
{
    /// <summary>Loads a certificate with its private key from a PFX/PKCS#12 file or from PEM files.</summary>
    internal static class CertificateLoader
    {
        /// <summary>
        /// Loads <paramref name="path"/>: a PFX (with <paramref name="password"/>) or a PEM certificate whose key is in
        /// the same file or in <paramref name="keyPath"/>. Throws <see cref="FileNotFoundException"/> for a missing
        /// file and <see cref="CertificateLoadException"/> for a wrong password or an unreadable file.
        /// </summary>
        public static X509Certificate2 Load(string path, SecureString password = null, string keyPath = null)
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"The certificate file '{path}' does not exist.", path);
            }

            if (keyPath != null && !File.Exists(keyPath))
            {
                throw new FileNotFoundException($"The key file '{keyPath}' does not exist.", keyPath);
            }

            try
            {
                if (IsPem(path))
                {
                    if (password != null && password.Length > 0)
                    {
                        throw new CertificateLoadException($"'{path}' is PEM: encrypted PEM keys are not supported here. Convert it to PFX (openssl pkcs12 -export) and give its password.", null,
                            path, CertificateLoadReason.EncryptedPem);
                    }

                    return FromPem(path, keyPath ?? path);
                }

                var certificate = new X509Certificate2(path, password, X509KeyStorageFlags.Exportable);
                if (!certificate.HasPrivateKey)
                {
                    throw new CertificateLoadException($"'{path}' holds no private key: a TLS server needs one.", null);
                }

                return certificate;
            }
            catch (CryptographicException e) when (Pkcs12Facts.RuntimeLacksAes256 && Pkcs12Facts.UsesAes256(path))
            {
                // The password cannot even be checked: the runtime does not know the cipher.
                throw new CertificateLoadException(
                    $"The certificate '{path}' is a PFX encrypted with AES-256 (PBES2, the default of OpenSSL 3), which this runtime ({RuntimeFacts.Description}) could not read: {e.Message.TrimEnd('.')}. " +
                    "Export it again with 'openssl pkcs12 -export -legacy' (3DES, readable everywhere), or use PowerShell 7.", e);
            }
            catch (CryptographicException e)
            {
                throw new CertificateLoadException($"The certificate '{path}' could not be read: {e.Message} (a wrong password, or not a PFX or PEM file).", e,
                    path, CertificateLoadReason.Unreadable);
            }
        }

        private static bool IsPem(string path)
        {
            using (var reader = new StreamReader(path))
            {
                char[] head = new char[4096];
                int n = reader.Read(head, 0, head.Length);
                return new string(head, 0, n).Contains("-----BEGIN");
            }
        }

        private static X509Certificate2 FromPem(string certPath, string keyPath)
        {
            MethodInfo create = typeof(X509Certificate2).GetMethod("CreateFromPemFile", new[] { typeof(string), typeof(string) });
            if (create == null)
            {
                throw new PlatformNotSupportedException("PEM certificates need PowerShell 7 (.NET 5 or later); give a PFX file instead.");
            }

            X509Certificate2 certificate;
            try
            {
                certificate = (X509Certificate2)create.Invoke(null, new object[] { certPath, keyPath });
            }
            catch (TargetInvocationException e) when (e.InnerException is CryptographicException || e.InnerException is ArgumentException)
            {
                throw new CertificateLoadException($"No certificate with a matching private key was found in '{certPath}'{(keyPath != certPath ? $" and '{keyPath}'" : string.Empty)}: {e.InnerException.Message}", e.InnerException);
            }

            // SslStream on Windows cannot use an ephemeral PEM key; a PKCS#12 round trip gives it a usable one.
            using (certificate)
            {
                return new X509Certificate2(certificate.Export(X509ContentType.Pkcs12), (string)null, X509KeyStorageFlags.Exportable);
            }
        }
    }
}

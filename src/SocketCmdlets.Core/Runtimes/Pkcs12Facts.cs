using System;
using System.IO;

namespace SocketCmdlets
{
    /// <summary>
    /// How a PKCS#12 (PFX) file is protected, read from its bytes, so a file the runtime cannot decrypt is reported for
    /// what it is and not as a wrong password.
    /// </summary>
    internal static class Pkcs12Facts
    {
        // DER of the OIDs: PBES2 (1.2.840.113549.1.5.13) and AES-256-CBC (2.16.840.1.101.3.4.1.42), with their tag and length.
        private static readonly byte[] s_pbes2 = { 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D };
        private static readonly byte[] s_aes256Cbc = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A };

        /// <summary>The most bytes read from a file to look for the OIDs (a PFX with a chain is a few KiB).</summary>
        private const int MaxBytes = 1024 * 1024;

        /// <summary>
        /// True when the file uses PBES2 with AES-256-CBC, OpenSSL 3's default for <c>openssl pkcs12 -export</c>, which
        /// .NET Framework before Windows 10 1709's key store and Mono cannot decrypt.
        /// </summary>
        public static bool UsesAes256(string path)
        {
            try
            {
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
                {
                    var bytes = new byte[(int)Math.Min(file.Length, MaxBytes)];
                    int read = 0;
                    int n;
                    while (read < bytes.Length && (n = file.Read(bytes, read, bytes.Length - read)) > 0)
                    {
                        read += n;
                    }

                    return UsesAes256(bytes, read);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return false;
            }
        }

        /// <summary>True when the first <paramref name="length"/> bytes name both PBES2 and AES-256-CBC.</summary>
        public static bool UsesAes256(byte[] bytes, int length) =>
            IndexOf(bytes, length, s_pbes2) >= 0 && IndexOf(bytes, length, s_aes256Cbc) >= 0;

        /// <summary>
        /// A sentence for the failure to read a PKCS#12 file: on a runtime that cannot decrypt PBES2/AES-256
        /// (<paramref name="runtimeLacksAes256"/>), a file that uses it is named as such with the fix; empty otherwise.
        /// </summary>
        public static string Advice(byte[] bytes, bool runtimeLacksAes256) =>
            runtimeLacksAes256 && bytes != null && UsesAes256(bytes, bytes.Length)
                ? " The file is encrypted with AES-256 (PBES2, the OpenSSL 3 default), which this runtime cannot read whatever the password: export it again with 'openssl pkcs12 -export -legacy' (3DES, readable everywhere), or use PowerShell 7."
                : string.Empty;

        /// <summary>True when this runtime's PKCS#12 reader cannot decrypt PBES2/AES-256 (Mono, .NET Framework).</summary>
        public static bool RuntimeLacksAes256 => RuntimeFacts.IsMono || RuntimeFacts.IsNetFramework;

        private static int IndexOf(byte[] bytes, int length, byte[] pattern)
        {
            for (int i = 0; i + pattern.Length <= length; i++)
            {
                int j = 0;
                while (j < pattern.Length && bytes[i + j] == pattern[j])
                {
                    j++;
                }

                if (j == pattern.Length)
                {
                    return i;
                }
            }

            return -1;
        }
    }
}

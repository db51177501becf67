using System.Security.Cryptography;
using System.Text;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>
    /// What the tests use that .NET Framework (net472, run under Mono) names differently, so one source serves every
    /// runtime the engine suite runs on.
    /// </summary>
    internal static class Compat
    {
        /// <summary>ISO-8859-1 (Encoding.Latin1 from .NET 5 on).</summary>
#if NETFRAMEWORK
        public static Encoding Latin1 => Encoding.GetEncoding(28591);
#else
        public static Encoding Latin1 => Encoding.Latin1;
#endif

        /// <summary>Bytes allocated by this thread so far (.NET 5 and later; 0 on .NET Framework, whose tests skip).</summary>
#if NETFRAMEWORK
        public static long AllocatedBytesForCurrentThread() => 0;
#else
        public static long AllocatedBytesForCurrentThread() => System.GC.GetAllocatedBytesForCurrentThread();
#endif

        /// <summary>The SHA-256 of <paramref name="data"/>.</summary>
        public static byte[] Sha256(byte[] data)
        {
            using (SHA256 sha = SHA256.Create())
            {
                return sha.ComputeHash(data);
            }
        }
    }
}

#if NETFRAMEWORK
namespace SocketCmdlets.Core.Tests
{
    /// <summary>.NET Framework has every Windows code page built in: its provider adds nothing.</summary>
    internal sealed class CodePagesEncodingProvider : EncodingProvider
    {
        public static EncodingProvider Instance { get; } = new CodePagesEncodingProvider();

        public override Encoding GetEncoding(int codepage) => null;

        public override Encoding GetEncoding(string name) => null;
    }
}
#endif

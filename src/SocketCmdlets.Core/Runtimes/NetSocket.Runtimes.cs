using System;
using System.Collections.Generic;

namespace SocketCmdlets
{
    /// <summary>The places where one runtime's class library needs a different call than another's.</summary>
    public sealed partial class NetSocket
    {
        /// <summary>
        /// The most bytes handed to SslStream in one write. One large write costs time that grows with the square of
        /// its size (the runtime's TLS layer copies what is left after each record), so a large send goes in slices.
        /// </summary>
        internal const int TlsWriteSlice = 1024 * 1024;

        /// <summary>Cuts <paramref name="count"/> bytes into pieces of at most <paramref name="size"/> bytes, in order.</summary>
        internal static IEnumerable<ArraySegment<byte>> Slices(byte[] buffer, int offset, int count, int size)
        {
            if (size < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(size));
            }

            // An empty write still goes through once, as it did before slicing.
            do
            {
                int n = Math.Min(count, size);
                yield return new ArraySegment<byte>(buffer, offset, n);
                offset += n;
                count -= n;
            }
            while (count > 0);
        }
    }
}

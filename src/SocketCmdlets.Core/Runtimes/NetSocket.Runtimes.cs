using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Threading;

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

        /// <summary>
        /// One non-blocking send of what the kernel takes now. Mono's Socket.Send(byte[], …, out SocketError) loops
        /// until every byte is out, spinning on EWOULDBLOCK for ever when the peer does not read; its overload that
        /// takes a list of segments makes one system call, as every other runtime's does.
        /// </summary>
        private int SendSome(byte[] buffer, int offset, int count, out SocketError error)
        {
            if (!RuntimeFacts.IsMono)
            {
                return _socket.Send(buffer, offset, count, SocketFlags.None, out error);
            }

            int sent = _socket.Send(new List<ArraySegment<byte>>(1) { new ArraySegment<byte>(buffer, offset, count) }, SocketFlags.None, out error);
            return error == SocketError.Success ? sent : 0;
        }

        /// <summary>Writes through TLS in slices of at most <see cref="TlsWriteSlice"/> bytes, each under the timeout.</summary>
        private void SendTlsInSlices(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            foreach (ArraySegment<byte> slice in Slices(buffer, offset, count, TlsWriteSlice))
            {
                SendTls(slice.Array, slice.Offset, slice.Count, timeout, cancellationToken);
            }
        }

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

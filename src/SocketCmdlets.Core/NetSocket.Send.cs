using System;
using System.IO;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>Sending on a stream socket: whole buffers and streams, under the send turn, through the transport.</summary>
    public sealed partial class NetSocket
    {
        /// <summary>Sends all of <paramref name="count"/> bytes; a partial send is continued, never dropped.</summary>
        [MethodImpl(HotPath.Optimize)]
        internal void Send(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (buffer == null)
            {
                throw new ArgumentNullException(nameof(buffer));
            }

            if (offset < 0 || count < 0 || offset + count > buffer.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(count));
            }

            RequireState("send", "sending needs a connected socket.", SocketRequirement.Connected, SocketState.Connected);
            using (EnterSend(timeout, cancellationToken))
            {
                long before = BytesSent;
                try
                {
                    SendCore(buffer, offset, count, timeout, cancellationToken);
                }
                catch (Exception e) when (TransferFacts.Record(e, TransferFacts.BytesSent, BytesSent - before))
                {
                    throw;
                }
            }
        }


        /// <summary>Sends all of <paramref name="count"/> bytes; the caller holds the send turn.</summary>
        [MethodImpl(HotPath.Optimize)]
        private void SendCore(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken) =>
            _transport.Send(buffer, offset, count, timeout, cancellationToken);

        /// <summary>Sends a whole array.</summary>
        internal void Send(byte[] buffer, TimeSpan timeout, CancellationToken cancellationToken) =>
            Send(buffer, 0, buffer?.Length ?? 0, timeout, cancellationToken);

        /// <summary>Streams <paramref name="source"/> to the peer in 1 MiB chunks; returns the bytes sent.</summary>
        [MethodImpl(HotPath.Optimize)]
        internal long SendFrom(Stream source, TimeSpan timeout, CancellationToken cancellationToken, Action<long> progress = null)
        {
            RequireState("send", "sending needs a connected socket.", SocketRequirement.Connected, SocketState.Connected);
            using (EnterSend(timeout, cancellationToken))
            {
                byte[] chunk = BufferPool.Rent();
                long total = 0;
                long before = BytesSent;
                try
                {
                    int read;
                    while ((read = source.Read(chunk, 0, chunk.Length)) > 0)
                    {
                        SendCore(chunk, 0, read, timeout, cancellationToken);
                        total += read;
                        progress?.Invoke(total);
                    }

                    return total;
                }
                catch (Exception e) when (TransferFacts.Record(e, TransferFacts.BytesSent, BytesSent - before))
                {
                    throw;
                }
                finally
                {
                    BufferPool.Return(chunk);
                }
            }
        }
    }
}

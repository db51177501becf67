using System;
using System.IO;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>Receiving to a destination stream (a file), keeping every byte either in the file or in the socket's buffer.</summary>
    public sealed partial class NetSocket
    {
        /// <summary>
        /// Copies the stream to the destination that <paramref name="open"/> opens, until end of stream, or until
        /// <paramref name="maxBytes"/> bytes when it is not negative. Returns the bytes copied. The destination is opened
        /// only once there is something to write, or at a clean end of stream, so a receive that cannot start (a closed
        /// socket, a reset, a timeout) leaves an existing file as it was. A failed write puts the bytes it could not
        /// write back in the socket's buffer and cuts the destination back to what was written before, where it can;
        /// the exception carries <see cref="TransferFacts.BytesWritten"/> and <see cref="TransferFacts.BytesKept"/>.
        /// Memory use is one 1 MiB buffer whatever the size.
        /// </summary>
        internal long ReceiveTo(Func<Stream> open, long maxBytes, TimeSpan timeout, CancellationToken cancellationToken, Action<long> progress = null) =>
            ReceiveTo(open ?? throw new ArgumentNullException(nameof(open)), owns: true, maxBytes, timeout, cancellationToken, progress);

        /// <summary>
        /// Copies the stream to <paramref name="destination"/>, which stays open (see the overload that opens its
        /// destination, for the rest).
        /// </summary>
        internal long ReceiveTo(Stream destination, long maxBytes, TimeSpan timeout, CancellationToken cancellationToken, Action<long> progress = null)
        {
            if (destination == null)
            {
                throw new ArgumentNullException(nameof(destination));
            }

            return ReceiveTo(() => destination, owns: false, maxBytes, timeout, cancellationToken, progress);
        }

        [MethodImpl(HotPath.Optimize)]
        private long ReceiveTo(Func<Stream> open, bool owns, long maxBytes, TimeSpan timeout, CancellationToken cancellationToken, Action<long> progress)
        {
            RequireReceivable();
            using (EnterReceive(timeout, cancellationToken))
            {
                Stream destination = null;
                long total = 0;
                long limit = maxBytes < 0 ? long.MaxValue : maxBytes;
                byte[] chunk = null;
                try
                {
                    int fromPending = (int)Math.Min(PendingBytes, limit);
                    if (fromPending > 0)
                    {
                        destination = open();
                        WriteOrKeep(destination, _inbox.Array, _inbox.Start, fromPending, total, fromPendingBuffer: true);
                        _inbox.Consume(fromPending);
                        total = fromPending;
                        progress?.Invoke(total);
                    }

                    _inbox.Settle();
                    while (total < limit)
                    {
                        if (chunk == null)
                        {
                            // Nothing is taken from the pool until data is there: a waiting call holds no large buffer.
                            WaitReadable(timeout, cancellationToken);
                            chunk = BufferPool.Rent();
                        }

                        int want = (int)Math.Min(chunk.Length, limit - total);
                        int read = ReceiveRaw(chunk, 0, want, timeout, cancellationToken);
                        if (read == 0)
                        {
                            break;
                        }

                        // Whatever else has already arrived goes into the same write: fewer, larger writes to the file.
                        read = TakeAvailable(chunk, read, want);
                        destination = destination ?? OpenKeeping(open, chunk, read);
                        WriteOrKeep(destination, chunk, 0, read, total, fromPendingBuffer: false);
                        total += read;
                        progress?.Invoke(total);
                    }

                    if (destination == null)
                    {
                        // A clean end of stream with nothing received: the destination is made, empty.
                        destination = open();
                    }

                    destination.Flush();
                    return total;
                }
                catch (Exception e) when (TransferFacts.Record(e, TransferFacts.BytesWritten, total))
                {
                    throw;
                }
                finally
                {
                    BufferPool.Return(chunk);
                    if (owns)
                    {
                        destination?.Dispose();
                    }
                }
            }
        }

        /// <summary>
        /// Writes received bytes to the destination. When the write fails, the bytes are kept in the socket's buffer
        /// (the next receive hands them out) and the destination is cut back to the <paramref name="written"/> bytes
        /// before them where it can be, so the file and the socket between them hold every byte exactly once.
        /// </summary>
        private void WriteOrKeep(Stream destination, byte[] buffer, int offset, int count, long written, bool fromPendingBuffer)
        {
            try
            {
                destination.Write(buffer, offset, count);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is NotSupportedException)
            {
                if (!fromPendingBuffer)
                {
                    var kept = new byte[count];
                    Buffer.BlockCopy(buffer, offset, kept, 0, count);
                    _inbox.PutBack(kept);
                }

                TransferFacts.Record(e, TransferFacts.BytesKept, PendingBytes);
                try
                {
                    if (destination.CanSeek)
                    {
                        destination.SetLength(written);
                    }
                }
                catch (Exception cut) when (cut is IOException || cut is UnauthorizedAccessException || cut is NotSupportedException)
                {
                    // The destination cannot be cut back (a device): what it took of the failed write is unknown.
                }

                throw;
            }
        }

        /// <summary>Opens the destination; when that fails, the bytes already taken off the socket go back in its buffer.</summary>
        private Stream OpenKeeping(Func<Stream> open, byte[] chunk, int count)
        {
            try
            {
                return open();
            }
            catch (Exception e) when (Keep(e, chunk, count, count))
            {
                throw;
            }
        }

    }
}

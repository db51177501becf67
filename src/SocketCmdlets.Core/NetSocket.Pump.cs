using System;
using System.IO;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>
    /// The receive path between the transport and the receive buffer: waits that hold no large buffer, taking what has
    /// already arrived, a failure deferred behind the bytes before it, and the counters.
    /// </summary>
    public sealed partial class NetSocket
    {
        // Received bytes not yet handed out.
        private readonly ReceiveBuffer _inbox = new ReceiveBuffer();

        // A receive failure met while taking what had already arrived, reported by the next receive.
        private SocketError _deferredError;

        // The transport bytes go through: the plain one, or TLS over it once Protect succeeded.
        private IStreamTransport _transport;

        // The plain transport, always there: a TLS transport wraps the same socket.
        private readonly PlainTransport _plain;

        /// <summary>Bytes received from the network but not yet handed out.</summary>
        public int PendingBytes => _inbox.Count;

        /// <summary>The size of the receive buffer the socket holds now (0: none), for tests of what a waiting call holds.</summary>
        internal int ReceiveBufferCapacity => _inbox.Capacity;

        /// <summary>Counts bytes the transport received.</summary>
        internal void CountReceived(long count) => Interlocked.Add(ref _bytesReceived, count);

        /// <summary>Counts bytes the transport sent.</summary>
        internal void CountSent(long count) => Interlocked.Add(ref _bytesSent, count);

        /// <summary>Marks that the peer finished sending; <paramref name="truncated"/>: a TLS stream cut without close_notify.</summary>
        internal void MarkEndOfStream(bool truncated = false)
        {
            EndOfStream = true;
            if (truncated)
            {
                TlsTruncated = true;
            }
        }

        /// <summary>
        /// Waits until the socket has something to read (data, end of stream or an error). Before it waits, the receive
        /// buffer is given back to the pool (or shrunk to the few bytes pending), so a call that waits for data holds no
        /// large buffer. Over TLS (where only a receive can tell), and when the end of stream or an error is already
        /// known, it returns at once.
        /// </summary>
        private void WaitReadable(TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (!_transport.TakesWithoutWaiting || EndOfStream || _deferredError != SocketError.Success)
            {
                return;
            }

            if (!_plain.ReadableNow())
            {
                _inbox.Settle();
                _plain.WaitReady(SelectMode.SelectRead, Deadline.After(timeout), cancellationToken, SocketOperation.Receive);
            }
        }

        /// <summary>
        /// Receives one chunk into a new array of <see cref="ChunkObjectSize"/> bytes: waits for the first bytes, then takes
        /// what more is already there without waiting, and trims the array only when it is not full. Null at end of stream.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        private byte[] ReceiveDirect(TimeSpan timeout, CancellationToken cancellationToken)
        {
            WaitReadable(timeout, cancellationToken);
            byte[] chunk = BufferPool.AllocateUninitialized(ChunkObjectSize);
            int filled = ReceiveRaw(chunk, 0, chunk.Length, timeout, cancellationToken);
            if (filled == 0)
            {
                return null;
            }

            filled = TakeAvailable(chunk, filled, chunk.Length);
            if (filled < chunk.Length)
            {
                var trimmed = new byte[filled];
                Buffer.BlockCopy(chunk, 0, trimmed, 0, filled);
                chunk = trimmed;
            }

            return chunk;
        }

        /// <summary>
        /// Adds to <paramref name="buffer"/>, after its first <paramref name="filled"/> bytes and up to
        /// <paramref name="limit"/>, what has already arrived, without waiting. Returns the new fill; at end of stream
        /// <see cref="EndOfStream"/> is set and the bytes before it are kept. Only where the transport can take
        /// without waiting (not TLS).
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        private int TakeAvailable(byte[] buffer, int filled, int limit)
        {
            while (filled < limit && !EndOfStream && _transport.TakesWithoutWaiting)
            {
                int read = _plain.ReceiveNow(buffer, filled, limit - filled, out SocketError error);
                if (error == SocketError.WouldBlock)
                {
                    break;
                }

                if (error != SocketError.Success)
                {
                    // The bytes already in the buffer are handed out first; the next receive reports the failure
                    // (the system reports a reset only once).
                    _deferredError = error;
                    break;
                }

                filled += read;
            }

            return filled;
        }

        /// <summary>Receives into <paramref name="buffer"/> from the network; 0 means end of stream.</summary>
        [MethodImpl(HotPath.Optimize)]
        private int ReceiveRaw(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (_deferredError != SocketError.Success)
            {
                SocketError deferred = _deferredError;
                _deferredError = SocketError.Success;
                throw new SocketException((int)deferred);
            }

            if (EndOfStream)
            {
                return 0;
            }

            return _transport.Receive(buffer, offset, count, timeout, cancellationToken);
        }

        /// <summary>
        /// Receives more bytes after the pending ones, making room for a record of up to <paramref name="room"/> bytes.
        /// Returns the bytes added; 0 at end of stream.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        private int Fill(TimeSpan timeout, CancellationToken cancellationToken, int room = BufferPool.ChunkSize)
        {
            // Wait (with the buffer given back, or shrunk to what is pending) before taking a large one.
            WaitReadable(timeout, cancellationToken);
            _inbox.MakeRoom(room);
            int read = ReceiveRaw(_inbox.Array, _inbox.End, _inbox.Free, timeout, cancellationToken);
            _inbox.Commit(read);
            return read;
        }

        private void RequireReceivable() =>
            RequireState("receive", "receiving needs a connected socket.", SocketRequirement.Connected, SocketState.Connected, SocketState.HalfClosed);
    }
}

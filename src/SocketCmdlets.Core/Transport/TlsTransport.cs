using System;
using System.IO;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>
    /// TLS wrapped around the plain transport: an <see cref="SslStream"/> over a <see cref="SocketStream"/> on the same
    /// non-blocking socket, with the bytes received before the handshake in front. A read that does not
    /// finish in time is kept for the next receive, so a record half received is never lost; a write that does not
    /// finish leaves a record half sent, so the connection is closed.
    /// </summary>
    internal sealed class TlsTransport : IStreamTransport
    {
        private const int BufferSize = 16 * 1024 + 512;

        /// <summary>How long a close waits to send close_notify (a peer that reads nothing must not hold a close).</summary>
        private static readonly TimeSpan s_closeNotifyTimeout = TimeSpan.FromSeconds(1);

        private const int DecryptWaitMilliseconds = 20;

        private readonly NetSocket _owner;
        private readonly SslStream _tls;
        private readonly SocketStream _transport;
        private byte[] _buffer;
        private int _start;
        private int _end;
        private Task<int> _read;
        private Task _write;
        private bool _closeNotifySent;

        public TlsTransport(NetSocket owner, SslStream tls, SocketStream transport)
        {
            _owner = owner;
            _tls = tls;
            _transport = transport;
        }

        /// <inheritdoc/>
        public bool TakesWithoutWaiting => false;

        /// <summary>The TLS stream (a relay takes it over).</summary>
        public SslStream Stream => _tls;

        /// <summary>True when decrypted bytes are held, not yet handed out.</summary>
        public bool HasDecrypted => _end > _start;

        /// <summary>True when a read started earlier has finished (data, end or an error are there to take).</summary>
        public bool ReadFinished => _read != null && _read.IsCompleted;

        /// <summary>True while a read started earlier is under way or unclaimed.</summary>
        public bool ReadStarted => _read != null;

        /// <summary>Reads decrypted bytes, keeping a read that did not finish in time for the next call, so nothing is lost.</summary>
        public int Receive(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (_end > _start)
            {
                return Take(buffer, offset, count);
            }

            StartRead();
            Deadline deadline = Deadline.After(timeout);
            bool done;
            try
            {
                done = deadline.Wait(_read, cancellationToken);
            }
            catch (Exception e) when (e is IOException || e is ObjectDisposedException || e is SocketException)
            {
                _read = null;
                if (_owner.State == SocketState.Closed)
                {
                    // Closed from another runspace while this call waited: said as a plain socket says it.
                    throw _owner.Closed("receive");
                }

                if (e.InnerException is SocketException se)
                {
                    throw se;
                }

                if (e is IOException && _transport.SawEndOfStream)
                {
                    // The connection ended inside a TLS record: the stream was cut.
                    _owner.MarkEndOfStream(truncated: true);
                    throw new TlsTruncatedException(_owner, e);
                }

                throw;
            }

            if (!done)
            {
                throw new SocketTimeoutException(SocketOperation.Receive, deadline.Timeout, _owner.ToString());
            }

            int read = _read.Result;
            _read = null;
            if (read == 0)
            {
                // SslStream ends a stream the same way whether the peer said close_notify or the connection was cut;
                // after close_notify it reads no further, so a transport that reached its end means a cut.
                _owner.MarkEndOfStream(truncated: _transport.SawEndOfStream);
                return 0;
            }

            _start = 0;
            _end = read;
            _owner.CountReceived(read);
            return Take(buffer, offset, count);
        }

        /// <summary>Starts a read of decrypted bytes when none is under way; the caller holds the receive turn.</summary>
        public void StartRead()
        {
            if (_read != null)
            {
                return;
            }

            if (_buffer == null)
            {
                _buffer = new byte[BufferSize];
            }

            try
            {
                _read = _tls.ReadAsync(_buffer, 0, _buffer.Length);
            }
            catch (ObjectDisposedException)
            {
                throw _owner.Closed("receive");
            }
        }

        /// <summary>
        /// For select(), under the receive turn: starts a read and, when raw bytes are there to decrypt, gives it a
        /// moment, so a poll (a zero timeout) sees them. True when the read has finished.
        /// </summary>
        public bool StartReadAndLook()
        {
            StartRead();
            Task<int> started = _read;
            if (!started.IsCompleted && RawReadable())
            {
                try
                {
                    started.Wait(DecryptWaitMilliseconds);
                }
                catch (AggregateException)
                {
                    // A failed read is ready too: the next receive reports it.
                }
            }

            return started.IsCompleted;
        }

        /// <summary>Writes through TLS in slices of at most <see cref="NetSocket.TlsWriteSlice"/> bytes, each under the timeout.</summary>
        public void Send(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            foreach (ArraySegment<byte> slice in NetSocket.Slices(buffer, offset, count, NetSocket.TlsWriteSlice))
            {
                SendSlice(slice.Array, slice.Offset, slice.Count, timeout, cancellationToken);
            }
        }

        /// <summary>
        /// Sends the TLS close_notify alert, where the runtime can, under the send turn so it never lands inside another
        /// call's record. Bounded: when the turn or the write does not come within a second, the alert is not sent.
        /// Never called under the socket's lock.
        /// </summary>
        public void Shutdown()
        {
            if (_closeNotifySent)
            {
                return;
            }

            try
            {
                using (_owner.EnterSendTurn(s_closeNotifyTimeout))
                {
                    if (_closeNotifySent)
                    {
                        return;
                    }

                    _closeNotifySent = true;
                    Task shutdown = TlsReflection.Shutdown(_tls);
                    if (shutdown != null && !Deadline.After(s_closeNotifyTimeout).Wait(shutdown, CancellationToken.None))
                    {
                        NetSocket.Observe(shutdown);
                    }
                }
            }
            catch (Exception e) when (e is TimeoutException || e is IOException || e is ObjectDisposedException || e is InvalidOperationException
                || e is NotSupportedException || e is SocketException)
            {
                // The connection is going away; close_notify could not be said on it.
            }
        }

        /// <inheritdoc/>
        public void Dispose()
        {
            if (_read != null)
            {
                NetSocket.Observe(_read);
            }

            if (_write != null)
            {
                NetSocket.Observe(_write);
            }

            try
            {
                _tls.Dispose();
            }
            catch (Exception e) when (e is IOException || e is ObjectDisposedException || e is InvalidOperationException)
            {
                // The connection is going away; nothing more can be said on it.
            }
        }

        /// <summary>
        /// Hands what a relay needs over: decrypted bytes not yet handed out go to <paramref name="buffered"/>, and a
        /// read under way (its bytes land in <paramref name="readBuffer"/> from offset 0) is returned, no longer this
        /// transport's.
        /// </summary>
        public Task<int> TakeForRelay(MemoryStream buffered, out byte[] readBuffer)
        {
            if (_end > _start)
            {
                buffered.Write(_buffer, _start, _end - _start);
                _start = _end = 0;
            }

            Task<int> unfinished = _read;
            _read = null;
            readBuffer = _buffer;
            return unfinished;
        }

        private void SendSlice(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Deadline deadline = Deadline.After(timeout);
            Task write;
            try
            {
                write = _tls.WriteAsync(buffer, offset, count);
            }
            catch (ObjectDisposedException)
            {
                throw _owner.Closed("send");
            }

            _write = write;
            bool done;
            try
            {
                done = deadline.Wait(write, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                NetSocket.Observe(write);

                // A record is half sent: a close_notify after it would be garbage, so none is said.
                _closeNotifySent = true;
                _owner.Close();
                throw;
            }
            catch (Exception e) when (e is IOException || e is ObjectDisposedException || e is SocketException)
            {
                if (_owner.State == SocketState.Closed)
                {
                    throw _owner.Closed("send");
                }

                if (e.InnerException is SocketException se)
                {
                    throw se;
                }

                throw;
            }

            if (!done)
            {
                NetSocket.Observe(write);
                _closeNotifySent = true;
                _owner.Close();
                throw new SocketTimeoutException(SocketOperation.Send, deadline.Timeout, _owner.ToString() + "; a TLS connection cannot go on after a partial write, so it was closed");
            }

            _write = null;
            _owner.CountSent(count);
        }

        private bool RawReadable()
        {
            try
            {
                return _owner.Socket.Poll(0, SelectMode.SelectRead);
            }
            catch (Exception e) when (e is ObjectDisposedException || e is SocketException)
            {
                return true;
            }
        }

        private int Take(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(count, _end - _start);
            Buffer.BlockCopy(_buffer, _start, buffer, offset, n);
            _start += n;
            return n;
        }
    }
}

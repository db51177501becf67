using System;
using System.IO;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>
    /// One side of a relayed connection: reads and writes go to the raw socket (plain TCP or Unix) or to the TLS stream
    /// the socket holds. Bytes that arrived before the relay started are read first.
    /// </summary>
    internal sealed class RelaySide
    {
        private readonly RelayTransport _transport;
        private readonly Socket _socket;
        private readonly Stream _tls;
        private byte[] _initial;
        private Task<int> _unfinishedTlsRead;
        private int _closed;
        private int _sendShutDown;

        public RelaySide(NetSocket socket, string endPoint)
        {
            Socket = socket;
            EndPoint = endPoint;
            _transport = socket.TakeForRelay();
            _socket = _transport.Socket;
            _tls = _transport.Tls;
            _initial = _transport.Buffered.Length > 0 ? _transport.Buffered : null;
            _unfinishedTlsRead = _transport.UnfinishedTlsRead;

            // A relay forwards what arrives as it arrives (Join-Socket's sockets as much as Start-SocketRelay's).
            SetNoDelay(socket);
        }

        /// <summary>
        /// Turns Nagle's algorithm off on a TCP socket: it would hold a small forwarded write back until the peer
        /// acknowledged the one before, a delay the writer did not ask for.
        /// </summary>
        internal static void SetNoDelay(NetSocket socket)
        {
            Socket raw = socket.Socket;
            if (raw == null || raw.AddressFamily == AddressFamily.Unix)
            {
                return;
            }

            try
            {
                raw.NoDelay = true;
            }
            catch (Exception e) when (e is SocketException || e is ObjectDisposedException)
            {
                // The connection is already gone; the relay will find out.
            }
        }

        public NetSocket Socket { get; }

        /// <summary>address:port or the Unix path, for the session record.</summary>
        public string EndPoint { get; }

        /// <summary>True once this side's peer had already finished sending before the relay started.</summary>
        public bool StartsAtEndOfStream => _transport.EndOfStream && _initial == null && _unfinishedTlsRead == null;

        /// <summary>A reset met before the relay started, not yet reported.</summary>
        public SocketError DeferredError => _transport.DeferredError;

        /// <summary>True when this side had already shut down sending.</summary>
        public bool SendShutDown => _transport.SendShutDown;

        public bool IsClosed => _closed != 0;

        /// <summary>True for a plain TCP or Unix side (no TLS): the raw socket can be pumped directly.</summary>
        public bool IsPlain => _tls == null && _unfinishedTlsRead == null;

        /// <summary>The raw socket (non-blocking), for the synchronous pump of plain sides.</summary>
        public Socket RawSocket => _socket;

        /// <summary>True when the peer had finished sending before the relay started (after the buffered bytes).</summary>
        public bool PeerEndedBeforeStart => _transport.EndOfStream;

        /// <summary>Takes the bytes received before the relay started (null when none).</summary>
        public byte[] TakeInitial()
        {
            byte[] initial = _initial;
            _initial = null;
            return initial;
        }

        /// <summary>Reads up to <paramref name="count"/> bytes; 0 at end of stream.</summary>
        public Task<int> ReadAsync(byte[] buffer, int offset, int count)
        {
            if (_initial != null)
            {
                int n = Math.Min(count, _initial.Length);
                Buffer.BlockCopy(_initial, 0, buffer, offset, n);
                if (n == _initial.Length)
                {
                    _initial = null;
                }
                else
                {
                    var rest = new byte[_initial.Length - n];
                    Buffer.BlockCopy(_initial, n, rest, 0, rest.Length);
                    _initial = rest;
                }

                return Task.FromResult(n);
            }

            if (_unfinishedTlsRead != null)
            {
                return TakeUnfinishedTlsRead(buffer, offset, count);
            }

            if (_transport.EndOfStream && _tls == null)
            {
                return Task.FromResult(0);
            }

            return _tls != null
                ? _tls.ReadAsync(buffer, offset, count)
                : _socket.ReceiveAsync(new ArraySegment<byte>(buffer, offset, count), SocketFlags.None);
        }

        /// <summary>Writes all of <paramref name="count"/> bytes.</summary>
        public async Task WriteAsync(byte[] buffer, int offset, int count)
        {
            if (_tls != null)
            {
                await _tls.WriteAsync(buffer, offset, count).ConfigureAwait(false);
                return;
            }

            while (count > 0)
            {
                int sent = await _socket.SendAsync(new ArraySegment<byte>(buffer, offset, count), SocketFlags.None).ConfigureAwait(false);
                offset += sent;
                count -= sent;
            }
        }

        /// <summary>Half-close: the peer sees end of stream (after TLS close_notify on a TLS side); receiving goes on.</summary>
        public void ShutdownSend()
        {
            if (!IsClosed)
            {
                ShutdownSendOnce();
            }
        }

        private void ShutdownSendOnce()
        {
            if (_transport.SendShutDown || System.Threading.Interlocked.Exchange(ref _sendShutDown, 1) != 0)
            {
                return;
            }

            try
            {
                Socket.Close(CloseDirection.Send);
            }
            catch (Exception e) when (e is SocketException || e is ObjectDisposedException || e is InvalidSocketStateException || e is IOException)
            {
                // The peer is gone already; the other direction will find out.
            }
        }

        /// <summary>Closes with a reset, so the peer sees ECONNRESET.</summary>
        public void Reset()
        {
            if (System.Threading.Interlocked.Exchange(ref _closed, 1) == 0)
            {
                Socket.Abort();
            }
        }

        /// <summary>Closes (an orderly close; close_notify on TLS).</summary>
        public void Close()
        {
            if (System.Threading.Interlocked.Exchange(ref _closed, 1) == 0)
            {
                try
                {
                    if (_tls != null)
                    {
                        ShutdownSendOnce();
                    }

                    // .NET closes a socket that has a pending operation with a reset unless sending was shut down
                    // first: the shutdown keeps an orderly close (FIN) orderly.
                    _socket.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e) when (e is SocketException || e is ObjectDisposedException)
                {
                    // Not connected any more: the close below is all that is left.
                }

                try
                {
                    Socket.Close();
                }
                catch (Exception e) when (e is SocketException || e is ObjectDisposedException || e is IOException)
                {
                    // Closing is best effort: the socket is released either way.
                }
            }
        }

        private async Task<int> TakeUnfinishedTlsRead(byte[] buffer, int offset, int count)
        {
            Task<int> read = _unfinishedTlsRead;
            int n = await read.ConfigureAwait(false);
            _unfinishedTlsRead = null;
            if (n <= count)
            {
                Buffer.BlockCopy(_transport.TlsBuffer, 0, buffer, offset, n);
                return n;
            }

            Buffer.BlockCopy(_transport.TlsBuffer, 0, buffer, offset, count);
            _initial = new byte[n - count];
            Buffer.BlockCopy(_transport.TlsBuffer, count, _initial, 0, _initial.Length);
            return count;
        }
    }
}

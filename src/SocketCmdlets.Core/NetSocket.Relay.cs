using System;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>What a relay needs from a socket: its transport, and the bytes received but not yet handed out.</summary>
    public sealed partial class NetSocket
    {
        /// <summary>
        /// Hands the socket's transport to a relay: the raw socket, the TLS stream when encrypted, and every byte already
        /// received but not read by a cmdlet (plain or decrypted, an unfinished TLS read included), which the relay
        /// forwards first. The socket must be connected (or half-closed) and is not read by anything else afterwards.
        /// </summary>
        internal RelayTransport TakeForRelay()
        {
            // No receive or send of a cmdlet may be half way through the buffers the relay takes over.
            if (!_receiveTurn.TryEnter(out Turn.Held receiving))
            {
                throw new InvalidSocketStateException(this, "relay", "another call is receiving on it; wait for that call to end.");
            }

            using (receiving)
            {
                if (!_sendTurn.TryEnter(out Turn.Held sending))
                {
                    throw new InvalidSocketStateException(this, "relay", "another call is sending on it; wait for that call to end.");
                }

                using (sending)
                {
                    return TakeTransport();
                }
            }
        }

        private RelayTransport TakeTransport()
        {
            lock (_gate)
            {
                RequireState("relay", "a relay needs a connected stream socket.", SocketState.Connected, SocketState.HalfClosed);
                if (Protocol != SocketProtocol.Tcp)
                {
                    throw new InvalidSocketStateException(this, "relay", "a relay needs a stream socket; this one is UDP.");
                }

                var buffered = new MemoryStream();
                if (PendingBytes > 0)
                {
                    buffered.Write(_inbox.Array, _inbox.Start, PendingBytes);
                }

                _inbox.Release();
                Task<int> unfinished = null;
                byte[] tlsBuffer = null;
                Stream tls = null;
                if (_tls != null)
                {
                    unfinished = _tls.TakeForRelay(buffered, out tlsBuffer);
                    tls = _tls.Stream;
                }

                SocketError deferred = _deferredError;
                _deferredError = SocketError.Success;
                return new RelayTransport(this, _socket, tls, buffered.ToArray(), unfinished, tlsBuffer, EndOfStream, deferred, _state == SocketState.HalfClosed);
            }
        }

        /// <summary>Counts bytes a relay moved through this socket.</summary>
        internal void CountRelayed(long sent, long received)
        {
            if (sent != 0)
            {
                CountSent(sent);
            }

            if (received != 0)
            {
                CountReceived(received);
            }
        }

        /// <summary>Takes a socket the engine made for its own use (a relay's) out of the session's list, so Get-Socket does not show it.</summary>
        internal void Unregister() => SocketRegistry.Remove(this);

        /// <summary>Closes with a reset (SO_LINGER 0): the peer sees ECONNRESET, not an orderly end.</summary>
        internal void Abort()
        {
            try
            {
                _socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception e) when (e is SocketException || e is ObjectDisposedException)
            {
                // Already gone: nothing to reset.
            }

            Close();
        }
    }

    /// <summary>A socket's transport as a relay takes it over (see <see cref="NetSocket.TakeForRelay"/>).</summary>
    internal sealed class RelayTransport
    {
        internal RelayTransport(NetSocket owner, Socket socket, Stream tls, byte[] buffered, Task<int> unfinishedTlsRead, byte[] tlsBuffer,
            bool endOfStream, SocketError deferredError, bool sendShutDown)
        {
            Owner = owner;
            Socket = socket;
            Tls = tls;
            Buffered = buffered;
            UnfinishedTlsRead = unfinishedTlsRead;
            TlsBuffer = tlsBuffer;
            EndOfStream = endOfStream;
            DeferredError = deferredError;
            SendShutDown = sendShutDown;
        }

        public NetSocket Owner { get; }

        public Socket Socket { get; }

        /// <summary>The TLS stream, or null for a plain socket.</summary>
        public Stream Tls { get; }

        /// <summary>Bytes received before the relay started, to forward first.</summary>
        public byte[] Buffered { get; }

        /// <summary>A TLS read started by a cmdlet that timed out: its bytes land in <see cref="TlsBuffer"/> from offset 0.</summary>
        public Task<int> UnfinishedTlsRead { get; }

        public byte[] TlsBuffer { get; }

        /// <summary>The peer had already finished sending.</summary>
        public bool EndOfStream { get; }

        /// <summary>A receive failure not yet reported (a reset met while taking what had arrived).</summary>
        public SocketError DeferredError { get; }

        /// <summary>This side had already shut down sending (Close-Socket -Direction Send).</summary>
        public bool SendShutDown { get; }
    }
}

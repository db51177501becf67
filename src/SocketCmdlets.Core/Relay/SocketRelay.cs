using System;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>Relays two connected sockets to each other (Join-Socket).</summary>
    internal static class SocketRelay
    {
        /// <summary>
        /// Pumps bytes both ways between <paramref name="source"/> and <paramref name="target"/> until both directions
        /// have ended, the idle timeout passes or <paramref name="cancellationToken"/> is cancelled (EndReason Stopped);
        /// then both are closed. Bytes already received on either socket and not yet read are forwarded first.
        /// </summary>
        public static SocketRelaySession Join(NetSocket source, NetSocket target, TimeSpan idleTimeout, CancellationToken cancellationToken,
            Action<string> trace = null)
        {
            Task<SocketRelaySession> relay = JoinAsync(source, target, idleTimeout, cancellationToken, trace);

            // Cancellation closes both sockets, which ends the pumps at once: the wait ends right after.
            while (!relay.Wait(Deadline.SliceMilliseconds))
            {
            }

            return relay.Result;
        }

        /// <summary>The asynchronous form of <see cref="Join"/>.</summary>
        public static Task<SocketRelaySession> JoinAsync(NetSocket source, NetSocket target, TimeSpan idleTimeout, CancellationToken cancellationToken,
            Action<string> trace = null)
        {
            if (source == null)
            {
                throw new ArgumentNullException(nameof(source));
            }

            if (target == null)
            {
                throw new ArgumentNullException(nameof(target));
            }

            if (ReferenceEquals(source, target))
            {
                throw new ArgumentException($"A socket cannot be relayed to itself (socket {source.Id}).", nameof(target));
            }

            source.RequireState("relay", "a relay needs a connected stream socket.", SocketState.Connected, SocketState.HalfClosed);
            target.RequireState("relay", "a relay needs a connected stream socket.", SocketState.Connected, SocketState.HalfClosed);
            DateTime start = DateTime.Now;
            var from = new RelaySide(source, Describe(source));
            var to = new RelaySide(target, Describe(target));
            trace?.Invoke($"Relaying {from.EndPoint} (socket {source.Id}{(source.IsEncrypted ? ", TLS" : string.Empty)}) <-> {to.EndPoint} (socket {target.Id}{(target.IsEncrypted ? ", TLS" : string.Empty)}).");
            return new RelayConnection(from, to, idleTimeout).RunAsync(start, cancellationToken);
        }

        /// <summary>The peer of a socket as the session names it: address:port, or the Unix socket path.</summary>
        internal static string Describe(NetSocket socket) =>
            socket.RemotePath ?? socket.LocalPath ?? socket.Path ?? NetSocket.Format(socket.RemoteEndPoint);
    }
}

using System;
using System.IO;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>
    /// The socket's two turns: receives on one socket are served one at a time, and so are sends (each under its own
    /// turn), so several runspaces may share a socket and nothing one call does touches another call's bytes.
    /// </summary>
    public sealed partial class NetSocket
    {
        private readonly Turn _receiveTurn = new Turn();
        private readonly Turn _sendTurn = new Turn();

        /// <summary>
        /// Waits for this socket's receive turn (receives run one at a time) within <paramref name="timeout"/>.
        /// </summary>
        internal Turn.Held EnterReceive(TimeSpan timeout, CancellationToken cancellationToken) =>
            _receiveTurn.Enter(timeout, cancellationToken, t => new SocketTimeoutException(SocketOperation.Receive, t, ToString(),
                "its turn did not come (another call on this socket was receiving all that time)"));

        /// <summary>Waits for this socket's send turn (sends run one at a time) within <paramref name="timeout"/>.</summary>
        internal Turn.Held EnterSend(TimeSpan timeout, CancellationToken cancellationToken) =>
            _sendTurn.Enter(timeout, cancellationToken, t => new SocketTimeoutException(SocketOperation.Send, t, ToString(),
                "its turn did not come (another call on this socket was sending all that time)"));

        /// <summary>For tests: takes and gives back the receive turn; false when another thread holds it.</summary>
        internal bool TryReceiveTurnForTest()
        {
            if (!_receiveTurn.TryEnter(out Turn.Held held))
            {
                return false;
            }

            held.Dispose();
            return true;
        }

        /// <summary>
        /// Takes both turns, receive then send, for an exchange (a request and its reply) that no other call may split.
        /// </summary>
        internal IDisposable EnterExchange(TimeSpan timeout, CancellationToken cancellationToken)
        {
            Turn.Held receive = EnterReceive(timeout, cancellationToken);
            try
            {
                return new Exchange(receive, EnterSend(timeout, cancellationToken));
            }
            catch
            {
                receive.Dispose();
                throw;
            }
        }

        private sealed class Exchange : IDisposable
        {
            private Turn.Held _receive;
            private Turn.Held _send;
            private bool _done;

            public Exchange(Turn.Held receive, Turn.Held send)
            {
                _receive = receive;
                _send = send;
            }

            public void Dispose()
            {
                if (_done)
                {
                    return;
                }

                _done = true;
                _send.Dispose();
                _receive.Dispose();
            }
        }

        /// <summary>Takes the send turn for a goodbye (TLS close_notify) that must not land inside another call's record.</summary>
        internal Turn.Held EnterSendTurn(TimeSpan timeout) =>
            _sendTurn.Enter(timeout, CancellationToken.None, t => new TimeoutException());
    }
}

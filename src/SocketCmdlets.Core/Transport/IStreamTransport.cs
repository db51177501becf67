using System;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>
    /// How a connected stream socket moves bytes: plain (<see cref="PlainTransport"/>) or TLS wrapped around the plain
    /// one (<see cref="TlsTransport"/>). The socket's receive buffer, record reader and counters sit above it, so they
    /// work the same over either. Receives are called under the socket's receive turn, sends under its send turn.
    /// </summary>
    internal interface IStreamTransport
    {
        /// <summary>
        /// True when taking what has arrived without waiting, and the socket's raw readiness, mean something: bytes on
        /// the wire are bytes for the caller. Over TLS they are records to decrypt, so only a receive can tell.
        /// </summary>
        bool TakesWithoutWaiting { get; }

        /// <summary>Receives what is there, waiting up to <paramref name="timeout"/> for the first bytes; 0 at end of stream.</summary>
        int Receive(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken);

        /// <summary>Sends all of <paramref name="count"/> bytes; a partial send is continued, never dropped.</summary>
        void Send(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken);

        /// <summary>Says goodbye at the protocol level before the connection closes (TLS close_notify); bounded.</summary>
        void Shutdown();

        /// <summary>Lets go of what the transport holds (not the socket: the facade closes that).</summary>
        void Dispose();
    }
}

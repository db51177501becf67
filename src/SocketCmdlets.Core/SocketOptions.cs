using System;
using System.Net.Sockets;

namespace SocketCmdlets
{
    /// <summary>Options applied to a socket when it is created (and again if it must be re-created).</summary>
    public sealed class SocketOptions
    {
        /// <summary>Disable Nagle's algorithm (TCP_NODELAY).</summary>
        public bool? NoDelay { get; set; }

        /// <summary>Send TCP keep-alive probes (SO_KEEPALIVE).</summary>
        public bool? KeepAlive { get; set; }

        /// <summary>Allow binding to an address in TIME_WAIT (SO_REUSEADDR).</summary>
        public bool? ReuseAddress { get; set; }

        /// <summary>Allow sending broadcast datagrams (SO_BROADCAST).</summary>
        public bool? Broadcast { get; set; }

        /// <summary>Kernel receive buffer size in bytes (SO_RCVBUF).</summary>
        public int? ReceiveBufferSize { get; set; }

        /// <summary>Kernel send buffer size in bytes (SO_SNDBUF).</summary>
        public int? SendBufferSize { get; set; }

        /// <summary>IP time-to-live / IPv6 hop limit.</summary>
        public short? Ttl { get; set; }

        internal void Validate()
        {
            if (ReceiveBufferSize.HasValue && ReceiveBufferSize.Value <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(ReceiveBufferSize), ReceiveBufferSize, "The receive buffer size must be positive.");
            }

            if (SendBufferSize.HasValue && SendBufferSize.Value <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(SendBufferSize), SendBufferSize, "The send buffer size must be positive.");
            }

            if (Ttl.HasValue && (Ttl.Value < 1 || Ttl.Value > 255))
            {
                throw new ArgumentOutOfRangeException(nameof(Ttl), Ttl, "The TTL must be between 1 and 255.");
            }
        }

        internal void Apply(Socket socket)
        {
            if (NoDelay.HasValue)
            {
                socket.NoDelay = NoDelay.Value;
            }

            if (KeepAlive.HasValue)
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, KeepAlive.Value);
            }

            if (ReuseAddress.HasValue)
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, ReuseAddress.Value);
            }

            if (Broadcast.HasValue)
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Broadcast, Broadcast.Value);
            }

            if (ReceiveBufferSize.HasValue)
            {
                socket.ReceiveBufferSize = ReceiveBufferSize.Value;
            }

            if (SendBufferSize.HasValue)
            {
                socket.SendBufferSize = SendBufferSize.Value;
            }

            if (Ttl.HasValue)
            {
                socket.Ttl = Ttl.Value;
            }
        }
    }
}

using System;
using System.Net.Sockets;

namespace SocketCmdlets
{
    /// <summary>
    /// Socket options. As a request (New-Socket, Set-SocketOption) only the values that are set are applied; as a
    /// reading (Get-SocketOption) every value the socket supports is filled in.
    /// </summary>
    public sealed class SocketOptions
    {
        // Option numbers of .NET Core 3.0 and later, which netstandard2.0 does not name.
        private const SocketOptionName TcpKeepAliveTime = (SocketOptionName)3;
        private const SocketOptionName TcpKeepAliveInterval = (SocketOptionName)17;
        private const SocketOptionName TcpKeepAliveRetryCount = (SocketOptionName)16;

        /// <summary>The socket these values were read from, when they are a reading.</summary>
        public int? SocketId { get; set; }

        /// <summary>Disable Nagle's algorithm (TCP_NODELAY).</summary>
        public bool? NoDelay { get; set; }

        /// <summary>Send TCP keep-alive probes (SO_KEEPALIVE).</summary>
        public bool? KeepAlive { get; set; }

        /// <summary>Seconds of idleness before the first keep-alive probe (TCP_KEEPIDLE).</summary>
        public int? KeepAliveTimeSec { get; set; }

        /// <summary>Seconds between keep-alive probes (TCP_KEEPINTVL).</summary>
        public int? KeepAliveIntervalSec { get; set; }

        /// <summary>Unanswered probes before the connection is dropped (TCP_KEEPCNT).</summary>
        public int? KeepAliveRetryCount { get; set; }

        /// <summary>Allow binding to an address in TIME_WAIT (SO_REUSEADDR).</summary>
        public bool? ReuseAddress { get; set; }

        /// <summary>Seconds a close waits for unsent data (SO_LINGER); -1 turns lingering off; 0 resets the connection on close.</summary>
        public int? LingerSec { get; set; }

        /// <summary>Allow sending broadcast datagrams (SO_BROADCAST).</summary>
        public bool? Broadcast { get; set; }

        /// <summary>Kernel receive buffer size in bytes (SO_RCVBUF).</summary>
        public int? ReceiveBufferSize { get; set; }

        /// <summary>Kernel send buffer size in bytes (SO_SNDBUF).</summary>
        public int? SendBufferSize { get; set; }

        /// <summary>IP time-to-live / IPv6 hop limit for unicast.</summary>
        public short? Ttl { get; set; }

        /// <summary>Time-to-live / hop limit of multicast datagrams.</summary>
        public int? MulticastTtl { get; set; }

        /// <summary>Deliver this host's own multicast datagrams back to it.</summary>
        public bool? MulticastLoopback { get; set; }

        /// <summary>One IPv6 socket for IPv4 and IPv6 (read-only after bind or connect).</summary>
        public bool? DualMode { get; set; }

        /// <summary>The default receive timeout of the cmdlets for this socket, in seconds (0: none).</summary>
        public double? ReceiveTimeoutSec { get; set; }

        /// <summary>The default send timeout of the cmdlets for this socket, in seconds (0: none).</summary>
        public double? SendTimeoutSec { get; set; }

        /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a value no socket accepts.</summary>
        internal void Validate()
        {
            Check(ReceiveBufferSize, 1, int.MaxValue, nameof(ReceiveBufferSize));
            Check(SendBufferSize, 1, int.MaxValue, nameof(SendBufferSize));
            Check(Ttl, 1, 255, nameof(Ttl));
            Check(MulticastTtl, 0, 255, nameof(MulticastTtl));
            Check(KeepAliveTimeSec, 1, int.MaxValue, nameof(KeepAliveTimeSec));
            Check(KeepAliveIntervalSec, 1, int.MaxValue, nameof(KeepAliveIntervalSec));
            Check(KeepAliveRetryCount, 1, 255, nameof(KeepAliveRetryCount));
            Check(LingerSec, -1, ushort.MaxValue, nameof(LingerSec));
            Check(ReceiveTimeoutSec, 0.0, int.MaxValue, nameof(ReceiveTimeoutSec));
            Check(SendTimeoutSec, 0.0, int.MaxValue, nameof(SendTimeoutSec));
        }

        /// <summary>Copies the values set in <paramref name="changes"/> over these.</summary>
        internal void Merge(SocketOptions changes)
        {
            NoDelay = changes.NoDelay ?? NoDelay;
            KeepAlive = changes.KeepAlive ?? KeepAlive;
            KeepAliveTimeSec = changes.KeepAliveTimeSec ?? KeepAliveTimeSec;
            KeepAliveIntervalSec = changes.KeepAliveIntervalSec ?? KeepAliveIntervalSec;
            KeepAliveRetryCount = changes.KeepAliveRetryCount ?? KeepAliveRetryCount;
            ReuseAddress = changes.ReuseAddress ?? ReuseAddress;
            LingerSec = changes.LingerSec ?? LingerSec;
            Broadcast = changes.Broadcast ?? Broadcast;
            ReceiveBufferSize = changes.ReceiveBufferSize ?? ReceiveBufferSize;
            SendBufferSize = changes.SendBufferSize ?? SendBufferSize;
            Ttl = changes.Ttl ?? Ttl;
            MulticastTtl = changes.MulticastTtl ?? MulticastTtl;
            MulticastLoopback = changes.MulticastLoopback ?? MulticastLoopback;
            ReceiveTimeoutSec = changes.ReceiveTimeoutSec ?? ReceiveTimeoutSec;
            SendTimeoutSec = changes.SendTimeoutSec ?? SendTimeoutSec;
        }

        internal void Apply(Socket socket)
        {
            bool tcp = socket.ProtocolType == ProtocolType.Tcp;
            bool ip = socket.AddressFamily == AddressFamily.InterNetwork || socket.AddressFamily == AddressFamily.InterNetworkV6;
            if (NoDelay.HasValue)
            {
                RequireTcp(tcp, nameof(NoDelay));
                socket.NoDelay = NoDelay.Value;
            }

            if (KeepAlive.HasValue)
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, KeepAlive.Value);
            }

            if (KeepAliveTimeSec.HasValue || KeepAliveIntervalSec.HasValue || KeepAliveRetryCount.HasValue)
            {
                RequireTcp(tcp, "KeepAlive timings");
                SetKeepAliveTimings(socket);
            }

            if (ReuseAddress.HasValue)
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, ReuseAddress.Value);
            }

            if (LingerSec.HasValue)
            {
                socket.LingerState = LingerSec.Value < 0 ? new LingerOption(false, 0) : new LingerOption(true, LingerSec.Value);
            }

            if (Broadcast.HasValue)
            {
                if (Broadcast.Value && socket.ProtocolType != ProtocolType.Udp)
                {
                    throw new SocketOptionException(nameof(Broadcast), SocketRequirement.Udp, "Broadcast is for UDP sockets.");
                }

                if (socket.ProtocolType == ProtocolType.Udp)
                {
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Broadcast, Broadcast.Value);
                }
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
                RequireIp(ip, nameof(Ttl));
                socket.Ttl = Ttl.Value;
                if (socket.AddressFamily == AddressFamily.InterNetworkV6 && socket.DualMode)
                {
                    socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.IpTimeToLive, (int)Ttl.Value);
                }
            }

            if (MulticastTtl.HasValue)
            {
                RequireUdp(socket, nameof(MulticastTtl));
                SetForFamilies(socket, SocketOptionName.MulticastTimeToLive, MulticastTtl.Value);
            }

            if (MulticastLoopback.HasValue)
            {
                RequireUdp(socket, nameof(MulticastLoopback));
                SetForFamilies(socket, SocketOptionName.MulticastLoopback, MulticastLoopback.Value ? 1 : 0);
            }
        }

        /// <summary>Reads the options of a socket.</summary>
        internal static SocketOptions Read(Socket socket, SocketOptions defaults)
        {
            bool tcp = socket.ProtocolType == ProtocolType.Tcp;
            bool udp = socket.ProtocolType == ProtocolType.Udp;
            bool ip = socket.AddressFamily == AddressFamily.InterNetwork || socket.AddressFamily == AddressFamily.InterNetworkV6;
            LingerOption linger = socket.LingerState;
            var read = new SocketOptions
            {
                NoDelay = tcp ? socket.NoDelay : (bool?)null,
                KeepAlive = tcp ? (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive) != 0 : (bool?)null,
                KeepAliveTimeSec = tcp ? TryGet(socket, SocketOptionLevel.Tcp, TcpKeepAliveTime) : null,
                KeepAliveIntervalSec = tcp ? TryGet(socket, SocketOptionLevel.Tcp, TcpKeepAliveInterval) : null,
                KeepAliveRetryCount = tcp ? TryGet(socket, SocketOptionLevel.Tcp, TcpKeepAliveRetryCount) : null,
                ReuseAddress = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress) != 0,
                LingerSec = linger.Enabled ? linger.LingerTime : -1,
                Broadcast = udp ? (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Broadcast) != 0 : (bool?)null,
                ReceiveBufferSize = socket.ReceiveBufferSize,
                SendBufferSize = socket.SendBufferSize,
                Ttl = ip ? socket.Ttl : (short?)null,
                MulticastTtl = udp ? TryGet(socket, Level(socket), SocketOptionName.MulticastTimeToLive) : null,
                MulticastLoopback = udp ? TryGet(socket, Level(socket), SocketOptionName.MulticastLoopback) is int loop ? loop != 0 : (bool?)null : null,
                DualMode = socket.AddressFamily == AddressFamily.InterNetworkV6 ? socket.DualMode : (bool?)null,
                ReceiveTimeoutSec = defaults?.ReceiveTimeoutSec ?? 0,
                SendTimeoutSec = defaults?.SendTimeoutSec ?? 0,
            };
            return read;
        }

        private void SetKeepAliveTimings(Socket socket)
        {
            try
            {
                if (KeepAliveTimeSec.HasValue)
                {
                    socket.SetSocketOption(SocketOptionLevel.Tcp, TcpKeepAliveTime, KeepAliveTimeSec.Value);
                }

                if (KeepAliveIntervalSec.HasValue)
                {
                    socket.SetSocketOption(SocketOptionLevel.Tcp, TcpKeepAliveInterval, KeepAliveIntervalSec.Value);
                }

                if (KeepAliveRetryCount.HasValue)
                {
                    socket.SetSocketOption(SocketOptionLevel.Tcp, TcpKeepAliveRetryCount, KeepAliveRetryCount.Value);
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ProtocolOption || e.SocketErrorCode == SocketError.InvalidArgument)
            {
                throw new NotSupportedException("This platform or .NET runtime cannot set keep-alive timings per socket.", e);
            }
        }

        private static int? TryGet(Socket socket, SocketOptionLevel level, SocketOptionName name)
        {
            try
            {
                return (int)socket.GetSocketOption(level, name);
            }
            catch (SocketException)
            {
                return null;
            }
        }

        private static SocketOptionLevel Level(Socket socket) =>
            socket.AddressFamily == AddressFamily.InterNetworkV6 ? SocketOptionLevel.IPv6 : SocketOptionLevel.IP;

        private static void SetForFamilies(Socket socket, SocketOptionName name, int value)
        {
            socket.SetSocketOption(Level(socket), name, value);
            if (socket.AddressFamily == AddressFamily.InterNetworkV6 && socket.DualMode)
            {
                socket.SetSocketOption(SocketOptionLevel.IP, name, value);
            }
        }

        private static void RequireTcp(bool tcp, string option)
        {
            if (!tcp)
            {
                throw new NotSupportedException($"{option} applies to TCP sockets only.");
            }
        }

        private static void RequireIp(bool ip, string option)
        {
            if (!ip)
            {
                throw new NotSupportedException($"{option} applies to IPv4 and IPv6 sockets only.");
            }
        }

        private static void RequireUdp(Socket socket, string option)
        {
            if (socket.ProtocolType != ProtocolType.Udp)
            {
                throw new NotSupportedException($"{option} applies to UDP sockets only.");
            }
        }

        private static void Check(int? value, int min, int max, string name)
        {
            if (value.HasValue && (value.Value < min || value.Value > max))
            {
                throw new ArgumentOutOfRangeException(name, value.Value, $"{name} must be between {min} and {max}.");
            }
        }

        private static void Check(short? value, int min, int max, string name) => Check((int?)value, min, max, name);

        private static void Check(double? value, double min, double max, string name)
        {
            if (value.HasValue && !(value.Value >= min && value.Value <= max))
            {
                throw new ArgumentOutOfRangeException(name, value.Value, $"{name} must be between {min} and {max}.");
            }
        }
    }
}

using System;
using System.Security.Cryptography.X509Certificates;

namespace SocketCmdlets
{
    /// <summary>What a port forwarder listens on, where it forwards to, and its limits.</summary>
    internal sealed class RelayListenerOptions
    {
        /// <summary>The local address to listen on (an address, a host name, Any or Loopback); every interface when empty.</summary>
        public string ListenAddress { get; set; }

        /// <summary>The port to listen on (0: a free one).</summary>
        public int ListenPort { get; set; }

        /// <summary>A Unix socket path to listen on instead of a port.</summary>
        public string ListenPath { get; set; }

        /// <summary>The host to forward to.</summary>
        public string TargetHost { get; set; }

        /// <summary>The port to forward to.</summary>
        public int TargetPort { get; set; }

        /// <summary>A Unix socket path to forward to instead of a host and port.</summary>
        public string TargetPath { get; set; }

        /// <summary>TLS to start towards the target (originate TLS), or null.</summary>
        public TlsOptions TargetTls { get; set; }

        /// <summary>A certificate with its private key: the relay ends TLS from its clients (terminate TLS), or null.</summary>
        public X509Certificate2 Certificate { get; set; }

        /// <summary>The most connections relayed at once; more are closed at once and counted as rejected. 0: no limit.</summary>
        public int MaxConnections { get; set; }

        /// <summary>Client addresses and CIDR ranges allowed (empty: all).</summary>
        public string[] AllowAddress { get; set; }

        /// <summary>Client addresses and CIDR ranges refused (wins over allow).</summary>
        public string[] DenyAddress { get; set; }

        /// <summary>A connection with no byte moving either way for this long is closed. Infinite or zero: no limit.</summary>
        public TimeSpan IdleTimeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        /// <summary>How long connecting to the target (and each TLS handshake) may take.</summary>
        public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>The buffer of each direction of each connection.</summary>
        public int BufferSize { get; set; } = RelayConnection.DefaultBufferSize;

        /// <summary>A label.</summary>
        public string Name { get; set; }

        internal bool TargetIsUnix => TargetPath != null;

        internal string TargetText => TargetPath ?? (TargetHost != null && TargetHost.Contains(":") && !TargetHost.StartsWith("[", StringComparison.Ordinal)
            ? $"[{TargetHost}]:{TargetPort}" : $"{TargetHost}:{TargetPort}");
    }
}

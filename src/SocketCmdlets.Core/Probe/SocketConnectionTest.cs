using System;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace SocketCmdlets
{
    /// <summary>What a TCP connect probe found.</summary>
    public enum ConnectionTestStatus
    {
        /// <summary>The connection was accepted (the handshake completed).</summary>
        Open,
        /// <summary>The host answered with a reset: nothing listens on that port.</summary>
        Refused,
        /// <summary>No answer within the timeout: the port is filtered, or the host is down.</summary>
        TimedOut,
        /// <summary>The name did not resolve to any address.</summary>
        HostNotFound,
        /// <summary>There is no route to the host or network (or the system refused to send).</summary>
        Unreachable,
    }

    /// <summary>The result of one TCP connect probe of one host and port (one attempt).</summary>
    public sealed class SocketConnectionTest
    {
        /// <summary>The host name or address as given.</summary>
        public string ComputerName { get; internal set; }

        /// <summary>The address that was probed; null when the name did not resolve.</summary>
        public IPAddress RemoteAddress { get; internal set; }

        /// <summary>The TCP port probed.</summary>
        public int Port { get; internal set; }

        /// <summary>What the probe found.</summary>
        public ConnectionTestStatus Status { get; internal set; }

        /// <summary>True when the port accepted the connection.</summary>
        public bool Open => Status == ConnectionTestStatus.Open;

        /// <summary>Milliseconds the TCP connect took (until accepted or refused); null when there was no answer.</summary>
        public double? LatencyMs { get; internal set; }

        /// <summary>The attempt number, from 1 (-Count, -Wait).</summary>
        public int Attempt { get; internal set; } = 1;

        /// <summary>With TLS: the negotiated protocol version.</summary>
        public SslProtocols? TlsProtocol { get; internal set; }

        /// <summary>With TLS: the negotiated cipher suite.</summary>
        public string CipherSuite { get; internal set; }

        /// <summary>With TLS: the server's certificate.</summary>
        public X509Certificate2 Certificate { get; internal set; }

        /// <summary>With TLS: why the certificate would fail validation (empty when it is valid).</summary>
        public string[] CertificateErrors { get; internal set; }

        /// <summary>With TLS: when the server's certificate expires (local time).</summary>
        public DateTime? NotAfter { get; internal set; }

        /// <summary>What went wrong, in words (the socket error, or why the TLS handshake failed); null when all went well.</summary>
        public string Detail { get; internal set; }

        /// <summary>Host:port, for messages.</summary>
        public override string ToString() =>
            $"{(ComputerName != null && ComputerName.Contains(":") ? "[" + ComputerName + "]" : ComputerName)}:{Port} {Status}";
    }
}

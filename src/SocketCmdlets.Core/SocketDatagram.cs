using System;
using System.Net;
using System.Text;

namespace SocketCmdlets
{
    /// <summary>One UDP datagram received, with where it came from.</summary>
    public sealed class SocketDatagram
    {
        private readonly Encoding _encoding;
        private string _text;

        internal SocketDatagram(NetSocket socket, IPEndPoint remoteEndPoint, byte[] data, Encoding encoding = null)
        {
            Socket = socket;
            RemoteEndPoint = remoteEndPoint;
            LocalEndPoint = socket?.LocalEndPoint;
            Data = data ?? Array.Empty<byte>();
            _encoding = encoding ?? TextEncoding.Default;
            ReceivedAt = DateTime.Now;
        }

        /// <summary>The socket that received it; a reply goes out through it.</summary>
        public NetSocket Socket { get; }

        /// <summary>The sender's address and port (IPv4 senders show as IPv4).</summary>
        public IPEndPoint RemoteEndPoint { get; }

        /// <summary>The local address and port it arrived on.</summary>
        public IPEndPoint LocalEndPoint { get; }

        /// <summary>The payload.</summary>
        public byte[] Data { get; }

        /// <summary>The payload decoded as text (UTF-8 unless Receive-SocketData -Encoding said otherwise).</summary>
        public string Text => _text ?? (_text = TextDecoder.Decode(_encoding, Data));

        /// <summary>The payload length in bytes.</summary>
        public int Length => Data.Length;

        /// <summary>When it was received.</summary>
        public DateTime ReceivedAt { get; }

        /// <summary>The text, for display.</summary>
        public override string ToString() => Text;
    }
}

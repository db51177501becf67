using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using SocketCmdlets.Commands;

namespace SocketCmdlets
{
    /// <summary>
    /// Where sent objects go: the bytes <see cref="PayloadEncoder"/> makes of each object, handed to one socket. A cmdlet
    /// writes each object and flushes when its input is complete; a sink holds nothing after <see cref="Flush"/>.
    /// </summary>
    internal abstract class SocketSink : IDisposable
    {
        protected SocketSink(NetSocket socket, PayloadEncoder encoder, Action<string> trace)
        {
            Socket = socket;
            Encoder = encoder;
            Trace = trace;
        }

        /// <summary>The socket the bytes go to.</summary>
        public NetSocket Socket { get; }

        protected PayloadEncoder Encoder { get; }

        /// <summary>Hears what was sent (verbose output), or null.</summary>
        protected Action<string> Trace { get; }

        /// <summary>
        /// True when the sink gathers the bytes of several inputs into one send, which -Unbuffered turns off; false when
        /// each input leaves at once anyway (a datagram).
        /// </summary>
        public abstract bool GathersInputs { get; }

        /// <summary>What a send attempts, for error messages ("send to 127.0.0.1:5000 (socket 3)").</summary>
        public abstract string Attempt { get; }

        /// <summary>Hands over the bytes of one object; small pieces may be gathered until <see cref="Flush"/>.</summary>
        public abstract void Write(object data);

        /// <summary>Sends everything gathered and waits until it has gone; throws the failure of an earlier background send.</summary>
        public abstract void Flush();

        /// <summary>Drops what was not flushed.</summary>
        public abstract void Dispose();
    }

    /// <summary>
    /// A stream socket: the bytes of successive objects follow each other through the socket's <see cref="SendBuffer"/>.
    /// In the background mode (Send-SocketData) each object is handed to a background sender as soon as it is complete,
    /// and objects that come while it sends are gathered into its next send.
    /// </summary>
    internal sealed class StreamSink : SocketSink
    {
        private readonly SendBuffer _buffer;
        private long _sentBefore;

        public StreamSink(NetSocket socket, PayloadEncoder encoder, TimeSpan timeout, CancellationToken cancellationToken, Action<string> trace, bool background)
            : base(socket, encoder, trace)
        {
            _buffer = new SendBuffer(socket, timeout, cancellationToken, background);
            _sentBefore = socket.BytesSent;
        }

        public override bool GathersInputs => true;

        public override string Attempt => $"send to {SocketCommandBase.Peer(Socket)}";

        public override void Write(object data)
        {
            Encoder.Encode(new SendBufferSink(_buffer), data);
            _buffer.EndOfInput();
        }

        public override void Flush()
        {
            _buffer.Flush();
            long sent = Socket.BytesSent;
            if (Trace != null && sent > _sentBefore)
            {
                Trace($"Sent {sent - _sentBefore} bytes to {SocketCommandBase.Peer(Socket)}.");
            }

            _sentBefore = sent;
        }

        public override void Dispose() => _buffer.Dispose();
    }

    /// <summary>
    /// A datagram socket: the bytes of one object are one datagram, except single bytes, which arrive one by one on the
    /// pipeline and are gathered into one datagram until another object comes or the input is complete.
    /// </summary>
    internal sealed class DatagramSink : SocketSink
    {
        private readonly List<byte> _bytes = new List<byte>();
        private readonly Func<SocketDatagram, IPEndPoint> _destination;
        private readonly string _destinationText;
        private readonly TimeSpan _timeout;
        private readonly CancellationToken _cancellationToken;

        /// <summary>
        /// A sink whose datagrams go where <paramref name="destination"/> says (null: the socket's default peer), given
        /// the datagram being answered, if any; <paramref name="destinationText"/> names that place in messages.
        /// </summary>
        public DatagramSink(NetSocket socket, PayloadEncoder encoder, TimeSpan timeout, CancellationToken cancellationToken, Action<string> trace,
            Func<SocketDatagram, IPEndPoint> destination, string destinationText)
            : base(socket, encoder, trace)
        {
            _destination = destination;
            _destinationText = destinationText;
            _timeout = timeout;
            _cancellationToken = cancellationToken;
        }

        public override bool GathersInputs => false;

        public override string Attempt => $"send a datagram from socket {Socket.Id} to {_destinationText}";

        public override void Write(object data)
        {
            object value = data is System.Management.Automation.PSObject ps ? ps.BaseObject : data;
            if (value is byte single)
            {
                _bytes.Add(single);
                return;
            }

            Flush();
            byte[] payload = Encoder.ToBytes(value);
            if (payload != null)
            {
                Send(payload, value as SocketDatagram);
            }
        }

        public override void Flush()
        {
            if (_bytes.Count == 0)
            {
                return;
            }

            byte[] payload = _bytes.ToArray();
            _bytes.Clear();
            Send(payload, null);
        }

        public override void Dispose() => _bytes.Clear();

        private void Send(byte[] payload, SocketDatagram answered)
        {
            IPEndPoint destination = _destination(answered);
            Socket.SendDatagram(payload, 0, payload.Length, destination, _timeout, _cancellationToken);
            Trace?.Invoke($"Sent a datagram of {payload.Length} bytes to {NetSocket.Format(destination ?? Socket.RemoteEndPoint)} (socket {Socket.Id}).");
        }
    }
}

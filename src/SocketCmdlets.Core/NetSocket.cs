using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>
    /// One socket of the session: a <see cref="System.Net.Sockets.Socket"/> with its life-cycle state, counters and
    /// receive buffer. Every blocking call takes a timeout and a <see cref="CancellationToken"/> and waits in short
    /// slices, so it ends promptly when cancelled. The underlying socket is kept non-blocking.
    /// </summary>
    public sealed partial class NetSocket : IDisposable
    {
        private static int s_lastId;

        private readonly object _gate = new object();
        private readonly SocketOptions _options;
        private readonly AddressFamily _requestedFamily;
        private Socket _socket;
        private volatile SocketState _state;
        private long _bytesSent;
        private long _bytesReceived;
        private IPEndPoint _localEndPoint;
        private IPEndPoint _remoteEndPoint;

        private NetSocket(Socket socket, SocketProtocol protocol, AddressFamily requestedFamily, SocketOptions options, string name, SocketState state)
        {
            _socket = socket;
            _options = options ?? new SocketOptions();
            _requestedFamily = requestedFamily;
            Protocol = protocol;
            Name = name;
            _state = state;
            _plain = new PlainTransport(this);
            _transport = _plain;
            Id = Interlocked.Increment(ref s_lastId);
            CreatedAt = DateTime.Now;
            SocketRegistry.Add(this);
        }

        /// <summary>Unique in the process, increasing.</summary>
        public int Id { get; }

        /// <summary>
        /// Who opened the socket, as the host sees it (the module records the id of the PowerShell session), so that
        /// removing the module from one session closes that session's sockets only.
        /// </summary>
        public object Owner { get; internal set; }

        /// <summary>An optional label.</summary>
        public string Name { get; set; }

        /// <summary>Tcp.</summary>
        public SocketProtocol Protocol { get; }

        /// <summary>
        /// The address family in use: that of the peer once connected, else the one asked for; a socket created
        /// without one reports InterNetworkV6 with <see cref="DualMode"/> set (it reaches IPv4 and IPv6 alike).
        /// </summary>
        public AddressFamily AddressFamily =>
            _remoteEndPoint?.AddressFamily ?? (_localEndPoint != null && !IsAny(_localEndPoint.Address) ? _localEndPoint.AddressFamily : _requestedFamily);

        /// <summary>True when one IPv6 socket serves IPv4 and IPv6 (the default without -AddressFamily).</summary>
        public bool DualMode { get; private set; }

        /// <summary>Where the socket is in its life cycle.</summary>
        public SocketState State => _state;

        /// <summary>The local address and port (IPv4 peers show as IPv4).</summary>
        public IPEndPoint LocalEndPoint => _localEndPoint;

        /// <summary>The peer's address and port (IPv4 peers show as IPv4).</summary>
        public IPEndPoint RemoteEndPoint => _remoteEndPoint;

        /// <summary>The host name given to Connect-Socket, if any.</summary>
        public string RemoteHostName { get; private set; }

        /// <summary>The file path of a Unix domain socket: the one bound, or the one connected to.</summary>
        public string Path { get; private set; }

        /// <summary>The receive timeout the cmdlets use for this socket when -TimeoutSec is not given (infinite by default).</summary>
        internal TimeSpan ReceiveTimeout { get; set; } = Timeout.InfiniteTimeSpan;

        /// <summary>The send timeout the cmdlets use for this socket when -TimeoutSec is not given (infinite by default).</summary>
        internal TimeSpan SendTimeout { get; set; } = Timeout.InfiniteTimeSpan;

        /// <summary>
        /// The receive timeout, in seconds, the cmdlets use for this socket when -TimeoutSec is not given; 0 means no
        /// limit (as Get-SocketOption shows it). Set it with Set-SocketOption -ReceiveTimeoutSec.
        /// </summary>
        public double ReceiveTimeoutSec => Timeouts.ToSeconds(ReceiveTimeout);

        /// <summary>The send timeout, in seconds, for Send-SocketData when -TimeoutSec is not given; 0 means no limit.</summary>
        public double SendTimeoutSec => Timeouts.ToSeconds(SendTimeout);

        /// <summary>The id of the listener that accepted this connection, if any.</summary>
        public int? ListenerId { get; private set; }

        /// <summary>Bytes sent so far.</summary>
        public long BytesSent => Interlocked.Read(ref _bytesSent);

        /// <summary>Bytes received so far.</summary>
        public long BytesReceived => Interlocked.Read(ref _bytesReceived);

        /// <summary>True once the peer has finished sending (end of stream was read).</summary>
        public bool EndOfStream { get; private set; }

        /// <summary>When the socket object was created.</summary>
        public DateTime CreatedAt { get; }

        /// <summary>
        /// The underlying socket, as an escape hatch. The engine keeps it non-blocking; set
        /// <c>Blocking = $true</c> before calling its blocking methods directly.
        /// </summary>
        public Socket Socket => _socket;

        /// <summary>A one-line description, for messages.</summary>
        public override string ToString()
        {
            // PowerShell's parameter binder asks for this on every -Socket it binds: build it only when it changed.
            var key = (State, Name, _localEndPoint, _remoteEndPoint, Path);
            if (_description != null && key.Equals(_descriptionKey))
            {
                return _description;
            }

            _descriptionKey = key;
            return _description = Describe();
        }

        private (SocketState, string, IPEndPoint, IPEndPoint, string) _descriptionKey;
        private string _description;

        private string Describe()
        {
            string name = string.IsNullOrEmpty(Name) ? string.Empty : $" '{Name}'";
            string where = Path != null ? $" {Path}" : _remoteEndPoint != null ? $" {Format(_localEndPoint)} -> {Format(_remoteEndPoint)}"
                : _localEndPoint != null ? $" {Format(_localEndPoint)}" : string.Empty;
            return $"Socket {Id}{name} ({Protocol}, {State}{where})";
        }

        /// <summary>
        /// Formats an endpoint as address:port, with brackets around IPv6 addresses. Public, and static so no socket
        /// lists it: the format view and scripts use it to show endpoints as the module does.
        /// </summary>
        public static string Format(IPEndPoint endPoint)
        {
            if (endPoint == null)
            {
                return "(none)";
            }

            return endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]:{endPoint.Port}" : $"{endPoint.Address}:{endPoint.Port}";
        }

        /// <summary>Shows IPv4-mapped IPv6 addresses as IPv4.</summary>
        internal static IPEndPoint Normalize(EndPoint endPoint)
        {
            if (!(endPoint is IPEndPoint ip))
            {
                return null;
            }

            return ip.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(ip.Address.MapToIPv4(), ip.Port) : ip;
        }

        private void RequireIp(string operation)
        {
            if (_requestedFamily == AddressFamily.Unix)
            {
                throw new InvalidSocketStateException(this, operation, "it is a Unix domain socket; it has a path, not an address and port.", SocketRequirement.Path);
            }
        }

        internal void RequireState(string operation, string requirement, params SocketState[] allowed) =>
            RequireState(operation, requirement, SocketRequirement.None, allowed);

        /// <summary>Throws unless the socket is in one of the <paramref name="allowed"/> states; a closed socket says so.</summary>
        internal void RequireState(string operation, string requirement, SocketRequirement needs, params SocketState[] allowed)
        {
            SocketState state = _state;
            if (Array.IndexOf(allowed, state) < 0)
            {
                throw state == SocketState.Closed
                    ? new InvalidSocketStateException(this, operation, "a closed socket cannot be used again; create a new socket.")
                    : new InvalidSocketStateException(this, operation, requirement, needs);
            }
        }

        internal InvalidSocketStateException Closed(string operation) =>
            new InvalidSocketStateException(this, operation, "it was closed while the call was waiting.");

        private void CheckFamily(IPAddress address)
        {
            AddressFamily family = _socket.AddressFamily;
            if (address.AddressFamily != family && !(DualMode && address.AddressFamily == AddressFamily.InterNetwork))
            {
                throw new SocketException((int)SocketError.AddressFamilyNotSupported);
            }
        }

        /// <summary>Waits until the socket is ready for <paramref name="mode"/> (see <see cref="PlainTransport.WaitReady"/>).</summary>
        private void WaitReady(SelectMode mode, Deadline deadline, CancellationToken cancellationToken, SocketOperation operation, IPEndPoint peer = null) =>
            _plain.WaitReady(mode, deadline, cancellationToken, operation, peer);

        private static bool IsAny(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

        internal static void Observe(Task task) =>
            task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}

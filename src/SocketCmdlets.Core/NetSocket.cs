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
        public object Owner { get; set; }

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

        /// <summary>
        /// Creates a socket and registers it. Without a family it is a dual-mode IPv6 socket where the OS allows, so
        /// it binds to or connects to IPv4 and IPv6 alike.
        /// </summary>
        public static NetSocket Create(SocketProtocol protocol = SocketProtocol.Tcp, SocketFamily? family = null, SocketOptions options = null, string name = null)
        {
            options = options ?? new SocketOptions();
            options.Validate();
            AddressFamily addressFamily;
            bool dualMode = false;
            if (family == SocketFamily.Unix)
            {
                UnixEndPoints.RequireSupport();
                if (protocol != SocketProtocol.Tcp)
                {
                    throw new NotSupportedException("Unix domain sockets are stream sockets here: use -Protocol Tcp (the default) with -AddressFamily Unix.");
                }

                addressFamily = AddressFamily.Unix;
            }
            else if (family == SocketFamily.InterNetwork)
            {
                addressFamily = AddressFamily.InterNetwork;
            }
            else if (family == SocketFamily.InterNetworkV6)
            {
                addressFamily = AddressFamily.InterNetworkV6;
            }
            else if (Socket.OSSupportsIPv6)
            {
                addressFamily = AddressFamily.InterNetworkV6;
                dualMode = true;
            }
            else
            {
                addressFamily = AddressFamily.InterNetwork;
            }

            Socket raw = CreateRaw(addressFamily, protocol, dualMode, options);
            return new NetSocket(raw, protocol, addressFamily, options, name, SocketState.Created) { DualMode = dualMode };
        }

        private static Socket CreateRaw(AddressFamily family, SocketProtocol protocol, bool dualMode, SocketOptions options)
        {
            Socket socket = family == AddressFamily.Unix
                ? new Socket(family, SocketType.Stream, ProtocolType.Unspecified)
                : protocol == SocketProtocol.Udp
                    ? new Socket(family, SocketType.Dgram, ProtocolType.Udp)
                    : new Socket(family, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (family == AddressFamily.InterNetworkV6)
                {
                    socket.DualMode = dualMode;
                }

                if (protocol == SocketProtocol.Udp && System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows))
                {
                    // SIO_UDP_CONNRESET off: on Windows an ICMP port-unreachable would otherwise fail the next receive.
                    socket.IOControl(unchecked((int)0x9800000C), new byte[4], null);
                }

                options.Apply(socket);
                socket.Blocking = false;
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        /// <summary>Binds to a local address (null: every interface) and port (0: a free one).</summary>
        public NetSocket Bind(IPAddress address, int port)
        {
            if (port < 0 || port > 65535)
            {
                throw new ArgumentOutOfRangeException(nameof(port), port, "The port must be between 0 and 65535.");
            }

            RequireIp("bind to an address and port", "give -Path for a Unix domain socket.");
            lock (_gate)
            {
                RequireState("bind", "binding needs a new socket (New-Socket).", SocketState.Created);
                address = address ?? (_requestedFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any);
                CheckFamily(address);
                _socket.Bind(new IPEndPoint(address, port));
                _localEndPoint = Normalize(_socket.LocalEndPoint);
                _state = SocketState.Bound;
            }

            return this;
        }

        /// <summary>Starts listening; the socket must be bound.</summary>
        public NetSocket Listen(int backlog = 0)
        {
            if (backlog < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(backlog), backlog, "The backlog cannot be negative.");
            }

            if (Protocol == SocketProtocol.Udp)
            {
                throw new InvalidSocketStateException(this, "listen", "UDP sockets do not listen or accept: bind one and receive datagrams with Receive-SocketData.");
            }

            lock (_gate)
            {
                RequireState("listen", "bind it first (Register-SocketBinding).", SocketState.Bound);
                _socket.Listen(backlog == 0 ? (int)SocketOptionName.MaxConnections : backlog);
                _state = SocketState.Listening;
            }

            return this;
        }

        /// <summary>Waits for and accepts one connection.</summary>
        public NetSocket Accept(TimeSpan timeout, CancellationToken cancellationToken)
        {
            RequireState("accept a connection", "accepting needs a listening socket (Start-SocketListen).", SocketState.Listening);
            Deadline deadline = Deadline.After(timeout);
            while (true)
            {
                WaitReady(SelectMode.SelectRead, deadline, cancellationToken, SocketOperation.Accept);
                Socket accepted;
                try
                {
                    accepted = _socket.Accept();
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
                {
                    // Another thread took the pending connection first.
                    continue;
                }
                catch (ObjectDisposedException)
                {
                    throw Closed("accept a connection");
                }

                try
                {
                    accepted.Blocking = false;
                    if (_options.NoDelay.HasValue)
                    {
                        accepted.NoDelay = _options.NoDelay.Value;
                    }
                }
                catch
                {
                    accepted.Dispose();
                    throw;
                }

                var peer = new NetSocket(accepted, Protocol, _requestedFamily, new SocketOptions(), null, SocketState.Connected)
                {
                    DualMode = _socket.AddressFamily == AddressFamily.InterNetworkV6 && DualMode,
                    ListenerId = Id,
                };
                peer._localEndPoint = Normalize(accepted.LocalEndPoint);
                peer._remoteEndPoint = Normalize(accepted.RemoteEndPoint);
                peer.Path = Path;
                peer.LocalPath = LocalPath;
                peer.ReceiveTimeout = ReceiveTimeout;
                peer.SendTimeout = SendTimeout;
                return peer;
            }
        }

        /// <summary>Shuts down sending (half-close) or closes the socket. Closing a closed socket does nothing.</summary>
        public void Close(CloseDirection direction = CloseDirection.Both)
        {
            if (_state == SocketState.Closed)
            {
                return;
            }

            if (direction == CloseDirection.Send)
            {
                RequireState("shut down sending", "a half-close needs a connected socket.", SocketState.Connected, SocketState.HalfClosed);
            }

            if (_state == SocketState.Connected && IsEncrypted)
            {
                // TLS says close_notify before the connection closes or half-closes (bounded, outside the lock). A plain
                // socket never reaches the TLS code, which would load the TLS assembly (impossible when the process is
                // out of descriptors, the moment a server most needs to close sockets).
                ShutdownTls();
            }

            lock (_gate)
            {
                if (_state == SocketState.Closed)
                {
                    return;
                }

                if (direction == CloseDirection.Send)
                {
                    RequireState("shut down sending", "a half-close needs a connected socket.", SocketState.Connected, SocketState.HalfClosed);
                    if (_state == SocketState.Connected)
                    {
                        try
                        {
                            _socket.Shutdown(SocketShutdown.Send);
                        }
                        catch (SocketException e) when (e.SocketErrorCode == SocketError.NotConnected)
                        {
                            // The peer already reset the connection; nothing is left to shut down.
                        }

                        _state = SocketState.HalfClosed;
                    }

                    return;
                }

                // The receive buffer is left alone: a receive on another thread may still be using it; it goes with the object.
                SocketState before = _state;
                _state = SocketState.Closed;
                if (_encrypted)
                {
                    DisposeTls();
                }

                _socket.Dispose();
                SocketRegistry.Remove(this);
                if (_boundPath && (before == SocketState.Bound || before == SocketState.Listening))
                {
                    // The socket file is this socket's to remove, as a server that exits cleanly does.
                    TryDelete(Path);
                }
            }
        }

        /// <summary>Closes the socket.</summary>
        public void Dispose() => Close();

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

        /// <summary>Formats an endpoint as address:port, with brackets around IPv6 addresses.</summary>
        public static string Format(IPEndPoint endPoint)
        {
            if (endPoint == null)
            {
                return "(none)";
            }

            return endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]:{endPoint.Port}" : $"{endPoint.Address}:{endPoint.Port}";
        }

        /// <summary>Shows IPv4-mapped IPv6 addresses as IPv4.</summary>
        public static IPEndPoint Normalize(EndPoint endPoint)
        {
            if (!(endPoint is IPEndPoint ip))
            {
                return null;
            }

            return ip.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(ip.Address.MapToIPv4(), ip.Port) : ip;
        }

        private void RequireIp(string operation, string requirement)
        {
            if (_requestedFamily == AddressFamily.Unix)
            {
                throw new InvalidSocketStateException(this, operation, "it is a Unix domain socket; " + requirement);
            }
        }

        internal void RequireState(string operation, string requirement, params SocketState[] allowed)
        {
            SocketState state = _state;
            if (Array.IndexOf(allowed, state) < 0)
            {
                throw new InvalidSocketStateException(this, operation, state == SocketState.Closed ? "a closed socket cannot be used again; create a new socket." : requirement);
            }
        }

        private InvalidSocketStateException Closed(string operation) =>
            new InvalidSocketStateException(this, operation, "it was closed while the call was waiting.");

        private void CheckFamily(IPAddress address)
        {
            AddressFamily family = _socket.AddressFamily;
            if (address.AddressFamily != family && !(DualMode && address.AddressFamily == AddressFamily.InterNetwork))
            {
                throw new SocketException((int)SocketError.AddressFamilyNotSupported);
            }
        }

        /// <summary>
        /// Waits until the socket is ready for <paramref name="mode"/>, in short slices. A socket in error counts as ready
        /// to write (Windows reports a failed connect that way only), so the next call meets the error. A timeout names
        /// <paramref name="peer"/> when given (a connect), else the socket.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        private void WaitReady(SelectMode mode, Deadline deadline, CancellationToken cancellationToken, SocketOperation operation, IPEndPoint peer = null)
        {
            bool checkedOnce = false;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int slice = deadline.NextSliceMilliseconds();
                if (slice < 0)
                {
                    if (checkedOnce)
                    {
                        throw new SocketTimeoutException(operation, deadline.Timeout, peer != null ? Format(peer) : ToString());
                    }

                    // A zero timeout still looks once: what is already there is taken.
                    slice = 0;
                }

                checkedOnce = true;

                try
                {
                    if (_socket.Poll(slice * 1000, mode) || (mode == SelectMode.SelectWrite && _socket.Poll(0, SelectMode.SelectError)))
                    {
                        return;
                    }
                }
                catch (ObjectDisposedException)
                {
                    throw Closed(operation.ToString().ToLowerInvariant());
                }
            }
        }

        private static bool IsAny(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

        private static void Observe(Task task) =>
            task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}

using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>The socket's life cycle: create, bind, listen, accept, close.</summary>
    public sealed partial class NetSocket
    {
        /// <summary>
        /// Creates a socket and registers it. Without a family it is a dual-mode IPv6 socket where the OS allows, so
        /// it binds to or connects to IPv4 and IPv6 alike.
        /// </summary>
        internal static NetSocket Create(SocketProtocol protocol = SocketProtocol.Tcp, SocketFamily? family = null, SocketOptions options = null, string name = null)
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
                    throw new UnsupportedSocketKindException(protocol, SocketFamily.Unix);
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
        internal NetSocket Bind(IPAddress address, int port)
        {
            if (port < 0 || port > 65535)
            {
                throw new ArgumentOutOfRangeException(nameof(port), port, "The port must be between 0 and 65535.");
            }

            RequireIp("bind to an address and port");
            lock (_gate)
            {
                RequireState("bind", "binding needs a new socket.", SocketRequirement.New, SocketState.Created);
                address = address ?? (_requestedFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any);
                CheckFamily(address);
                _socket.Bind(new IPEndPoint(address, port));
                _localEndPoint = Normalize(_socket.LocalEndPoint);
                _state = SocketState.Bound;
            }

            return this;
        }

        /// <summary>Starts listening; the socket must be bound.</summary>
        internal NetSocket Listen(int backlog = 0)
        {
            if (backlog < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(backlog), backlog, "The backlog cannot be negative.");
            }

            if (Protocol == SocketProtocol.Udp)
            {
                throw new InvalidSocketStateException(this, "listen", "UDP sockets do not listen or accept: bind one and receive datagrams.", SocketRequirement.StreamToListen);
            }

            lock (_gate)
            {
                RequireState("listen", "bind it first.", SocketRequirement.Bound, SocketState.Bound);
                _socket.Listen(backlog == 0 ? (int)SocketOptionName.MaxConnections : backlog);
                _state = SocketState.Listening;
            }

            return this;
        }

        /// <summary>Waits for and accepts one connection.</summary>
        internal NetSocket Accept(TimeSpan timeout, CancellationToken cancellationToken)
        {
            RequireState("accept a connection", "accepting needs a listening socket.", SocketRequirement.Listening, SocketState.Listening);
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
        internal void Close(CloseDirection direction = CloseDirection.Both)
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
                _tls?.Shutdown();
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
                    _tls.Dispose();
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
    }
}

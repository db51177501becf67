namespace SocketCmdlets
{
    /// <summary>The transport protocol of a socket.</summary>
    public enum SocketProtocol
    {
        /// <summary>A TCP stream socket (for Unix domain sockets: a stream socket).</summary>
        Tcp,
        /// <summary>A UDP datagram socket.</summary>
        Udp,
    }

    /// <summary>The address family requested for a new socket.</summary>
    public enum SocketFamily
    {
        /// <summary>IPv4 only.</summary>
        InterNetwork,
        /// <summary>IPv6 only.</summary>
        InterNetworkV6,
        /// <summary>A Unix domain (local) stream socket, addressed by a file path.</summary>
        Unix,
    }

    /// <summary>Where a socket is in its life cycle.</summary>
    public enum SocketState
    {
        /// <summary>Created by New-Socket; not bound or connected yet.</summary>
        Created,
        /// <summary>Bound to a local address and port.</summary>
        Bound,
        /// <summary>Listening for connections.</summary>
        Listening,
        /// <summary>Connected to a peer; can send and receive.</summary>
        Connected,
        /// <summary>Connected, but this side has shut down sending (half-close); it can still receive.</summary>
        HalfClosed,
        /// <summary>Closed; the handle is released.</summary>
        Closed,
    }

    /// <summary>What Close-Socket shuts down.</summary>
    public enum CloseDirection
    {
        /// <summary>Close the socket completely and release it.</summary>
        Both,
        /// <summary>Shut down sending only (the peer sees end of stream); receiving stays open.</summary>
        Send,
    }

    /// <summary>A blocking operation, named in timeouts.</summary>
    public enum SocketOperation
    {
        /// <summary>Waiting for an incoming connection.</summary>
        Accept,
        /// <summary>Connecting to a peer (name resolution included).</summary>
        Connect,
        /// <summary>Sending data.</summary>
        Send,
        /// <summary>Receiving data.</summary>
        Receive,
        /// <summary>Resolving a host name to addresses (for a bind, or a datagram's destination).</summary>
        Resolve,
    }
}

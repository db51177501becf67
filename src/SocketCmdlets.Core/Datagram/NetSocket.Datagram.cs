using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>UDP: datagrams to a default peer or to any address, and datagrams received with their sender.</summary>
    public sealed partial class NetSocket
    {
        /// <summary>The largest UDP payload over IPv4.</summary>
        internal const int MaxDatagramIPv4 = DatagramEndpoint.MaxIPv4;

        /// <summary>The largest UDP payload over IPv6 (without jumbograms).</summary>
        internal const int MaxDatagramIPv6 = DatagramEndpoint.MaxIPv6;

        // The datagram side, made for the first datagram call (a TCP socket never has one); one instance wins a race.
        private DatagramEndpoint _datagrams;

        private DatagramEndpoint Datagrams => LazyInitializer.EnsureInitialized(ref _datagrams, () => new DatagramEndpoint(this, _plain));

        /// <summary>The multicast groups this socket has joined.</summary>
        public IPAddress[] MulticastGroups
        {
            get
            {
                lock (_gate)
                {
                    return _datagrams?.Groups ?? new IPAddress[0];
                }
            }
        }

        private void ConnectDatagram(IPEndPoint peer)
        {
            CheckFamily(peer.Address);
            lock (_gate)
            {
                _socket.Connect(peer);
                _localEndPoint = Normalize(_socket.LocalEndPoint);
                _remoteEndPoint = Normalize(_socket.RemoteEndPoint);
                _state = SocketState.Connected;
            }
        }

        /// <summary>
        /// Sends one datagram: to <paramref name="destination"/>, or to the default peer when it is null. A payload
        /// larger than UDP allows is refused, never truncated.
        /// </summary>
        internal void SendDatagram(byte[] data, int offset, int count, IPEndPoint destination, TimeSpan timeout, CancellationToken cancellationToken)
        {
            RequireUdp("send a datagram");
            if (data == null)
            {
                throw new ArgumentNullException(nameof(data));
            }

            if (destination == null)
            {
                if (_state != SocketState.Connected)
                {
                    throw new InvalidSocketStateException(this, "send a datagram", "a UDP socket without a default peer needs a destination.", SocketRequirement.Destination);
                }
            }
            else
            {
                if (destination.Port == 0)
                {
                    throw new ArgumentException("A datagram cannot be sent to port 0: give the port the receiver is bound to (1-65535).");
                }

                CheckFamily(destination.Address);
                RequireState("send a datagram", "the socket was closed.", SocketState.Created, SocketState.Bound, SocketState.Connected);
            }

            int limit = DatagramEndpoint.LimitFor(destination?.Address ?? _remoteEndPoint?.Address);
            if (count > limit)
            {
                throw new DatagramTooLargeException(count, limit);
            }

            Datagrams.Send(data, offset, count, destination, limit, timeout, cancellationToken);
            if (_state == SocketState.Created)
            {
                // The system bound the socket to a free port for the first datagram; replies come back there.
                lock (_gate)
                {
                    _localEndPoint = Normalize(_socket.LocalEndPoint);
                    _state = SocketState.Bound;
                }
            }
        }

        /// <summary>
        /// Receives up to <paramref name="count"/> datagrams (count -1: until the socket closes or the timeout passes
        /// with none). Returns the number received.
        /// </summary>
        internal int ReceiveDatagrams(int count, Encoding encoding, TimeSpan timeout, CancellationToken cancellationToken, Action<SocketDatagram> onDatagram)
        {
            RequireUdp("receive datagrams");
            RequireState("receive datagrams", "bind it first, or send or connect so the system binds it.", SocketRequirement.BoundBySomeone, SocketState.Bound, SocketState.Connected);
            using (EnterReceive(timeout, cancellationToken))
            {
                return Datagrams.Receive(count, encoding, timeout, cancellationToken, onDatagram);
            }
        }

        /// <summary>
        /// Joins (or with <paramref name="leave"/>, leaves) a multicast group, on the interface with address
        /// <paramref name="localAddress"/> (IPv4) or index <paramref name="interfaceIndex"/> (IPv6); the system's
        /// choice when neither is given. Joining also sends this socket's multicast datagrams out of that interface.
        /// </summary>
        internal void ChangeMulticastMembership(IPAddress group, IPAddress localAddress, int interfaceIndex, bool leave)
        {
            RequireUdp(leave ? "leave a multicast group" : "join a multicast group");
            if (group == null)
            {
                throw new ArgumentNullException(nameof(group));
            }

            if (group.IsIPv4MappedToIPv6)
            {
                group = group.MapToIPv4();
            }

            bool v4 = group.AddressFamily == AddressFamily.InterNetwork;
            if (v4 ? (group.GetAddressBytes()[0] & 0xF0) != 0xE0 : !group.IsIPv6Multicast)
            {
                throw new ArgumentException($"{group} is not a multicast address (IPv4 224.0.0.0/4, IPv6 ff00::/8).", nameof(group));
            }

            CheckFamily(group);
            lock (_gate)
            {
                RequireState(leave ? "leave a multicast group" : "join a multicast group", "the socket was closed.", SocketState.Created, SocketState.Bound, SocketState.Connected);
                if (!leave && Datagrams.IsMember(group))
                {
                    throw new InvalidSocketStateException(this, $"join {group}", "it is already a member of that group.");
                }

                if (leave && !Datagrams.IsMember(group))
                {
                    throw new InvalidSocketStateException(this, $"leave {group}", "it is not a member of that group.", SocketRequirement.GroupMember);
                }

                Datagrams.ChangeMembership(group, localAddress, interfaceIndex, leave);
            }
        }

        private void RequireUdp(string operation)
        {
            if (Protocol != SocketProtocol.Udp)
            {
                throw new InvalidSocketStateException(this, operation, "datagrams are for UDP sockets.", SocketRequirement.Udp);
            }
        }
    }
}

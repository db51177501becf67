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
        public const int MaxDatagramIPv4 = 65507;

        /// <summary>The largest UDP payload over IPv6 (without jumbograms).</summary>
        public const int MaxDatagramIPv6 = 65527;

        private byte[] _datagramBuffer;
        private readonly System.Collections.Generic.Dictionary<IPAddress, (IPAddress Local, int Index)> _groups =
            new System.Collections.Generic.Dictionary<IPAddress, (IPAddress Local, int Index)>();

        /// <summary>The multicast groups this socket has joined.</summary>
        public IPAddress[] MulticastGroups
        {
            get
            {
                lock (_gate)
                {
                    return new System.Collections.Generic.List<IPAddress>(_groups.Keys).ToArray();
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
        public void SendDatagram(byte[] data, int offset, int count, IPEndPoint destination, TimeSpan timeout, CancellationToken cancellationToken)
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

            IPAddress target = destination?.Address ?? _remoteEndPoint?.Address;
            int limit = target != null && (target.AddressFamily == AddressFamily.InterNetwork || target.IsIPv4MappedToIPv6) ? MaxDatagramIPv4 : MaxDatagramIPv6;
            if (count > limit)
            {
                throw new DatagramTooLargeException(count, limit);
            }

            Deadline deadline = Deadline.After(timeout);
            while (true)
            {
                try
                {
                    int sent = destination == null
                        ? _socket.Send(data, offset, count, SocketFlags.None)
                        : _socket.SendTo(data, offset, count, SocketFlags.None, destination);
                    Interlocked.Add(ref _bytesSent, sent);
                    break;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
                {
                    WaitReady(SelectMode.SelectWrite, deadline, cancellationToken, SocketOperation.Send);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
                {
                    throw new DatagramTooLargeException(count, limit);
                }
                catch (ObjectDisposedException)
                {
                    throw Closed("send a datagram");
                }
            }

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
        public int ReceiveDatagrams(int count, Encoding encoding, TimeSpan timeout, CancellationToken cancellationToken, Action<SocketDatagram> onDatagram)
        {
            RequireUdp("receive datagrams");
            RequireState("receive datagrams", "bind it first, or send or connect so the system binds it.", SocketRequirement.BoundBySomeone, SocketState.Bound, SocketState.Connected);
            using (EnterReceive(timeout, cancellationToken))
            {
                return ReceiveDatagramsCore(count, encoding, timeout, cancellationToken, onDatagram);
            }
        }

        private int ReceiveDatagramsCore(int count, Encoding encoding, TimeSpan timeout, CancellationToken cancellationToken, Action<SocketDatagram> onDatagram)
        {
            if (_datagramBuffer == null)
            {
                _datagramBuffer = new byte[65536];
            }

            int received = 0;
            while (count < 0 || received < count)
            {
                WaitReady(SelectMode.SelectRead, Deadline.After(timeout), cancellationToken, SocketOperation.Receive);
                EndPoint from = _socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
                int length;
                try
                {
                    length = _socket.ReceiveFrom(_datagramBuffer, 0, _datagramBuffer.Length, SocketFlags.None, ref from);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
                {
                    continue;
                }
                catch (ObjectDisposedException)
                {
                    throw Closed("receive datagrams");
                }

                var data = new byte[length];
                Buffer.BlockCopy(_datagramBuffer, 0, data, 0, length);
                Interlocked.Add(ref _bytesReceived, length);
                received++;
                onDatagram(new SocketDatagram(this, Normalize(from), data, encoding));
            }

            return received;
        }

        /// <summary>
        /// Joins (or with <paramref name="leave"/>, leaves) a multicast group, on the interface with address
        /// <paramref name="localAddress"/> (IPv4) or index <paramref name="interfaceIndex"/> (IPv6); the system's
        /// choice when neither is given. Joining also sends this socket's multicast datagrams out of that interface.
        /// </summary>
        public void ChangeMulticastMembership(IPAddress group, IPAddress localAddress, int interfaceIndex, bool leave)
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
                if (!leave && _groups.ContainsKey(group))
                {
                    throw new InvalidSocketStateException(this, $"join {group}", "it is already a member of that group.");
                }

                if (leave && !_groups.ContainsKey(group))
                {
                    throw new InvalidSocketStateException(this, $"leave {group}", "it is not a member of that group.", SocketRequirement.GroupMember);
                }

                SocketOptionName name = leave ? SocketOptionName.DropMembership : SocketOptionName.AddMembership;
                if (leave && localAddress == null && interfaceIndex == 0 && _groups.TryGetValue(group, out var joined))
                {
                    // Leave on the interface the group was joined on.
                    localAddress = joined.Local;
                    interfaceIndex = joined.Index;
                }

                if (v4)
                {
                    IPAddress local = localAddress ?? IPAddress.Any;
                    _socket.SetSocketOption(SocketOptionLevel.IP, name, new MulticastOption(group, local));
                    if (!leave && localAddress != null)
                    {
                        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, localAddress.GetAddressBytes());
                    }
                }
                else
                {
                    _socket.SetSocketOption(SocketOptionLevel.IPv6, name, new IPv6MulticastOption(group, interfaceIndex));
                    if (!leave && interfaceIndex > 0)
                    {
                        _socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, interfaceIndex);
                    }
                }

                if (leave)
                {
                    _groups.Remove(group);
                }
                else
                {
                    _groups[group] = (localAddress, interfaceIndex);
                }
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

using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>
    /// The datagram side of a UDP socket: one datagram out (to the default peer or any address, never truncated), the
    /// datagrams in with their senders, and multicast membership. It moves bytes and waits through the plain
    /// transport; the socket (<see cref="NetSocket"/>) checks state and holds the turns and the lock.
    /// </summary>
    internal sealed class DatagramEndpoint
    {
        /// <summary>The largest UDP payload over IPv4.</summary>
        internal const int MaxIPv4 = 65507;

        /// <summary>The largest UDP payload over IPv6 (without jumbograms).</summary>
        internal const int MaxIPv6 = 65527;

        private readonly NetSocket _owner;
        private readonly PlainTransport _plain;
        private readonly Dictionary<IPAddress, (IPAddress Local, int Index)> _groups = new Dictionary<IPAddress, (IPAddress Local, int Index)>();
        private byte[] _buffer;

        public DatagramEndpoint(NetSocket owner, PlainTransport plain)
        {
            _owner = owner;
            _plain = plain;
        }

        /// <summary>The groups joined, under the socket's lock.</summary>
        public IPAddress[] Groups => new List<IPAddress>(_groups.Keys).ToArray();

        /// <summary>The largest payload to <paramref name="target"/> (null: IPv6's, the larger).</summary>
        public static int LimitFor(IPAddress target) =>
            target != null && (target.AddressFamily == AddressFamily.InterNetwork || target.IsIPv4MappedToIPv6) ? MaxIPv4 : MaxIPv6;

        /// <summary>Sends one datagram to <paramref name="destination"/> (null: the default peer), waiting while the system's buffer is full.</summary>
        public void Send(byte[] data, int offset, int count, IPEndPoint destination, int limit, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Socket socket = _owner.Socket;
            Deadline deadline = Deadline.After(timeout);
            while (true)
            {
                try
                {
                    int sent = destination == null
                        ? socket.Send(data, offset, count, SocketFlags.None)
                        : socket.SendTo(data, offset, count, SocketFlags.None, destination);
                    _owner.CountSent(sent);
                    return;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
                {
                    _plain.WaitReady(SelectMode.SelectWrite, deadline, cancellationToken, SocketOperation.Send);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
                {
                    throw new DatagramTooLargeException(count, limit);
                }
                catch (ObjectDisposedException)
                {
                    throw _owner.Closed("send a datagram");
                }
            }
        }

        /// <summary>Receives up to <paramref name="count"/> datagrams (-1: until a failure ends it); the caller holds the receive turn.</summary>
        public int Receive(int count, Encoding encoding, TimeSpan timeout, CancellationToken cancellationToken, Action<SocketDatagram> onDatagram)
        {
            if (_buffer == null)
            {
                _buffer = new byte[65536];
            }

            Socket socket = _owner.Socket;
            int received = 0;
            while (count < 0 || received < count)
            {
                _plain.WaitReady(SelectMode.SelectRead, Deadline.After(timeout), cancellationToken, SocketOperation.Receive);
                EndPoint from = socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
                int length;
                try
                {
                    length = socket.ReceiveFrom(_buffer, 0, _buffer.Length, SocketFlags.None, ref from);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
                {
                    continue;
                }
                catch (ObjectDisposedException)
                {
                    throw _owner.Closed("receive datagrams");
                }

                var data = new byte[length];
                Buffer.BlockCopy(_buffer, 0, data, 0, length);
                _owner.CountReceived(length);
                received++;
                onDatagram(new SocketDatagram(_owner, NetSocket.Normalize(from), data, encoding));
            }

            return received;
        }

        /// <summary>True when the socket is a member of <paramref name="group"/>.</summary>
        public bool IsMember(IPAddress group) => _groups.ContainsKey(group);

        /// <summary>
        /// Joins or leaves <paramref name="group"/> on an interface (IPv4: its address; IPv6: its index; neither: the
        /// system's choice; leaving without either: the interface joined on). Called under the socket's lock.
        /// </summary>
        public void ChangeMembership(IPAddress group, IPAddress localAddress, int interfaceIndex, bool leave)
        {
            Socket socket = _owner.Socket;
            SocketOptionName name = leave ? SocketOptionName.DropMembership : SocketOptionName.AddMembership;
            if (leave && localAddress == null && interfaceIndex == 0 && _groups.TryGetValue(group, out var joined))
            {
                localAddress = joined.Local;
                interfaceIndex = joined.Index;
            }

            if (group.AddressFamily == AddressFamily.InterNetwork)
            {
                socket.SetSocketOption(SocketOptionLevel.IP, name, new MulticastOption(group, localAddress ?? IPAddress.Any));
                if (!leave && localAddress != null)
                {
                    socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, localAddress.GetAddressBytes());
                }
            }
            else
            {
                socket.SetSocketOption(SocketOptionLevel.IPv6, name, new IPv6MulticastOption(group, interfaceIndex));
                if (!leave && interfaceIndex > 0)
                {
                    socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, interfaceIndex);
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
}

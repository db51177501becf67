using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>
    /// The datagram part of the engine (NetSocket.Datagram.cs): datagrams to an address or the default peer, received
    /// whole with their sender, the size limit, multicast membership. Loopback only; every wait has a timeout.
    /// </summary>
    public sealed class DatagramTests : IDisposable
    {
        private static readonly IPAddress s_group = IPAddress.Parse("239.255.42.99");
        private readonly List<NetSocket> _owned = new List<NetSocket>();

        public void Dispose() => _owned.ForEach(s => s.Close());

        private NetSocket Udp(SocketOptions options = null) => Own(NetSocket.Create(SocketProtocol.Udp, SocketFamily.InterNetwork, options));

        private NetSocket Own(NetSocket socket)
        {
            _owned.Add(socket);
            return socket;
        }

        private NetSocket Receiver() => Udp().Bind(IPAddress.Loopback, 0);

        private static void Send(NetSocket socket, string text, IPEndPoint to)
        {
            byte[] data = Encoding.UTF8.GetBytes(text);
            socket.SendDatagram(data, 0, data.Length, to, TestNet.Timeout, TestNet.Token);
        }

        private static List<SocketDatagram> Receive(NetSocket socket, int count, TimeSpan? timeout = null)
        {
            var received = new List<SocketDatagram>();
            Assert.Equal(count, socket.ReceiveDatagrams(count, Encoding.UTF8, timeout ?? TestNet.Timeout, TestNet.Token, received.Add));
            return received;
        }

        private static IPEndPoint At(NetSocket socket) => new IPEndPoint(IPAddress.Loopback, socket.LocalEndPoint.Port);

        [Fact]
        public void A_datagram_arrives_whole_with_its_sender_and_the_sender_is_bound_by_the_system()
        {
            NetSocket rx = Receiver();
            NetSocket tx = Udp();
            Send(tx, "ping", At(rx));

            SocketDatagram d = Assert.Single(Receive(rx, 1));
            Assert.Equal("ping", d.Text);
            Assert.Equal(4, d.Length);
            Assert.Same(rx, d.Socket);
            Assert.Equal(tx.LocalEndPoint.Port, d.RemoteEndPoint.Port);
            Assert.Equal(IPAddress.Loopback, d.RemoteEndPoint.Address);
            Assert.Equal(SocketState.Bound, tx.State);
            Assert.Equal(4, tx.BytesSent);
            Assert.Equal(4, rx.BytesReceived);
        }

        [Fact]
        public void Datagrams_keep_their_boundaries()
        {
            NetSocket rx = Receiver();
            NetSocket tx = Udp();
            Send(tx, "a", At(rx));
            Send(tx, "bc", At(rx));
            Assert.Equal(new[] { "a", "bc" }, Receive(rx, 2).Select(d => d.Text));
        }

        [Fact]
        public void A_reply_through_the_received_datagram_goes_back_to_its_sender()
        {
            NetSocket rx = Receiver();
            NetSocket tx = Udp();
            Send(tx, "ping", At(rx));
            SocketDatagram d = Assert.Single(Receive(rx, 1));
            Send(d.Socket, "pong", d.RemoteEndPoint);
            Assert.Equal("pong", Assert.Single(Receive(tx, 1)).Text);
        }

        [Fact]
        public void A_connected_socket_sends_to_its_default_peer()
        {
            NetSocket rx = Receiver();
            NetSocket tx = Udp();
            tx.Connect("127.0.0.1", rx.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
            Assert.Equal(SocketState.Connected, tx.State);
            Send(tx, "default", null);
            Assert.Equal("default", Assert.Single(Receive(rx, 1)).Text);
        }

        [Fact]
        public void The_largest_IPv4_datagram_goes_whole_and_one_byte_more_is_refused_unsent()
        {
            NetSocket rx = Receiver();
            NetSocket tx = Udp(new SocketOptions { SendBufferSize = 256 * 1024 });
            rx.SetOptions(new SocketOptions { ReceiveBufferSize = 256 * 1024 });
            byte[] largest = Bytes.Random(NetSocket.MaxDatagramIPv4, 5);
            tx.SendDatagram(largest, 0, largest.Length, At(rx), TestNet.Timeout, TestNet.Token);
            Assert.Equal(largest, Assert.Single(Receive(rx, 1)).Data);

            var e = Assert.Throws<DatagramTooLargeException>(() =>
                tx.SendDatagram(new byte[NetSocket.MaxDatagramIPv4 + 1], 0, NetSocket.MaxDatagramIPv4 + 1, At(rx), TestNet.Timeout, TestNet.Token));
            Assert.Equal(NetSocket.MaxDatagramIPv4 + 1, e.Size);
            Assert.Equal(NetSocket.MaxDatagramIPv4, e.Limit);
            Assert.Equal(NetSocket.MaxDatagramIPv4, tx.BytesSent);
        }

        [Fact]
        public void No_destination_on_an_unconnected_socket_is_an_invalid_state()
        {
            NetSocket tx = Udp();
            Assert.Throws<InvalidSocketStateException>(() => Send(tx, "nowhere", null));
            Assert.Equal(0, tx.BytesSent);
        }

        [Fact]
        public void Receiving_on_a_socket_neither_bound_nor_connected_is_an_invalid_state()
        {
            var e = Assert.Throws<InvalidSocketStateException>(() => Receive(Udp(), 1));
            Assert.Equal(SocketState.Created, e.State);
        }

        [Fact]
        public void Datagram_calls_on_a_TCP_socket_are_an_invalid_state()
        {
            NetSocket tcp = Own(NetSocket.Create());
            Assert.Throws<InvalidSocketStateException>(() => Send(tcp, "x", new IPEndPoint(IPAddress.Loopback, 9)));
            Assert.Throws<InvalidSocketStateException>(() => tcp.ChangeMulticastMembership(s_group, IPAddress.Loopback, 0, false));
        }

        [Fact]
        public void A_receive_with_nothing_to_receive_times_out_as_a_receive()
        {
            NetSocket rx = Receiver();
            var e = Assert.Throws<SocketTimeoutException>(() => Receive(rx, 1, TimeSpan.FromMilliseconds(200)));
            Assert.Equal(SocketOperation.Receive, e.Operation);
        }

        [Fact]
        public void A_waiting_receive_ends_when_cancelled()
        {
            NetSocket rx = Receiver();
            using (var cancel = new CancellationTokenSource())
            {
                var receive = TestNet.Run(() => rx.ReceiveDatagrams(1, Encoding.UTF8, TimeSpan.FromSeconds(30), cancel.Token, _ => { }));
                TestNet.WaitUntil(() => receive.Status == System.Threading.Tasks.TaskStatus.Running, "the receive runs");
                cancel.Cancel();
                Assert.IsAssignableFrom<OperationCanceledException>(TestNet.AwaitFailure(receive));
            }

            // The socket stays usable.
            Send(Udp(), "after", At(rx));
            Assert.Equal("after", Assert.Single(Receive(rx, 1)).Text);
        }

        [Fact]
        public void A_member_of_a_group_receives_what_is_sent_to_it_on_loopback()
        {
            NetSocket rx = Udp().Bind(IPAddress.Any, 0);
            // Multicast datagrams stay on this host: out of 127.0.0.1, time-to-live 0, looped back.
            NetSocket tx = Udp(new SocketOptions { MulticastTtl = 0, MulticastLoopback = true });
            rx.ChangeMulticastMembership(s_group, IPAddress.Loopback, 0, leave: false);
            tx.ChangeMulticastMembership(s_group, IPAddress.Loopback, 0, leave: false);
            Send(tx, "to the group", new IPEndPoint(s_group, rx.LocalEndPoint.Port));

            SocketDatagram d = Assert.Single(Receive(rx, 1));
            Assert.Equal("to the group", d.Text);
            Assert.Equal(tx.LocalEndPoint.Port, d.RemoteEndPoint.Port);
        }

        [Fact]
        public void MulticastGroups_lists_the_joined_groups_until_they_are_left()
        {
            NetSocket rx = Udp().Bind(IPAddress.Any, 0);
            rx.ChangeMulticastMembership(s_group, IPAddress.Loopback, 0, leave: false);
            Assert.Equal(new[] { s_group }, rx.MulticastGroups);
            Assert.Throws<InvalidSocketStateException>(() => rx.ChangeMulticastMembership(s_group, IPAddress.Loopback, 0, leave: false));
            rx.ChangeMulticastMembership(s_group, IPAddress.Loopback, 0, leave: true);
            Assert.Empty(rx.MulticastGroups);
        }

        [Fact]
        public void A_unicast_address_is_not_a_group()
        {
            NetSocket rx = Udp().Bind(IPAddress.Any, 0);
            var e = Assert.Throws<ArgumentException>(() => rx.ChangeMulticastMembership(IPAddress.Parse("10.1.2.3"), null, 0, leave: false));
            Assert.Contains("not a multicast address", e.Message);
            Assert.Empty(rx.MulticastGroups);
        }
    }
}

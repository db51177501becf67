using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>
    /// The waiter (SocketWaiter.cs): which of several sockets are readable or writable, in the caller's order; closed
    /// and unusable sockets reported apart; a timeout that returns nothing; cancellation seen within a slice.
    /// </summary>
    public sealed class SocketWaiterTests : IDisposable
    {
        private readonly List<Pair> _pairs = new List<Pair>();
        private readonly List<NetSocket> _owned = new List<NetSocket>();

        public void Dispose()
        {
            _pairs.ForEach(p => p.Dispose());
            _owned.ForEach(s => s.Close());
        }

        private Pair Open()
        {
            Pair pair = Pair.Open();
            _pairs.Add(pair);
            return pair;
        }

        private static IList<NetSocket> WaitRead(IEnumerable<NetSocket> sockets, TimeSpan timeout, Action<NetSocket> onClosed = null) =>
            SocketWaiter.Wait(sockets, read: true, write: false, timeout, TestNet.Token, onClosed);

        [Fact]
        public void Only_the_sockets_with_data_are_readable()
        {
            Pair quiet = Open();
            Pair talking = Open();
            TestNet.Send(talking.Client, "x");
            IList<NetSocket> ready = WaitRead(new[] { quiet.Server, talking.Server }, TestNet.Timeout);
            Assert.Equal(new[] { talking.Server }, ready);
        }

        [Fact]
        public void Ready_sockets_come_back_in_the_callers_order()
        {
            Pair first = Open();
            Pair second = Open();
            TestNet.Send(second.Client, "b");
            TestNet.Send(first.Client, "a");
            TestNet.WaitUntil(() => first.Server.Socket.Available > 0 && second.Server.Socket.Available > 0, "both have data");
            Assert.Equal(new[] { second.Server, first.Server }, WaitRead(new[] { second.Server, first.Server }, TestNet.Timeout));
        }

        [Fact]
        public void A_listener_with_a_pending_connection_is_readable()
        {
            NetSocket listener = TestNet.ListenerV4();
            _owned.Add(listener);
            Assert.Empty(WaitRead(new[] { listener }, TimeSpan.Zero));
            NetSocket client = NetSocket.Create();
            _owned.Add(client);
            client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
            Assert.Equal(new[] { listener }, WaitRead(new[] { listener }, TestNet.Timeout));
        }

        [Fact]
        public void The_end_of_the_stream_makes_a_socket_readable()
        {
            Pair pair = Open();
            pair.Client.Close(CloseDirection.Send);
            Assert.Equal(new[] { pair.Server }, WaitRead(new[] { pair.Server }, TestNet.Timeout));
        }

        [Fact]
        public void A_connected_socket_is_writable_and_no_read_nor_write_means_read()
        {
            Pair pair = Open();
            Assert.Equal(new[] { pair.Client }, SocketWaiter.Wait(new[] { pair.Client }, read: false, write: true, TestNet.Timeout, TestNet.Token));
            Assert.Empty(SocketWaiter.Wait(new[] { pair.Client }, read: false, write: false, TimeSpan.Zero, TestNet.Token));
        }

        [Fact]
        public void Nothing_ready_within_the_timeout_is_an_empty_list()
        {
            Pair pair = Open();
            Assert.Empty(WaitRead(new[] { pair.Server }, TimeSpan.FromMilliseconds(100)));
        }

        [Fact]
        public void Closed_and_unconnected_stream_sockets_are_reported_apart_and_nulls_and_repeats_ignored()
        {
            Pair pair = Open();
            NetSocket closed = NetSocket.Create();
            closed.Close();
            NetSocket created = NetSocket.Create();
            _owned.Add(created);
            TestNet.Send(pair.Client, "x");
            var reported = new List<NetSocket>();
            IList<NetSocket> ready = WaitRead(new[] { closed, null, created, pair.Server, pair.Server }, TestNet.Timeout, reported.Add);
            Assert.Equal(new[] { pair.Server }, ready);
            Assert.Equal(new[] { closed, created }, reported);
            Assert.Empty(WaitRead(new[] { closed }, TestNet.Timeout));
            Assert.Empty(WaitRead(null, TestNet.Timeout));
        }

        [Fact]
        public void A_socket_closed_during_the_wait_is_reported_and_the_wait_ends_with_nothing_ready()
        {
            Pair pair = Open();
            var reported = new List<NetSocket>();
            Task<IList<NetSocket>> wait = TestNet.Run(() => WaitRead(new[] { pair.Server }, TimeSpan.FromSeconds(30), s => { lock (reported) { reported.Add(s); } }));
            Thread.Sleep(100);
            pair.Server.Close();
            Assert.Empty(TestNet.Await(wait));
            Assert.Equal(new[] { pair.Server }, reported);
        }

        [Fact]
        public void A_wait_ends_when_cancelled()
        {
            Pair pair = Open();
            using (var cancel = new CancellationTokenSource())
            {
                Task<IList<NetSocket>> wait = TestNet.Run(() => SocketWaiter.Wait(new[] { pair.Server }, true, false, TimeSpan.FromSeconds(30), cancel.Token));
                cancel.Cancel();
                Assert.IsAssignableFrom<OperationCanceledException>(TestNet.AwaitFailure(wait));
            }
        }

        [Fact]
        public void A_bound_UDP_socket_with_a_datagram_waiting_is_readable()
        {
            NetSocket rx = NetSocket.Create(SocketProtocol.Udp, SocketFamily.InterNetwork).Bind(IPAddress.Loopback, 0);
            NetSocket tx = NetSocket.Create(SocketProtocol.Udp, SocketFamily.InterNetwork);
            _owned.Add(rx);
            _owned.Add(tx);
            Assert.Empty(WaitRead(new[] { rx }, TimeSpan.Zero));
            tx.SendDatagram(new byte[] { 1 }, 0, 1, new IPEndPoint(IPAddress.Loopback, rx.LocalEndPoint.Port), TestNet.Timeout, TestNet.Token);
            Assert.Equal(new[] { rx }, WaitRead(new[] { rx }, TestNet.Timeout));
        }
    }
}

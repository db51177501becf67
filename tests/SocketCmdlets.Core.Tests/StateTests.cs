using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    public sealed class StateTests
    {
        private static readonly byte[] s_one = { 42 };

        [Fact]
        public void Send_before_connect_is_a_wrong_state_that_says_so()
        {
            using (NetSocket socket = NetSocket.Create())
            {
                var e = Assert.Throws<InvalidSocketStateException>(() => socket.Send(s_one, TestNet.Timeout, TestNet.Token));
                Assert.Same(socket, e.Socket);
                Assert.Equal(SocketState.Created, e.State);
                Assert.Equal("send", e.Operation);
                Assert.Contains("Created", e.Message);
                Assert.Contains("connected", e.Message);
                Assert.Equal(SocketState.Created, socket.State);
            }
        }

        [Fact]
        public void Receive_before_connect_is_a_wrong_state()
        {
            using (NetSocket socket = NetSocket.Create())
            {
                Assert.Throws<InvalidSocketStateException>(() => socket.ReceiveChunks(1, TestNet.Timeout, TestNet.Token, _ => { }));
                Assert.Throws<InvalidSocketStateException>(() => socket.ReceiveTextChunks(null, 1, TestNet.Timeout, TestNet.Token, _ => { }));
                Assert.Throws<InvalidSocketStateException>(() => socket.ReceiveExactly(1, TestNet.Timeout, TestNet.Token));
                Assert.Throws<InvalidSocketStateException>(() => socket.ReceiveRecords(null, "\n", true, 1, 100, TestNet.Timeout, TestNet.Token, (b, o, l) => { }));
                Assert.Throws<InvalidSocketStateException>(() => socket.ReceiveTo(new MemoryStream(), -1, TestNet.Timeout, TestNet.Token));
                Assert.Throws<InvalidSocketStateException>(() => socket.SendFrom(new MemoryStream(s_one), TestNet.Timeout, TestNet.Token));
            }
        }

        [Fact]
        public void Listen_before_bind_is_a_wrong_state()
        {
            using (NetSocket socket = NetSocket.Create())
            {
                var e = Assert.Throws<InvalidSocketStateException>(() => socket.Listen());
                Assert.Equal(SocketState.Created, e.State);
                Assert.Equal("listen", e.Operation);
                Assert.Contains("bind it first", e.Message);
            }
        }

        [Fact]
        public void Accept_on_a_socket_that_does_not_listen_is_a_wrong_state()
        {
            using (NetSocket created = NetSocket.Create())
            using (NetSocket bound = NetSocket.Create().Bind(IPAddress.Loopback, 0))
            using (Pair pair = Pair.Open())
            {
                foreach (NetSocket socket in new[] { created, bound, pair.Client })
                {
                    var e = Assert.Throws<InvalidSocketStateException>(() => socket.Accept(TestNet.Timeout, TestNet.Token));
                    Assert.Equal(socket.State, e.State);
                    Assert.Contains("listening", e.Message);
                }
            }
        }

        [Fact]
        public void Connect_on_a_listener_or_a_connected_socket_is_a_wrong_state()
        {
            using (Pair pair = Pair.Open())
            {
                int port = pair.Listener.LocalEndPoint.Port;
                Assert.Throws<InvalidSocketStateException>(() => pair.Listener.Connect("127.0.0.1", port, TestNet.Timeout, TestNet.Token));
                Assert.Throws<InvalidSocketStateException>(() => pair.Client.Connect("127.0.0.1", port, TestNet.Timeout, TestNet.Token));
                Assert.Throws<InvalidSocketStateException>(() => pair.Listener.Send(s_one, TestNet.Timeout, TestNet.Token));
                Assert.Throws<InvalidSocketStateException>(() => pair.Client.Listen());
                Assert.Throws<InvalidSocketStateException>(() => pair.Client.Bind(IPAddress.Loopback, 0));
            }
        }

        [Fact]
        public void Every_use_after_close_is_a_wrong_state_that_says_it_was_closed()
        {
            Pair pair = Pair.Open();
            pair.Dispose();
            var calls = new Dictionary<string, Action>
            {
                ["send"] = () => pair.Client.Send(s_one, TestNet.Timeout, TestNet.Token),
                ["receive chunks"] = () => pair.Server.ReceiveChunks(1, TestNet.Timeout, TestNet.Token, _ => { }),
                ["receive exactly"] = () => pair.Server.ReceiveExactly(1, TestNet.Timeout, TestNet.Token),
                ["accept"] = () => pair.Listener.Accept(TestNet.Timeout, TestNet.Token),
                ["listen"] = () => pair.Listener.Listen(),
                ["bind"] = () => pair.Client.Bind(IPAddress.Loopback, 0),
                ["connect"] = () => pair.Client.Connect("127.0.0.1", 9, TestNet.Timeout, TestNet.Token),
            };
            foreach (KeyValuePair<string, Action> call in calls)
            {
                Exception e = Record.Exception(call.Value);
                var state = Assert.IsType<InvalidSocketStateException>(e);
                Assert.True(SocketState.Closed == state.State, call.Key);
                Assert.Contains("closed", state.Message);
            }

            // Shutting down a closed socket is a close of a closed socket: harmless.
            pair.Client.Close(CloseDirection.Send);
            Assert.Equal(SocketState.Closed, pair.Client.State);
        }

        [Fact]
        public void Close_twice_is_harmless_and_removes_the_socket_from_the_registry()
        {
            using (Pair pair = Pair.Open())
            {
                NetSocket client = pair.Client;
                client.Close();
                client.Close();
                client.Dispose();
                Assert.Equal(SocketState.Closed, client.State);
                Assert.Null(SocketRegistry.Find(client.Id));
                Assert.Throws<ObjectDisposedException>(() => client.Socket.Available);

                // The peer sees end of stream.
                Assert.Empty(pair.Server.ReceiveExactly(10, TestNet.Timeout, TestNet.Token));
                Assert.True(pair.Server.EndOfStream);
            }
        }

        [Fact]
        public void Closing_unused_bound_and_listening_sockets_works()
        {
            NetSocket created = NetSocket.Create();
            NetSocket bound = NetSocket.Create().Bind(IPAddress.Loopback, 0);
            NetSocket listening = TestNet.ListenerV4();
            foreach (NetSocket socket in new[] { created, bound, listening })
            {
                socket.Close();
                Assert.Equal(SocketState.Closed, socket.State);
                Assert.Null(SocketRegistry.Find(socket.Id));
            }
        }

        [Fact]
        public void Half_close_sends_end_of_stream_and_this_side_still_receives()
        {
            using (Pair pair = Pair.Open())
            {
                pair.Client.Send(Encoding.ASCII.GetBytes("request"), TestNet.Timeout, TestNet.Token);
                pair.Client.Close(CloseDirection.Send);
                Assert.Equal(SocketState.HalfClosed, pair.Client.State);
                Assert.Same(pair.Client, SocketRegistry.Find(pair.Client.Id));

                // A second half-close is harmless.
                pair.Client.Close(CloseDirection.Send);
                Assert.Equal(SocketState.HalfClosed, pair.Client.State);

                var chunks = new List<byte[]>();
                pair.Server.ReceiveChunks(-1, TestNet.Timeout, TestNet.Token, chunks.Add);
                Assert.Equal("request", Encoding.ASCII.GetString(Bytes.Concat(chunks)));
                Assert.True(pair.Server.EndOfStream);

                pair.Server.Send(Encoding.ASCII.GetBytes("response"), TestNet.Timeout, TestNet.Token);
                pair.Server.Close();
                Assert.Equal("response", Encoding.ASCII.GetString(pair.Client.ReceiveExactly(100, TestNet.Timeout, TestNet.Token)));

                var e = Assert.Throws<InvalidSocketStateException>(() => pair.Client.Send(s_one, TestNet.Timeout, TestNet.Token));
                Assert.Equal(SocketState.HalfClosed, e.State);

                pair.Client.Close();
                Assert.Equal(SocketState.Closed, pair.Client.State);
            }
        }

        [Fact]
        public void Half_close_needs_a_connected_socket()
        {
            using (NetSocket socket = NetSocket.Create())
            {
                var e = Assert.Throws<InvalidSocketStateException>(() => socket.Close(CloseDirection.Send));
                Assert.Equal(SocketState.Created, e.State);
                Assert.Equal(SocketState.Created, socket.State);
            }
        }

        [Fact]
        public void Closing_a_socket_while_a_receive_waits_ends_the_receive_with_a_state_error()
        {
            using (Pair pair = Pair.Open())
            {
                Task<byte[]> receive = TestNet.Run(() => pair.Server.ReceiveExactly(1, TestNet.Timeout, TestNet.Token));
                Thread.Sleep(100);
                pair.Server.Close();
                Exception e = TestNet.AwaitFailure(receive);
                Assert.IsType<InvalidSocketStateException>(e);
            }
        }

        [Fact]
        public void A_reset_by_the_peer_is_a_ConnectionReset_SocketException_for_receive_and_send()
        {
            using (Pair pair = Pair.Open())
            {
                // Linger 0: closing sends RST instead of FIN.
                pair.Server.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
                pair.Server.Close();
                var receive = Assert.Throws<System.Net.Sockets.SocketException>(() => pair.Client.ReceiveExactly(1, TestNet.Timeout, TestNet.Token));
                Assert.Equal(System.Net.Sockets.SocketError.ConnectionReset, receive.SocketErrorCode);

                var send = Assert.Throws<System.Net.Sockets.SocketException>(() => pair.Client.Send(new byte[1000], TestNet.Timeout, TestNet.Token));
                Assert.Contains(send.SocketErrorCode, new[] { System.Net.Sockets.SocketError.ConnectionReset, System.Net.Sockets.SocketError.Shutdown, System.Net.Sockets.SocketError.ConnectionAborted });
            }
        }

        [Fact]
        public void Bytes_that_arrived_before_a_reset_reach_the_file_and_the_reset_comes_after_them()
        {
            byte[] data = Bytes.Random(100001, 11);
            using (Pair pair = Pair.Open())
            {
                // All of it is in the receiver's queue, then the reset: one receive takes the bytes, the next meets
                // the reset while more is being taken into the same write.
                pair.Client.Send(data, TestNet.Timeout, TestNet.Token);
                TestNet.WaitUntil(() => pair.Server.Socket.Available == data.Length, "the bytes have arrived");
                pair.Client.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
                pair.Client.Close();

                var file = new System.IO.MemoryStream();
                var reset = Assert.Throws<System.Net.Sockets.SocketException>(() => pair.Server.ReceiveTo(file, -1, TestNet.Timeout, TestNet.Token));
                Assert.Equal(System.Net.Sockets.SocketError.ConnectionReset, reset.SocketErrorCode);
                Assert.Equal(data, file.ToArray());
                Assert.Equal(data.Length, pair.Server.BytesReceived);
            }
        }

        [Fact]
        public void Endpoint_helpers_normalise_and_format()
        {
            IPEndPoint mapped = new IPEndPoint(IPAddress.Parse("::ffff:127.0.0.1"), 80);
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, 80), NetSocket.Normalize(mapped));
            Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 80), NetSocket.Normalize(new IPEndPoint(IPAddress.IPv6Loopback, 80)));
            Assert.Null(NetSocket.Normalize(null));
            Assert.Equal("127.0.0.1:80", NetSocket.Format(new IPEndPoint(IPAddress.Loopback, 80)));
            Assert.Equal("[::1]:80", NetSocket.Format(new IPEndPoint(IPAddress.IPv6Loopback, 80)));
            Assert.Equal("(none)", NetSocket.Format(null));
        }
    }

    public sealed class RegistryTests
    {
        [Fact]
        public void Ids_are_unique_and_increasing()
        {
            var sockets = new List<NetSocket>();
            try
            {
                for (int i = 0; i < 50; i++)
                {
                    sockets.Add(NetSocket.Create());
                }

                for (int i = 1; i < sockets.Count; i++)
                {
                    Assert.True(sockets[i].Id > sockets[i - 1].Id);
                }
            }
            finally
            {
                sockets.ForEach(s => s.Close());
            }
        }

        [Fact]
        public void Ids_are_unique_across_threads()
        {
            var ids = new System.Collections.Concurrent.ConcurrentBag<int>();
            Task[] workers = new Task[4];
            for (int w = 0; w < workers.Length; w++)
            {
                workers[w] = TestNet.Run(() =>
                {
                    for (int i = 0; i < 100; i++)
                    {
                        NetSocket socket = NetSocket.Create();
                        ids.Add(socket.Id);
                        socket.Close();
                    }
                });
            }

            TestNet.AwaitAll(workers);
            Assert.Equal(400, new HashSet<int>(ids).Count);
        }
    }

    [Collection(GlobalStateCollection.Name)]
    public sealed class RegistryCountTests
    {
        // Snapshot looks at every socket of the process, so no other test may close sockets meanwhile.
        [Fact]
        public void Find_and_Snapshot_see_open_sockets_only()
        {
            NetSocket open = NetSocket.Create(name: "open");
            NetSocket closed = NetSocket.Create(name: "closed");
            try
            {
                closed.Close();
                Assert.Same(open, SocketRegistry.Find(open.Id));
                Assert.Null(SocketRegistry.Find(closed.Id));
                Assert.Null(SocketRegistry.Find(-1));

                NetSocket[] snapshot = SocketRegistry.Snapshot();
                Assert.Contains(open, snapshot);
                Assert.DoesNotContain(closed, snapshot);
                Assert.All(snapshot, s => Assert.NotEqual(SocketState.Closed, s.State));
                for (int i = 1; i < snapshot.Length; i++)
                {
                    Assert.True(snapshot[i].Id > snapshot[i - 1].Id, "Snapshot is ordered by id.");
                }
            }
            finally
            {
                open.Close();
            }
        }
        [Fact]
        public void Count_follows_creates_and_closes()
        {
            int start = SocketRegistry.Count;
            NetSocket a = NetSocket.Create();
            NetSocket b = NetSocket.Create();
            Assert.Equal(start + 2, SocketRegistry.Count);
            a.Close();
            a.Close();
            Assert.Equal(start + 1, SocketRegistry.Count);
            b.Close();
            Assert.Equal(start, SocketRegistry.Count);
        }

        [Fact]
        public void CloseAll_closes_every_open_socket()
        {
            Pair pair = Pair.Open();
            NetSocket bound = NetSocket.Create().Bind(IPAddress.Loopback, 0);
            NetSocket halfClosed = pair.Server;
            halfClosed.Close(CloseDirection.Send);

            SocketRegistry.CloseAll();

            Assert.Equal(0, SocketRegistry.Count);
            Assert.Empty(SocketRegistry.Snapshot());
            foreach (NetSocket socket in new[] { pair.Listener, pair.Client, pair.Server, bound })
            {
                Assert.Equal(SocketState.Closed, socket.State);
            }

            // Harmless when nothing is open.
            SocketRegistry.CloseAll();
            Assert.Equal(0, SocketRegistry.Count);
        }
    }
}

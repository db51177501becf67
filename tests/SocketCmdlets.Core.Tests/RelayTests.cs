using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    public sealed class RelayAddressFilterCases
    {
        [Theory]
        [InlineData(new string[0], new string[0], "10.1.2.3", true)]
        [InlineData(new[] { "127.0.0.0/8" }, new string[0], "127.0.0.2", true)]
        [InlineData(new[] { "127.0.0.0/8" }, new string[0], "10.0.0.1", false)]
        [InlineData(new[] { "127.0.0.0/8" }, new[] { "127.0.0.2" }, "127.0.0.2", false)]
        [InlineData(new[] { "127.0.0.0/8" }, new[] { "127.0.0.2" }, "127.0.0.1", true)]
        [InlineData(new string[0], new[] { "10.0.0.0/8" }, "10.200.0.1", false)]
        [InlineData(new string[0], new[] { "10.0.0.0/8" }, "11.0.0.1", true)]
        [InlineData(new[] { "192.168.1.128/25" }, new string[0], "192.168.1.200", true)]
        [InlineData(new[] { "192.168.1.128/25" }, new string[0], "192.168.1.100", false)]
        [InlineData(new[] { "::1" }, new string[0], "::1", true)]
        [InlineData(new[] { "::1" }, new string[0], "127.0.0.1", false)]
        [InlineData(new[] { "fd00::/8" }, new string[0], "fd12:3456::1", true)]
        [InlineData(new[] { "fd00::/8" }, new string[0], "fe80::1", false)]
        [InlineData(new[] { "127.0.0.1" }, new string[0], "::ffff:127.0.0.1", true)]
        [InlineData(new string[0], new[] { "127.0.0.1/32" }, "::ffff:127.0.0.1", false)]
        [InlineData(new[] { "0.0.0.0/0" }, new string[0], "8.8.8.8", true)]
        [InlineData(new[] { "0.0.0.0/0" }, new string[0], "::2", false)]
        public void Allows_by_address_and_range(string[] allow, string[] deny, string address, bool allowed)
        {
            AddressFilter filter = AddressFilter.Create(allow, deny);
            Assert.Equal(allowed, filter.IsAllowed(IPAddress.Parse(address)));
            Assert.Equal(allow.Length == 0 && deny.Length == 0, filter.IsEmpty);
        }

        [Theory]
        [InlineData("10.0.0.0/33")]
        [InlineData("not-an-address")]
        [InlineData("10.0.0.0/")]
        [InlineData("::1/129")]
        [InlineData("10.0.0.0/-1")]
        [InlineData(" ")]
        public void Refuses_a_bad_entry_and_names_it(string entry)
        {
            var e = Assert.Throws<ArgumentException>(() => AddressFilter.Create(new[] { "127.0.0.1", entry }, null));
            if (entry.Trim().Length > 0)
            {
                Assert.Contains(entry, e.Message);
            }
        }
    }

    public sealed class RelayTests
    {
        /// <summary>
        /// Two pairs: Source.Client is the outside client, Source.Server the socket the relay reads; Target.Server
        /// the socket the relay writes, Target.Client the outside server.
        /// </summary>
        private sealed class Rig : IDisposable
        {
            public Pair Source { get; } = Pair.Open();

            public Pair Target { get; } = Pair.Open();

            public Task<SocketRelaySession> Start(TimeSpan idle, CancellationToken token) =>
                SocketRelay.JoinAsync(Source.Server, Target.Server, idle, token);

            public void Dispose()
            {
                Source.Dispose();
                Target.Dispose();
            }
        }

        private static readonly TimeSpan NoIdle = Timeout.InfiniteTimeSpan;

        private static byte[] ReadToEnd(NetSocket socket)
        {
            var stream = new MemoryStream();
            socket.ReceiveTo(stream, -1, TestNet.Timeout, TestNet.Token);
            return stream.ToArray();
        }

        [Fact]
        public void Passes_each_end_of_stream_on_as_a_half_close_while_the_other_direction_flows()
        {
            using (var rig = new Rig())
            {
                Task<SocketRelaySession> relay = rig.Start(NoIdle, TestNet.Token);
                rig.Source.Client.Send(new byte[] { 1, 2, 3 }, TestNet.Timeout, TestNet.Token);
                rig.Source.Client.Close(CloseDirection.Send);
                Assert.Equal(new byte[] { 1, 2, 3 }, ReadToEnd(rig.Target.Client));

                // The source has finished; the target still talks to it.
                Assert.False(relay.IsCompleted);
                rig.Target.Client.Send(new byte[] { 4, 5 }, TestNet.Timeout, TestNet.Token);
                Assert.Equal(new byte[] { 4, 5 }, rig.Source.Client.ReceiveExactly(2, TestNet.Timeout, TestNet.Token));
                rig.Target.Client.Close(CloseDirection.Send);
                Assert.Empty(ReadToEnd(rig.Source.Client));

                SocketRelaySession session = TestNet.Await(relay);
                Assert.Equal(RelayEndReason.Closed, session.EndReason);
                Assert.Equal(3, session.BytesToTarget);
                Assert.Equal(2, session.BytesToSource);
                Assert.Equal(SocketState.Closed, rig.Source.Server.State);
                Assert.Equal(SocketState.Closed, rig.Target.Server.State);
            }
        }

        [Fact]
        public void Turns_Nagle_off_on_both_relayed_TCP_sockets()
        {
            using (var rig = new Rig())
            {
                // The sockets a caller joins come with Nagle's algorithm on, as every new TCP socket does.
                Assert.False(rig.Source.Server.Socket.NoDelay);
                Assert.False(rig.Target.Server.Socket.NoDelay);
                Task<SocketRelaySession> relay = rig.Start(NoIdle, TestNet.Token);
                rig.Source.Client.Send(new byte[] { 1 }, TestNet.Timeout, TestNet.Token);
                Assert.Equal(new byte[] { 1 }, rig.Target.Client.ReceiveExactly(1, TestNet.Timeout, TestNet.Token));
                Assert.True(rig.Source.Server.Socket.NoDelay);
                Assert.True(rig.Target.Server.Socket.NoDelay);
                rig.Source.Client.Close(CloseDirection.Send);
                rig.Target.Client.Close(CloseDirection.Send);
                Assert.Equal(RelayEndReason.Closed, TestNet.Await(relay).EndReason);
            }
        }

        [Fact]
        public void Passes_a_reset_on_as_a_reset()
        {
            using (var rig = new Rig())
            {
                Task<SocketRelaySession> relay = rig.Start(NoIdle, TestNet.Token);
                rig.Source.Client.Send(new byte[] { 9 }, TestNet.Timeout, TestNet.Token);
                Assert.Equal(new byte[] { 9 }, rig.Target.Client.ReceiveExactly(1, TestNet.Timeout, TestNet.Token));
                rig.Source.Client.Abort();

                SocketRelaySession session = TestNet.Await(relay);
                Assert.Equal(RelayEndReason.Reset, session.EndReason);
                var e = Assert.Throws<SocketException>(() => rig.Target.Client.ReceiveExactly(1, TestNet.Timeout, TestNet.Token));
                Assert.Equal(SocketError.ConnectionReset, e.SocketErrorCode);
            }
        }

        [Fact]
        public void Forwards_bytes_received_before_the_relay_first()
        {
            using (var rig = new Rig())
            {
                rig.Source.Client.Send(new byte[] { 1, 2, 3, 4, 5, 6 }, TestNet.Timeout, TestNet.Token);
                TestNet.WaitUntil(() => rig.Source.Server.Socket.Available == 6, "the six bytes arrive");

                // One receive takes all six into the socket's buffer and hands out two.
                Assert.Equal(new byte[] { 1, 2 }, rig.Source.Server.ReceiveExactly(2, TestNet.Timeout, TestNet.Token));
                Task<SocketRelaySession> relay = rig.Start(NoIdle, TestNet.Token);
                rig.Source.Client.Close(CloseDirection.Send);
                Assert.Equal(new byte[] { 3, 4, 5, 6 }, ReadToEnd(rig.Target.Client));
                rig.Target.Client.Close(CloseDirection.Send);
                Assert.Equal(4, TestNet.Await(relay).BytesToTarget);
            }
        }

        [Fact]
        public void Forwards_more_buffered_bytes_than_one_relay_buffer_holds()
        {
            const int size = 90 * 1024;
            using (var rig = new Rig())
            {
                byte[] data = Bytes.Random(size, 3);
                data[0] = (byte)'\n';
                rig.Source.Client.Send(data, TestNet.Timeout, TestNet.Token);
                TestNet.WaitUntil(() => rig.Source.Server.Socket.Available == size, "the bytes arrive");

                // A record read takes everything that arrived into the socket's buffer and hands out the empty first line.
                rig.Source.Server.ReceiveRecords(null, "\n", false, 1, 1 << 20, TestNet.Timeout, TestNet.Token, (b, o, l) => Assert.Equal(0, l));
                Assert.Equal(size - 1, rig.Source.Server.PendingBytes);
                Task<SocketRelaySession> relay = SocketRelay.JoinAsync(rig.Source.Server, rig.Target.Server, NoIdle, TestNet.Token);
                rig.Source.Client.Close(CloseDirection.Send);
                Assert.Equal(data.Skip(1).ToArray(), ReadToEnd(rig.Target.Client));
                rig.Target.Client.Close(CloseDirection.Send);
                Assert.Equal(size - 1, TestNet.Await(relay).BytesToTarget);
            }
        }

        [Fact]
        public void Closes_both_sides_after_the_idle_timeout()
        {
            using (var rig = new Rig())
            {
                SocketRelaySession session = TestNet.Await(rig.Start(TimeSpan.FromMilliseconds(200), TestNet.Token));
                Assert.Equal(RelayEndReason.IdleTimeout, session.EndReason);
                Assert.Empty(ReadToEnd(rig.Target.Client));
                Assert.Empty(ReadToEnd(rig.Source.Client));
            }
        }

        [Fact]
        public void Cancellation_closes_both_sides_and_ends_as_stopped()
        {
            using (var rig = new Rig())
            using (var stop = new CancellationTokenSource())
            {
                Task<SocketRelaySession> relay = rig.Start(NoIdle, stop.Token);
                rig.Source.Client.Send(new byte[] { 7 }, TestNet.Timeout, TestNet.Token);
                Assert.Equal(new byte[] { 7 }, rig.Target.Client.ReceiveExactly(1, TestNet.Timeout, TestNet.Token));
                stop.Cancel();
                SocketRelaySession session = TestNet.Await(relay);
                Assert.Equal(RelayEndReason.Stopped, session.EndReason);
                Assert.Equal(SocketState.Closed, rig.Source.Server.State);
                Assert.Equal(SocketState.Closed, rig.Target.Server.State);
            }
        }

        [Fact]
        public void Keeps_the_bytes_in_order_when_an_exchange_turns_into_a_bulk_stream_and_back()
        {
            // Small reads go through the relay's buffer and bulk ones through its pipe (Linux): every size below is
            // sent and received in lockstep, so reads end at each boundary and the relay changes mode between them.
            int[] sizes = { 64, 64, 16 * 1024, 16 * 1024 - 1, 16 * 1024 + 1, 1, 3 * 1024 * 1024, 10, 70000, 64, 1024 * 1024, 200, 64 };
            using (var rig = new Rig())
            {
                Task<SocketRelaySession> relay = rig.Start(NoIdle, TestNet.Token);
                long total = 0;
                for (int i = 0; i < sizes.Length; i++)
                {
                    byte[] chunk = Bytes.Random(sizes[i], 10 + i);
                    rig.Source.Client.Send(chunk, TestNet.Timeout, TestNet.Token);
                    Assert.Equal(chunk, rig.Target.Client.ReceiveExactly(chunk.Length, TestNet.Timeout, TestNet.Token));
                    byte[] reply = Bytes.Random(sizes[sizes.Length - 1 - i], 100 + i);
                    rig.Target.Client.Send(reply, TestNet.Timeout, TestNet.Token);
                    Assert.Equal(reply, rig.Source.Client.ReceiveExactly(reply.Length, TestNet.Timeout, TestNet.Token));
                    total += chunk.Length;
                }

                rig.Source.Client.Close(CloseDirection.Send);
                rig.Target.Client.Close(CloseDirection.Send);
                SocketRelaySession session = TestNet.Await(relay);
                Assert.Equal(RelayEndReason.Closed, session.EndReason);
                Assert.Equal(total, session.BytesToTarget);
                Assert.Equal(total, session.BytesToSource);
            }
        }

        [Fact]
        public void Carries_both_directions_at_once_intact()
        {
            const int size = 8 * 1024 * 1024;
            using (var rig = new Rig())
            {
                byte[] up = Bytes.Random(size, 1);
                byte[] down = Bytes.Random(size, 2);
                Task<SocketRelaySession> relay = rig.Start(NoIdle, TestNet.Token);
                Task sendUp = TestNet.Run(() => { rig.Source.Client.Send(up, TestNet.Timeout, TestNet.Token); rig.Source.Client.Close(CloseDirection.Send); });
                Task sendDown = TestNet.Run(() => { rig.Target.Client.Send(down, TestNet.Timeout, TestNet.Token); rig.Target.Client.Close(CloseDirection.Send); });
                Task<byte[]> readUp = TestNet.Run(() => ReadToEnd(rig.Target.Client));
                Task<byte[]> readDown = TestNet.Run(() => ReadToEnd(rig.Source.Client));
                TestNet.AwaitAll(new Task[] { sendUp, sendDown });
                using (SHA256 sha = SHA256.Create())
                {
                    Assert.Equal(sha.ComputeHash(up), sha.ComputeHash(TestNet.Await(readUp)));
                    Assert.Equal(sha.ComputeHash(down), sha.ComputeHash(TestNet.Await(readDown)));
                }

                SocketRelaySession session = TestNet.Await(relay);
                Assert.Equal(RelayEndReason.Closed, session.EndReason);
                Assert.Equal(size, session.BytesToTarget);
                Assert.Equal(size, session.BytesToSource);
            }
        }

        [Fact]
        public void Refuses_a_socket_that_is_not_connected()
        {
            using (var rig = new Rig())
            {
                Assert.Throws<InvalidSocketStateException>(() => { _ = SocketRelay.JoinAsync(rig.Source.Server, rig.Target.Listener, NoIdle, TestNet.Token); });
                Assert.Throws<ArgumentException>(() => { _ = SocketRelay.JoinAsync(rig.Source.Server, rig.Source.Server, NoIdle, TestNet.Token); });
            }
        }
    }

    public sealed class RelayListenerTests
    {
        [Fact]
        public void Reports_a_refused_target_per_connection_and_keeps_running()
        {
            int closedPort = TestNet.FreePort();
            RelayListener relay = RelayListener.Start(new RelayListenerOptions { ListenAddress = "127.0.0.1", TargetHost = "127.0.0.1", TargetPort = closedPort });
            try
            {
                for (int i = 0; i < 2; i++)
                {
                    NetSocket client = NetSocket.Create();
                    client.Connect("127.0.0.1", relay.LocalPort, TestNet.Timeout, TestNet.Token);
                    Assert.Empty(client.ReceiveExactly(1, TestNet.Timeout, TestNet.Token));
                    client.Close();
                    Assert.True(relay.TryTake(out SocketRelaySession session, 10000));
                    Assert.Equal(RelayEndReason.Error, session.EndReason);
                    Assert.Contains("ConnectionRefused", session.Error);
                }
            }
            finally
            {
                relay.Stop();
            }

            Assert.True(relay.IsCompleted);
        }

        [Fact]
        public void Refuses_a_bad_filter_before_binding()
        {
            int port = TestNet.FreePort();
            var e = Assert.Throws<AddressFilterException>(() => RelayListener.Start(new RelayListenerOptions
            {
                ListenAddress = "127.0.0.1", ListenPort = port, TargetHost = "127.0.0.1", TargetPort = 1, DenyAddress = new[] { "10.0.0.0/99" },
            }));
            Assert.Contains("10.0.0.0/99", e.Message);

            // Nothing was bound: the port is still free.
            using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
            }
        }
    }
}

using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>
    /// Every address of a name is tried within one deadline, racing as RFC 8305 describes. The name comes from the
    /// resolver hook; the silent address is a real ::1 port whose listener's queue is full (its SYNs are dropped).
    /// </summary>
    [Collection(ResolverHookCollection.Name)]
    public sealed class ConnectRaceTests
    {
        private static readonly IPAddress s_v6a = IPAddress.Parse("2001:db8::a");
        private static readonly IPAddress s_v6b = IPAddress.Parse("2001:db8::b");
        private static readonly IPAddress s_v4a = IPAddress.Parse("192.0.2.1");
        private static readonly IPAddress s_v4b = IPAddress.Parse("192.0.2.2");

        /// <summary>
        /// A silent ::1 port and, at the same port number on 127.0.0.1, a listener (<paramref name="liveV4"/>) or another
        /// silent port.
        /// </summary>
        private sealed class SilentV6LiveV4 : IDisposable
        {
            public SilentV6LiveV4(bool liveV4 = true)
            {
                for (int attempt = 0; attempt < 5 && Live == null && SilentV4 == null; attempt++)
                {
                    Silent?.Dispose();
                    Silent = new FullListener(ipv6: true);
                    try
                    {
                        if (liveV4)
                        {
                            Live = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork).Bind(IPAddress.Loopback, Silent.Port).Listen();
                        }
                        else
                        {
                            SilentV4 = new FullListener(ipv6: false, port: Silent.Port);
                        }
                    }
                    catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
                    {
                        // That port number is taken on 127.0.0.1: try another pair.
                    }
                }

                Assert.True(Live != null || SilentV4 != null, "No port number was free on both ::1 and 127.0.0.1.");
            }

            public FullListener Silent { get; private set; }

            public FullListener SilentV4 { get; private set; }

            public NetSocket Live { get; private set; }

            public int Port => Silent.Port;

            public void Dispose()
            {
                Live?.Close();
                SilentV4?.Dispose();
                Silent?.Dispose();
            }
        }

        private static ResolverHook Answer(params IPAddress[] addresses) =>
            new ResolverHook(name => Task.FromResult(addresses));

        [Fact]
        public void Interleave_alternates_the_families_starting_with_the_first_answer()
        {
            Assert.Equal(new[] { s_v6a, s_v4a, s_v6b, s_v4b }, NetSocket.Interleave(new[] { s_v6a, s_v6b, s_v4a, s_v4b }));
            Assert.Equal(new[] { s_v4a, s_v6a, s_v4b, s_v6b }, NetSocket.Interleave(new[] { s_v4a, s_v4b, s_v6a, s_v6b }));
            Assert.Equal(new[] { s_v6a, s_v4a, s_v6b }, NetSocket.Interleave(new[] { s_v6a, s_v6b, s_v4a }));
            Assert.Equal(new[] { s_v4a, s_v4b }, NetSocket.Interleave(new[] { s_v4a, s_v4b }));
        }

        [Fact]
        public void A_silent_first_address_does_not_cost_the_timeout_the_next_one_wins()
        {
            using (var pair = new SilentV6LiveV4())
            using (Answer(IPAddress.IPv6Loopback, IPAddress.Loopback))
            using (NetSocket client = NetSocket.Create())
            {
                var trace = new ConcurrentQueue<string>();
                Task connect = Task.Run(() => client.Connect("dual.hook.test", pair.Port, TimeSpan.FromSeconds(20), TestNet.Token, trace.Enqueue));

                // The old loop waited the whole timeout on ::1 first; the race must connect while that much is left.
                Assert.True(((IAsyncResult)connect).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(15)), "No connection while the silent address still had its time: " + string.Join(" | ", trace));
                TestNet.Await(connect);
                Assert.Equal(SocketState.Connected, client.State);
                Assert.Equal(IPAddress.Loopback, client.RemoteEndPoint.Address);
                Assert.Equal("dual.hook.test", client.RemoteHostName);
                Assert.True(client.Socket.Connected);
                using (NetSocket peer = pair.Live.Accept(TestNet.Timeout, TestNet.Token))
                {
                    Assert.Equal(client.LocalEndPoint.Port, peer.RemoteEndPoint.Port);
                }

                string[] lines = trace.ToArray();
                Assert.Contains(lines, l => l.Contains($"Connecting to [::1]:{pair.Port} (attempt 1 of 2)"));
                Assert.Contains(lines, l => l.Contains("after 250 ms"));
                Assert.Contains(lines, l => l.Contains($"Connecting to 127.0.0.1:{pair.Port} (attempt 2 of 2)"));
                Assert.Contains(lines, l => l.Contains($"Attempt 2 (127.0.0.1:{pair.Port}) connected") && l.Contains($"closing 1 other attempt ([::1]:{pair.Port})"));
            }
        }

        [Fact]
        public void A_refused_first_address_starts_the_next_attempt_at_once()
        {
            using (NetSocket live = TestNet.ListenerV4())
            using (Answer(IPAddress.IPv6Loopback, IPAddress.Loopback))
            using (NetSocket client = NetSocket.Create())
            {
                // Nothing listens on [::1] at that port (a v4 listener holds only 127.0.0.1): a refusal.
                var trace = new ConcurrentQueue<string>();
                client.Connect("refused.hook.test", live.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token, trace.Enqueue);
                Assert.Equal(IPAddress.Loopback, client.RemoteEndPoint.Address);
                Assert.Contains(trace, l => l.StartsWith("Attempt 1 ([::1]:", StringComparison.Ordinal) && l.Contains("failed") && l.Contains("ConnectionRefused"));
                Assert.Contains(trace, l => l.StartsWith("Attempt 2 (127.0.0.1:", StringComparison.Ordinal) && l.Contains("connected"));
            }
        }

        [Fact]
        public void A_bound_socket_tries_its_addresses_in_turn_within_the_one_deadline()
        {
            using (var pair = new SilentV6LiveV4())
            using (Answer(IPAddress.IPv6Loopback, IPAddress.Loopback))
            using (NetSocket client = NetSocket.Create().Bind(IPAddress.IPv6Any, 0))
            {
                int localPort = client.LocalEndPoint.Port;
                var trace = new ConcurrentQueue<string>();
                client.Connect("bound.hook.test", pair.Port, TimeSpan.FromSeconds(4), TestNet.Token, trace.Enqueue);
                Assert.Equal(SocketState.Connected, client.State);
                Assert.Equal(IPAddress.Loopback, client.RemoteEndPoint.Address);
                Assert.Equal(localPort, client.LocalEndPoint.Port);
                Assert.Contains(trace, l => l.Contains("did not answer within") && l.Contains("trying the next address"));
            }
        }

        [Fact]
        public void Every_address_silent_is_one_Connect_timeout_naming_them_and_the_socket_can_try_again()
        {
            using (var both = new SilentV6LiveV4(liveV4: false))
            using (NetSocket live = TestNet.ListenerV4())
            using (Answer(IPAddress.IPv6Loopback, IPAddress.Loopback))
            using (NetSocket client = NetSocket.Create())
            {
                var trace = new ConcurrentQueue<string>();
                Task connect = Task.Run(() => client.Connect("silent.hook.test", both.Port, TimeSpan.FromMilliseconds(1500), TestNet.Token, trace.Enqueue));
                var e = Assert.IsType<SocketTimeoutException>(TestNet.AwaitFailure(connect));
                Assert.Equal(SocketOperation.Connect, e.Operation);
                Assert.Contains("any of 2 addresses", e.WhatDidNotHappen);
                Assert.Contains(trace, l => l.Contains("(attempt 2 of 2)"));
                Assert.Equal(SocketState.Created, client.State);

                client.Connect("127.0.0.1", live.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                Assert.Equal(SocketState.Connected, client.State);
            }
        }

        [Fact]
        public void Cancelling_a_race_ends_it_and_leaves_the_socket_ready_to_connect_again()
        {
            using (var both = new SilentV6LiveV4(liveV4: false))
            using (NetSocket live = TestNet.ListenerV4())
            using (Answer(IPAddress.IPv6Loopback, IPAddress.Loopback))
            using (NetSocket client = NetSocket.Create())
            using (var stop = new CancellationTokenSource())
            {
                var trace = new ConcurrentQueue<string>();
                Task connect = Task.Run(() => client.Connect("stop.hook.test", both.Port, Timeout.InfiniteTimeSpan, stop.Token, trace.Enqueue));
                TestNet.WaitUntil(() => trace.Any(l => l.Contains("(attempt 2 of 2)")), "both attempts run");
                stop.Cancel();
                Assert.IsAssignableFrom<OperationCanceledException>(TestNet.AwaitFailure(connect));
                Assert.Equal(SocketState.Created, client.State);

                client.Connect("127.0.0.1", live.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                Assert.Equal(SocketState.Connected, client.State);
            }
        }

        [Fact]
        public void Closing_the_socket_from_another_thread_ends_a_race()
        {
            using (var both = new SilentV6LiveV4(liveV4: false))
            using (Answer(IPAddress.IPv6Loopback, IPAddress.Loopback))
            using (NetSocket client = NetSocket.Create())
            {
                var trace = new ConcurrentQueue<string>();
                Task connect = Task.Run(() => client.Connect("close.hook.test", both.Port, Timeout.InfiniteTimeSpan, TestNet.Token, trace.Enqueue));
                TestNet.WaitUntil(() => trace.Any(l => l.Contains("(attempt 2 of 2)")), "both attempts run");
                client.Close();
                Assert.IsType<InvalidSocketStateException>(TestNet.AwaitFailure(connect));
                Assert.Equal(SocketState.Closed, client.State);
            }
        }
    }
}

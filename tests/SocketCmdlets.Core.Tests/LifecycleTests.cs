using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    public sealed class BindTests
    {
        [Fact]
        public void Bind_to_port_0_gives_a_free_port()
        {
            using (NetSocket socket = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork))
            {
                Assert.Same(socket, socket.Bind(IPAddress.Loopback, 0));
                Assert.Equal(SocketState.Bound, socket.State);
                Assert.Equal(IPAddress.Loopback, socket.LocalEndPoint.Address);
                Assert.InRange(socket.LocalEndPoint.Port, 1, 65535);
                Assert.Equal(socket.LocalEndPoint.Port, ((IPEndPoint)socket.Socket.LocalEndPoint).Port);
            }
        }

        [Fact]
        public void Bind_without_address_binds_every_interface_of_the_family()
        {
            using (NetSocket dual = NetSocket.Create())
            using (NetSocket v4 = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork))
            {
                dual.Bind(null, 0);
                v4.Bind(null, 0);
                Assert.Equal(IPAddress.IPv6Any, dual.LocalEndPoint.Address);
                Assert.Equal(IPAddress.Any, v4.LocalEndPoint.Address);
                Assert.NotEqual(0, dual.LocalEndPoint.Port);
            }
        }

        [Fact]
        public void A_dual_mode_socket_bound_to_Any_accepts_IPv4_and_IPv6_clients()
        {
            using (NetSocket listener = NetSocket.Create())
            using (NetSocket v4 = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork))
            using (NetSocket v6 = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetworkV6))
            {
                listener.Bind(AddressResolver.ForBinding("Any", listener), 0).Listen();
                int port = listener.LocalEndPoint.Port;
                v4.Connect("127.0.0.1", port, TestNet.Timeout, TestNet.Token);
                v6.Connect("::1", port, TestNet.Timeout, TestNet.Token);
                using (NetSocket a = listener.Accept(TestNet.Timeout, TestNet.Token))
                using (NetSocket b = listener.Accept(TestNet.Timeout, TestNet.Token))
                {
                    var peers = new[] { a.RemoteEndPoint, b.RemoteEndPoint };
                    Assert.Contains(v4.LocalEndPoint, peers);
                    Assert.Contains(v6.LocalEndPoint, peers);
                }
            }
        }

        [Fact]
        public void AddressResolver_turns_the_words_into_addresses()
        {
            using (NetSocket dual = NetSocket.Create())
            using (NetSocket v4 = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork))
            using (NetSocket v6 = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetworkV6))
            {
                Assert.Null(AddressResolver.ForBinding(null, dual));
                Assert.Null(AddressResolver.ForBinding("", dual));
                Assert.Null(AddressResolver.ForBinding("*", v4));
                Assert.Null(AddressResolver.ForBinding("any", v6));
                Assert.Null(AddressResolver.ForBinding(" Any ", v6));

                Assert.Equal(IPAddress.Loopback, AddressResolver.ForBinding("Loopback", v4));
                Assert.Equal(IPAddress.Loopback, AddressResolver.ForBinding("loopback", dual));
                Assert.Equal(IPAddress.IPv6Loopback, AddressResolver.ForBinding("Loopback", v6));

                Assert.Equal(IPAddress.Loopback, AddressResolver.ForBinding("127.0.0.1", dual));
                Assert.Equal(IPAddress.IPv6Loopback, AddressResolver.ForBinding("::1", dual));
                Assert.Equal(IPAddress.IPv6Loopback, AddressResolver.ForBinding("[::1]", v6));
                Assert.Equal(IPAddress.Loopback, AddressResolver.ForBinding("::ffff:127.0.0.1", dual));

                Assert.Equal(IPAddress.Loopback, AddressResolver.ForBinding("localhost", v4));
                Assert.True(IPAddress.IsLoopback(AddressResolver.ForBinding("localhost", dual)));

                Assert.Throws<ArgumentNullException>(() => AddressResolver.ForBinding("Any", null));
            }
        }

        [Fact]
        public void AddressResolver_reports_an_unknown_host_as_HostNotFound()
        {
            using (NetSocket socket = NetSocket.Create())
            {
                var e = Assert.Throws<SocketException>(() => AddressResolver.ForBinding("no-such-host.invalid", socket));
                Assert.Equal(SocketError.HostNotFound, e.SocketErrorCode);
            }
        }

        [Theory]
        [InlineData("Loopback", null, "127.0.0.1")]
        [InlineData("Loopback", SocketFamily.InterNetworkV6, "::1")]
        [InlineData("127.0.0.1", null, "127.0.0.1")]
        [InlineData("::1", null, "::1")]
        [InlineData("localhost", SocketFamily.InterNetwork, "127.0.0.1")]
        public void Bind_through_AddressResolver_shows_the_address_bound(string word, SocketFamily? family, string expected)
        {
            using (NetSocket socket = NetSocket.Create(SocketProtocol.Tcp, family))
            {
                socket.Bind(AddressResolver.ForBinding(word, socket), 0).Listen();
                Assert.Equal(IPAddress.Parse(expected), socket.LocalEndPoint.Address);
                Assert.False(socket.LocalEndPoint.Address.IsIPv4MappedToIPv6);

                using (NetSocket client = NetSocket.Create())
                {
                    client.Connect(expected, socket.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                    using (NetSocket peer = socket.Accept(TestNet.Timeout, TestNet.Token))
                    {
                        Assert.Equal(client.LocalEndPoint, peer.RemoteEndPoint);
                    }
                }
            }
        }

        [Fact]
        public void Bind_to_a_port_in_use_throws_AddressAlreadyInUse_and_leaves_the_socket_Created()
        {
            using (NetSocket holder = TestNet.ListenerV4())
            using (NetSocket socket = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork))
            {
                var e = Assert.Throws<SocketException>(() => socket.Bind(IPAddress.Loopback, holder.LocalEndPoint.Port));
                Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
                Assert.Equal(SocketState.Created, socket.State);
                Assert.Null(socket.LocalEndPoint);

                // Still usable.
                socket.Bind(IPAddress.Loopback, 0);
                Assert.Equal(SocketState.Bound, socket.State);
            }
        }

        [Theory]
        [InlineData(-1)]
        [InlineData(65536)]
        public void Bind_rejects_ports_out_of_range(int port)
        {
            using (NetSocket socket = NetSocket.Create())
            {
                var e = Assert.Throws<ArgumentOutOfRangeException>(() => socket.Bind(IPAddress.Loopback, port));
                Assert.Equal("port", e.ParamName);
                Assert.Equal(SocketState.Created, socket.State);
            }
        }

        [Fact]
        public void Bind_an_IPv4_only_socket_to_an_IPv6_address_is_a_family_mismatch()
        {
            using (NetSocket socket = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork))
            {
                var e = Assert.Throws<SocketException>(() => socket.Bind(IPAddress.IPv6Loopback, 0));
                Assert.Equal(SocketError.AddressFamilyNotSupported, e.SocketErrorCode);
            }
        }

        [Fact]
        public void Bind_twice_is_a_wrong_state()
        {
            using (NetSocket socket = NetSocket.Create().Bind(IPAddress.Loopback, 0))
            {
                var e = Assert.Throws<InvalidSocketStateException>(() => socket.Bind(IPAddress.Loopback, 0));
                Assert.Equal(SocketState.Bound, e.State);
                Assert.Same(socket, e.Socket);
            }
        }
    }

    public sealed class ListenAcceptTests
    {
        [Fact]
        public void Listen_after_bind_makes_a_listener()
        {
            using (NetSocket socket = NetSocket.Create().Bind(IPAddress.Loopback, 0))
            {
                Assert.Same(socket, socket.Listen(5));
                Assert.Equal(SocketState.Listening, socket.State);
            }
        }

        [Fact]
        public void Listen_rejects_a_negative_backlog()
        {
            using (NetSocket socket = NetSocket.Create().Bind(IPAddress.Loopback, 0))
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => socket.Listen(-1));
                Assert.Equal(SocketState.Bound, socket.State);
            }
        }

        [Fact]
        public void Accept_returns_a_connected_registered_socket_with_normalised_endpoints()
        {
            // A dual-mode listener on every interface sees IPv4 clients through mapped addresses; they must show as IPv4.
            using (NetSocket listener = NetSocket.Create().Bind(null, 0).Listen())
            using (NetSocket client = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork))
            {
                client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                using (NetSocket peer = listener.Accept(TestNet.Timeout, TestNet.Token))
                {
                    Assert.Equal(SocketState.Connected, peer.State);
                    Assert.Equal(listener.Id, peer.ListenerId);
                    Assert.True(peer.Id > listener.Id);
                    Assert.Same(peer, SocketRegistry.Find(peer.Id));

                    Assert.Equal(IPAddress.Loopback, peer.RemoteEndPoint.Address);
                    Assert.Equal(AddressFamily.InterNetwork, peer.RemoteEndPoint.AddressFamily);
                    Assert.Equal(client.LocalEndPoint, peer.RemoteEndPoint);
                    Assert.Equal(IPAddress.Loopback, peer.LocalEndPoint.Address);
                    Assert.Equal(listener.LocalEndPoint.Port, peer.LocalEndPoint.Port);
                    Assert.Equal(AddressFamily.InterNetwork, peer.AddressFamily);
                    Assert.DoesNotContain("::ffff:", peer.ToString());
                    Assert.False(peer.Socket.Blocking);
                }
            }
        }

        [Fact]
        public void Accept_times_out_with_SocketTimeoutException_Accept_and_the_listener_keeps_working()
        {
            using (NetSocket listener = TestNet.ListenerV4())
            {
                var e = Assert.Throws<SocketTimeoutException>(() => listener.Accept(TimeSpan.FromMilliseconds(200), TestNet.Token));
                Assert.Equal(SocketOperation.Accept, e.Operation);
                Assert.Equal(TimeSpan.FromMilliseconds(200), e.Timeout);
                Assert.Equal(SocketState.Listening, listener.State);

                using (NetSocket client = NetSocket.Create())
                {
                    client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                    using (NetSocket peer = listener.Accept(TestNet.Timeout, TestNet.Token))
                    {
                        Assert.Equal(SocketState.Connected, peer.State);
                    }
                }
            }
        }

        [Fact]
        public void Accept_ends_promptly_on_cancellation()
        {
            using (NetSocket listener = TestNet.ListenerV4())
            using (var cancel = new CancellationTokenSource())
            {
                Task<NetSocket> accept = TestNet.Run(() => listener.Accept(Timeout.InfiniteTimeSpan, cancel.Token));
                cancel.CancelAfter(200);
                Exception e = TestNet.AwaitFailure(accept);
                Assert.IsAssignableFrom<OperationCanceledException>(e);
                Assert.Equal(SocketState.Listening, listener.State);
            }
        }

        [Fact]
        public void Accept_with_an_already_cancelled_token_throws_at_once()
        {
            using (NetSocket listener = TestNet.ListenerV4())
            {
                Assert.ThrowsAny<OperationCanceledException>(() => listener.Accept(TestNet.Timeout, new CancellationToken(true)));
            }
        }

        [Fact]
        public void Closing_the_listener_ends_a_waiting_accept_with_a_state_error()
        {
            NetSocket listener = TestNet.ListenerV4();
            Task<NetSocket> accept = TestNet.Run(() => listener.Accept(TestNet.Timeout, TestNet.Token));
            Thread.Sleep(100);
            listener.Close();
            Exception e = TestNet.AwaitFailure(accept);
            var state = Assert.IsType<InvalidSocketStateException>(e);
            Assert.Same(listener, state.Socket);
        }

        [Fact]
        public void Pending_connections_are_accepted_one_per_call()
        {
            using (NetSocket listener = TestNet.ListenerV4())
            {
                var clients = new List<NetSocket>();
                var peers = new List<NetSocket>();
                try
                {
                    for (int i = 0; i < 5; i++)
                    {
                        NetSocket client = NetSocket.Create();
                        clients.Add(client);
                        client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                    }

                    for (int i = 0; i < 5; i++)
                    {
                        peers.Add(listener.Accept(TestNet.Timeout, TestNet.Token));
                    }

                    Assert.Equal(clients.Select(c => c.LocalEndPoint.Port).OrderBy(p => p), peers.Select(p => p.RemoteEndPoint.Port).OrderBy(p => p));
                    Assert.Equal(5, peers.Select(p => p.Id).Distinct().Count());
                    Assert.Throws<SocketTimeoutException>(() => listener.Accept(TimeSpan.FromMilliseconds(100), TestNet.Token));
                }
                finally
                {
                    clients.ForEach(c => c.Close());
                    peers.ForEach(p => p.Close());
                }
            }
        }
    }

    public sealed class ConnectTests
    {
        [Fact]
        public void Connect_to_an_IPv4_literal()
        {
            using (NetSocket listener = TestNet.ListenerV4())
            using (NetSocket client = NetSocket.Create())
            {
                Assert.Same(client, client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token));
                Assert.Equal(SocketState.Connected, client.State);
                Assert.Equal(new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), client.RemoteEndPoint);
                Assert.Equal(IPAddress.Loopback, client.LocalEndPoint.Address);
                Assert.False(client.LocalEndPoint.Address.IsIPv4MappedToIPv6);
                Assert.False(client.RemoteEndPoint.Address.IsIPv4MappedToIPv6);
                Assert.Equal("127.0.0.1", client.RemoteHostName);
                Assert.Contains($"127.0.0.1:{listener.LocalEndPoint.Port}", client.ToString());
            }
        }

        [Theory]
        [InlineData("::1")]
        [InlineData("[::1]")]
        public void Connect_to_an_IPv6_literal(string host)
        {
            using (NetSocket listener = TestNet.ListenerV6())
            using (NetSocket client = NetSocket.Create())
            {
                client.Connect(host, listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, listener.LocalEndPoint.Port), client.RemoteEndPoint);
                Assert.Equal(AddressFamily.InterNetworkV6, client.AddressFamily);
                Assert.Contains($"[::1]:{listener.LocalEndPoint.Port}", client.ToString());
            }
        }

        [Fact]
        public void Connect_to_localhost_reaches_a_server_listening_on_127_0_0_1_only()
        {
            IPAddress[] resolved = Dns.GetHostAddresses("localhost");
            using (NetSocket listener = TestNet.ListenerV4())
            using (NetSocket client = NetSocket.Create())
            {
                var trace = new List<string>();
                client.Connect("localhost", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token, trace.Add);

                Assert.Equal(SocketState.Connected, client.State);
                Assert.Equal(new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), client.RemoteEndPoint);
                Assert.Equal("localhost", client.RemoteHostName);
                Assert.Contains(trace, t => t.Contains("Resolving 'localhost'"));
                Assert.Contains(trace, t => t.Contains($"Connecting to 127.0.0.1:{listener.LocalEndPoint.Port}"));

                // Where the resolver lists ::1 first (most systems), that attempt is refused and the next address is tried.
                int v6 = Array.FindIndex(resolved, a => a.Equals(IPAddress.IPv6Loopback));
                int v4 = Array.FindIndex(resolved, a => a.Equals(IPAddress.Loopback));
                if (v6 >= 0 && v6 < v4)
                {
                    Assert.Contains(trace, t => t.StartsWith($"Connection to [::1]:{listener.LocalEndPoint.Port} failed", StringComparison.Ordinal));
                }

                using (NetSocket peer = listener.Accept(TestNet.Timeout, TestNet.Token))
                {
                    Assert.Equal(client.LocalEndPoint, peer.RemoteEndPoint);
                }
            }
        }

        [Fact]
        public void A_refused_connect_throws_ConnectionRefused_and_the_socket_can_connect_again()
        {
            using (NetSocket client = NetSocket.Create())
            {
                var e = Assert.Throws<SocketException>(() => client.Connect("127.0.0.1", TestNet.FreePort(), TestNet.Timeout, TestNet.Token));
                Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
                Assert.Equal(SocketState.Created, client.State);
                Assert.Null(client.RemoteEndPoint);
                Assert.Same(client, SocketRegistry.Find(client.Id));

                // Refused twice, still fine.
                Assert.Throws<SocketException>(() => client.Connect("::1", TestNet.FreePort(), TestNet.Timeout, TestNet.Token));
                Assert.Equal(SocketState.Created, client.State);

                using (NetSocket listener = TestNet.ListenerV4())
                {
                    client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                    Assert.Equal(SocketState.Connected, client.State);
                    using (NetSocket peer = listener.Accept(TestNet.Timeout, TestNet.Token))
                    {
                        client.Send(new byte[] { 1, 2, 3 }, TestNet.Timeout, TestNet.Token);
                        Assert.Equal(new byte[] { 1, 2, 3 }, peer.ReceiveExactly(3, TestNet.Timeout, TestNet.Token));
                    }
                }
            }
        }

        [Fact]
        public void A_refused_connect_of_a_bound_socket_keeps_it_usable()
        {
            using (NetSocket client = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork).Bind(IPAddress.Loopback, 0))
            {
                Assert.Throws<SocketException>(() => client.Connect("127.0.0.1", TestNet.FreePort(), TestNet.Timeout, TestNet.Token));
                Assert.Contains(client.State, new[] { SocketState.Created, SocketState.Bound });
                using (NetSocket listener = TestNet.ListenerV4())
                {
                    client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                    Assert.Equal(SocketState.Connected, client.State);
                }
            }
        }

        [Fact]
        public void A_host_name_under_invalid_throws_HostNotFound()
        {
            using (NetSocket client = NetSocket.Create())
            {
                Exception e = Record.Exception(() => client.Connect("no-such-host.invalid", 80, TestNet.Timeout, TestNet.Token));
                var socketError = Assert.IsType<SocketException>(e);
                Assert.Equal(SocketError.HostNotFound, socketError.SocketErrorCode);
                Assert.Equal(SocketState.Created, client.State);
            }
        }

        [Fact]
        public void A_connect_that_does_not_complete_times_out_with_SocketTimeoutException_Connect()
        {
            using (var full = new FullListener())
            using (NetSocket client = NetSocket.Create())
            {
                var e = Assert.Throws<SocketTimeoutException>(() => client.Connect("127.0.0.1", full.Port, TimeSpan.FromMilliseconds(300), TestNet.Token));
                Assert.Equal(SocketOperation.Connect, e.Operation);
                Assert.Equal(SocketState.Created, client.State);
                Assert.Null(client.RemoteEndPoint);
            }
        }

        [Fact]
        public void A_connect_ends_promptly_on_cancellation_and_the_socket_stays_Created()
        {
            using (var full = new FullListener())
            using (NetSocket client = NetSocket.Create())
            using (var cancel = new CancellationTokenSource())
            {
                Task<NetSocket> connect = TestNet.Run(() => client.Connect("127.0.0.1", full.Port, Timeout.InfiniteTimeSpan, cancel.Token));
                cancel.CancelAfter(200);
                Exception e = TestNet.AwaitFailure(connect);
                Assert.IsAssignableFrom<OperationCanceledException>(e);
                Assert.Equal(SocketState.Created, client.State);

                // The renewed socket connects elsewhere.
                using (NetSocket other = TestNet.ListenerV4())
                {
                    client.Connect("127.0.0.1", other.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                    Assert.Equal(SocketState.Connected, client.State);
                }
            }
        }

        [Theory]
        [InlineData(null)]
        [InlineData("")]
        [InlineData("   ")]
        public void Connect_requires_a_host(string host)
        {
            using (NetSocket client = NetSocket.Create())
            {
                Assert.Throws<ArgumentException>(() => client.Connect(host, 80, TestNet.Timeout, TestNet.Token));
            }
        }

        [Theory]
        [InlineData(0)]
        [InlineData(-1)]
        [InlineData(65536)]
        public void Connect_rejects_ports_out_of_range(int port)
        {
            using (NetSocket client = NetSocket.Create())
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => client.Connect("127.0.0.1", port, TestNet.Timeout, TestNet.Token));
            }
        }
    }
}

using System;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    public sealed class CreateTests
    {
        [Fact]
        public void Create_without_family_is_a_dual_mode_IPv6_socket_in_state_Created()
        {
            using (NetSocket socket = NetSocket.Create(name: "plain"))
            {
                Assert.Equal(SocketState.Created, socket.State);
                Assert.Equal(SocketProtocol.Tcp, socket.Protocol);
                Assert.Equal("plain", socket.Name);
                Assert.True(socket.DualMode);
                Assert.Equal(AddressFamily.InterNetworkV6, socket.Socket.AddressFamily);
                Assert.True(socket.Socket.DualMode);
                Assert.Equal(AddressFamily.InterNetworkV6, socket.AddressFamily);
                Assert.Null(socket.LocalEndPoint);
                Assert.Null(socket.RemoteEndPoint);
                Assert.Equal(0, socket.BytesSent);
                Assert.Equal(0, socket.BytesReceived);
                Assert.False(socket.IsEncrypted);
                Assert.Same(socket, SocketRegistry.Find(socket.Id));
                Assert.Contains("Socket " + socket.Id + " 'plain'", socket.ToString());
            }
        }

        [Fact]
        public void A_dual_mode_socket_reaches_IPv4_and_IPv6_listeners()
        {
            using (NetSocket v4 = TestNet.ListenerV4())
            using (NetSocket v6 = TestNet.ListenerV6())
            using (NetSocket toV4 = NetSocket.Create())
            using (NetSocket toV6 = NetSocket.Create())
            {
                toV4.Connect("127.0.0.1", v4.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                toV6.Connect("::1", v6.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);

                Assert.Equal(SocketState.Connected, toV4.State);
                Assert.Equal(AddressFamily.InterNetwork, toV4.AddressFamily);
                Assert.Equal(new IPEndPoint(IPAddress.Loopback, v4.LocalEndPoint.Port), toV4.RemoteEndPoint);
                Assert.Equal(SocketState.Connected, toV6.State);
                Assert.Equal(AddressFamily.InterNetworkV6, toV6.AddressFamily);
                Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, v6.LocalEndPoint.Port), toV6.RemoteEndPoint);
            }
        }

        [Fact]
        public void Create_IPv4_only_cannot_reach_an_IPv6_address()
        {
            using (NetSocket v6 = TestNet.ListenerV6())
            using (NetSocket socket = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork))
            {
                Assert.False(socket.DualMode);
                Assert.Equal(AddressFamily.InterNetwork, socket.Socket.AddressFamily);
                Assert.Equal(AddressFamily.InterNetwork, socket.AddressFamily);

                var e = Assert.Throws<SocketException>(() => socket.Connect("::1", v6.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token));
                Assert.Equal(SocketError.AddressFamilyNotSupported, e.SocketErrorCode);
                Assert.Equal(SocketState.Created, socket.State);
            }
        }

        [Fact]
        public void Create_IPv6_only_cannot_reach_an_IPv4_address()
        {
            using (NetSocket v4 = TestNet.ListenerV4())
            using (NetSocket socket = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetworkV6))
            {
                Assert.False(socket.DualMode);
                Assert.False(socket.Socket.DualMode);
                Assert.Equal(AddressFamily.InterNetworkV6, socket.AddressFamily);

                var e = Assert.Throws<SocketException>(() => socket.Connect("127.0.0.1", v4.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token));
                Assert.Equal(SocketError.AddressFamilyNotSupported, e.SocketErrorCode);
            }
        }

        [Theory]
        [InlineData(null)]
        [InlineData(SocketFamily.InterNetwork)]
        [InlineData(SocketFamily.InterNetworkV6)]
        public void Options_are_applied_to_the_socket(SocketFamily? family)
        {
            var options = new SocketOptions
            {
                NoDelay = true,
                KeepAlive = true,
                ReuseAddress = true,
                ReceiveBufferSize = 96 * 1024,
                SendBufferSize = 80 * 1024,
                Ttl = 42,
            };
            using (NetSocket socket = NetSocket.Create(SocketProtocol.Tcp, family, options))
            {
                Socket raw = socket.Socket;
                Assert.True(raw.NoDelay);
                Assert.NotEqual(0, (int)raw.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive));
                Assert.NotEqual(0, (int)raw.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress));
                // The kernel may round a buffer size up (Linux doubles it), never down.
                Assert.True(raw.ReceiveBufferSize >= 96 * 1024, $"ReceiveBufferSize is {raw.ReceiveBufferSize}");
                Assert.True(raw.SendBufferSize >= 80 * 1024, $"SendBufferSize is {raw.SendBufferSize}");
                Assert.Equal(42, raw.Ttl);
                Assert.False(raw.Blocking);
            }
        }

        [Fact]
        public void Options_left_unset_keep_the_system_defaults()
        {
            using (NetSocket socket = NetSocket.Create(options: new SocketOptions { NoDelay = false }))
            {
                Assert.False(socket.Socket.NoDelay);
                Assert.Equal(0, (int)socket.Socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive));
            }
        }

        [Fact]
        public void Accepted_sockets_get_the_listener_NoDelay_option()
        {
            var options = new SocketOptions { NoDelay = true };
            using (NetSocket listener = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork, options).Bind(IPAddress.Loopback, 0).Listen())
            using (NetSocket client = NetSocket.Create())
            {
                client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                using (NetSocket peer = listener.Accept(TestNet.Timeout, TestNet.Token))
                {
                    Assert.True(peer.Socket.NoDelay);
                }
            }
        }

        [Fact]
        public void A_connect_knows_both_endpoints_and_a_refusal_says_ConnectionRefused()
        {
            using (NetSocket listener = TestNet.ListenerV4())
            using (NetSocket client = NetSocket.Create())
            using (NetSocket refused = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork))
            {
                client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                Assert.Equal(SocketState.Connected, client.State);
                Assert.True(client.Socket.Connected);
                Assert.Equal(new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), client.RemoteEndPoint);
                using (NetSocket peer = listener.Accept(TestNet.Timeout, TestNet.Token))
                {
                    Assert.Equal(client.LocalEndPoint, peer.RemoteEndPoint);
                }

                var e = Assert.Throws<SocketException>(() => refused.Connect("127.0.0.1", TestNet.FreePort(), TestNet.Timeout, TestNet.Token));
                Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
                Assert.Equal(SocketState.Created, refused.State);
            }
        }

        [Fact]
        public void Options_survive_a_refused_connect_that_renews_the_socket()
        {
            var options = new SocketOptions { NoDelay = true, Ttl = 33 };
            using (NetSocket socket = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork, options))
            {
                Assert.Throws<SocketException>(() => socket.Connect("127.0.0.1", TestNet.FreePort(), TestNet.Timeout, TestNet.Token));
                Assert.True(socket.Socket.NoDelay);
                Assert.Equal(33, socket.Socket.Ttl);
                Assert.False(socket.Socket.Blocking);
            }
        }

        public static TheoryData<SocketOptions, string> InvalidOptions => new TheoryData<SocketOptions, string>
        {
            { new SocketOptions { ReceiveBufferSize = 0 }, "ReceiveBufferSize" },
            { new SocketOptions { ReceiveBufferSize = -1 }, "ReceiveBufferSize" },
            { new SocketOptions { SendBufferSize = 0 }, "SendBufferSize" },
            { new SocketOptions { SendBufferSize = int.MinValue }, "SendBufferSize" },
            { new SocketOptions { Ttl = 0 }, "Ttl" },
            { new SocketOptions { Ttl = 256 }, "Ttl" },
            { new SocketOptions { Ttl = -5 }, "Ttl" },
        };

        [Theory]
        [MemberData(nameof(InvalidOptions))]
        public void Invalid_option_values_throw_ArgumentOutOfRange_and_create_nothing(SocketOptions options, string parameter)
        {
            string name = "invalid-" + Guid.NewGuid().ToString("N");
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => NetSocket.Create(options: options, name: name));
            Assert.Equal(parameter, e.ParamName);
            Assert.DoesNotContain(SocketRegistry.Snapshot(), s => s.Name == name);
        }
    }
}

using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>
    /// The options part of the engine (SocketOptions.cs, NetSocket.Options.cs): what is set is what the system reports,
    /// values no socket takes are refused before anything changes, and options that do not fit the socket say so.
    /// </summary>
    public sealed class OptionsTests : IDisposable
    {
        private readonly List<NetSocket> _owned = new List<NetSocket>();

        public void Dispose() => _owned.ForEach(s => s.Close());

        private NetSocket Own(NetSocket socket)
        {
            _owned.Add(socket);
            return socket;
        }

        [Fact]
        public void Options_given_at_creation_are_read_back_from_the_system()
        {
            NetSocket socket = Own(NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork,
                new SocketOptions { NoDelay = true, KeepAlive = true, LingerSec = 3, ReuseAddress = true, Ttl = 17 }));
            SocketOptions read = socket.GetOptions();
            Assert.Equal(socket.Id, read.SocketId);
            Assert.True(read.NoDelay);
            Assert.True(read.KeepAlive);
            Assert.Equal(3, read.LingerSec);
            Assert.True(read.ReuseAddress);
            Assert.Equal((short)17, read.Ttl);
            Assert.True(socket.Socket.NoDelay);
        }

        [Fact]
        public void SetOptions_changes_only_what_it_names()
        {
            NetSocket socket = Own(NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork, new SocketOptions { NoDelay = true }));
            socket.SetOptions(new SocketOptions { LingerSec = 0 });
            SocketOptions read = socket.GetOptions();
            Assert.Equal(0, read.LingerSec);
            Assert.True(read.NoDelay);
            socket.SetOptions(new SocketOptions { LingerSec = -1, NoDelay = false });
            read = socket.GetOptions();
            Assert.Equal(-1, read.LingerSec);
            Assert.False(read.NoDelay);
        }

        [Fact]
        public void The_cmdlet_timeouts_are_kept_on_the_socket_and_reported_with_the_options()
        {
            NetSocket socket = Own(NetSocket.Create());
            Assert.Equal(0, socket.GetOptions().ReceiveTimeoutSec);
            socket.SetOptions(new SocketOptions { ReceiveTimeoutSec = 2.5, SendTimeoutSec = 4 });
            Assert.Equal(2.5, socket.ReceiveTimeoutSec);
            SocketOptions read = socket.GetOptions();
            Assert.Equal(2.5, read.ReceiveTimeoutSec);
            Assert.Equal(4, read.SendTimeoutSec);
        }

        [Fact]
        public void Options_are_set_and_read_per_socket()
        {
            using (Pair pair = Pair.Open(clientOptions: new SocketOptions { NoDelay = true }))
            {
                Assert.True(pair.Client.GetOptions().NoDelay);
                pair.Server.SetOptions(new SocketOptions { NoDelay = true, KeepAlive = true });
                Assert.True(pair.Server.GetOptions().KeepAlive);
                Assert.False(pair.Listener.GetOptions().KeepAlive);
            }
        }

        [Theory]
        [InlineData(nameof(SocketOptions.ReceiveBufferSize))]
        [InlineData(nameof(SocketOptions.Ttl))]
        [InlineData(nameof(SocketOptions.LingerSec))]
        [InlineData(nameof(SocketOptions.ReceiveTimeoutSec))]
        public void A_value_no_socket_takes_is_refused_before_anything_changes(string option)
        {
            NetSocket socket = Own(NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork));
            SocketOptions before = socket.GetOptions();
            var bad = new SocketOptions { NoDelay = !before.NoDelay };
            switch (option)
            {
                case nameof(SocketOptions.ReceiveBufferSize): bad.ReceiveBufferSize = 0; break;
                case nameof(SocketOptions.Ttl): bad.Ttl = 0; break;
                case nameof(SocketOptions.LingerSec): bad.LingerSec = -2; break;
                default: bad.ReceiveTimeoutSec = -1; break;
            }

            var e = Assert.Throws<ArgumentOutOfRangeException>(() => socket.SetOptions(bad));
            Assert.Equal(option, e.ParamName);
            Assert.Equal(before.NoDelay, socket.GetOptions().NoDelay);
        }

        [Fact]
        public void TCP_options_on_a_UDP_socket_and_UDP_options_on_a_TCP_socket_are_not_supported()
        {
            NetSocket udp = Own(NetSocket.Create(SocketProtocol.Udp, SocketFamily.InterNetwork));
            NetSocket tcp = Own(NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork));
            Assert.Throws<NotSupportedException>(() => udp.SetOptions(new SocketOptions { NoDelay = true }));
            // Broadcast carries its facts (the option and what it needs) for the cmdlet layer to word.
            var broadcast = Assert.Throws<SocketOptionException>(() => tcp.SetOptions(new SocketOptions { Broadcast = true }));
            Assert.Equal(nameof(SocketOptions.Broadcast), broadcast.Option);
            Assert.Equal(SocketRequirement.Udp, broadcast.Needs);
            Assert.Throws<NotSupportedException>(() => tcp.SetOptions(new SocketOptions { MulticastTtl = 1 }));
        }

        [Fact]
        public void UDP_options_are_read_back()
        {
            NetSocket udp = Own(NetSocket.Create(SocketProtocol.Udp, SocketFamily.InterNetwork));
            Assert.False(udp.GetOptions().Broadcast);
            udp.SetOptions(new SocketOptions { Broadcast = true, MulticastTtl = 0, MulticastLoopback = false });
            SocketOptions read = udp.GetOptions();
            Assert.True(read.Broadcast);
            Assert.Equal(0, read.MulticastTtl);
            Assert.False(read.MulticastLoopback);
            Assert.Null(read.NoDelay);
        }

        [Fact]
        public void DualMode_changes_only_before_the_socket_is_bound()
        {
            NetSocket socket = Own(NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetworkV6));
            socket.SetOptions(new SocketOptions { DualMode = false });
            Assert.False(socket.DualMode);
            Assert.False(socket.GetOptions().DualMode);
            socket.Bind(IPAddress.IPv6Loopback, 0);
            Assert.Throws<InvalidSocketStateException>(() => socket.SetOptions(new SocketOptions { DualMode = true }));
            Assert.False(socket.Socket.DualMode);
        }

        [Fact]
        public void A_closed_socket_has_no_options_to_read_or_change()
        {
            NetSocket socket = Own(NetSocket.Create());
            socket.Close();
            Assert.Throws<InvalidSocketStateException>(() => socket.GetOptions());
            Assert.Throws<InvalidSocketStateException>(() => socket.SetOptions(new SocketOptions { NoDelay = true }));
        }
    }
}

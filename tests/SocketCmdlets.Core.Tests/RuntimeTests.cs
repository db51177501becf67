using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security;
using System.Security.Authentication;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>What differs between the runtimes the module claims: .NET 8 to 10, .NET Framework, and Mono standing in for it.</summary>
    public sealed class RuntimeTests
    {
        private const string NetFramework = ".NET Framework 4.8.9256.0";

        [Theory]
        [InlineData(".NET 8.0.11")]
        [InlineData(".NET 10.0.0")]
        [InlineData(".NET Core 3.1.32")]
        [InlineData("Mono 6.8.0.105 (Debian 6.8.0.105+dfsg-3.3)")]
        public void Outside_NET_Framework_the_default_lets_the_system_choose(string description)
        {
            Assert.Equal(SslProtocols.None, RuntimeFacts.EffectiveProtocols(SslProtocols.None, description, true, true));
        }

        [Fact]
        public void On_NET_Framework_the_default_is_TLS_1_2_where_TLS_1_3_is_unknown_or_unsupported()
        {
            Assert.Equal(SslProtocols.Tls12, RuntimeFacts.EffectiveProtocols(SslProtocols.None, NetFramework, false, false));
            Assert.Equal(SslProtocols.Tls12, RuntimeFacts.EffectiveProtocols(SslProtocols.None, NetFramework, true, false));
            Assert.Equal(SslProtocols.Tls12, RuntimeFacts.EffectiveProtocols(SslProtocols.None, NetFramework, false, true));
        }

        [Fact]
        public void On_NET_Framework_the_default_adds_TLS_1_3_where_it_is_named_and_spoken()
        {
            Assert.Equal(SslProtocols.Tls12 | (SslProtocols)12288, RuntimeFacts.EffectiveProtocols(SslProtocols.None, NetFramework, true, true));
        }

        [Theory]
        [InlineData(NetFramework)]
        [InlineData(".NET 9.0.0")]
        public void A_version_the_caller_chose_is_kept(string description)
        {
            Assert.Equal(SslProtocols.Tls12, RuntimeFacts.EffectiveProtocols(SslProtocols.Tls12, description, true, true));
            Assert.Equal((SslProtocols)12288, RuntimeFacts.EffectiveProtocols((SslProtocols)12288, description, true, true));
        }

        [Fact]
        public void This_process_is_described_and_told_apart()
        {
            Assert.False(string.IsNullOrEmpty(RuntimeFacts.Description));
            Assert.False(RuntimeFacts.IsMono && RuntimeFacts.IsNetFramework);
            Assert.Equal(RuntimeFacts.IsMono, RuntimeFacts.Description.StartsWith("Mono", StringComparison.Ordinal));
#if NETFRAMEWORK
            Assert.True(RuntimeFacts.IsMono || RuntimeFacts.IsNetFramework, RuntimeFacts.Description);
#else
            Assert.False(RuntimeFacts.IsMono || RuntimeFacts.IsNetFramework, RuntimeFacts.Description);
#endif
        }

        [Fact]
        public void The_suite_runs_on_the_runtime_its_build_targets()
        {
            // Self-contained .NET 8 and 9 runs must not roll forward to the SDK's runtime.
#if NET8_0
            Assert.Equal(8, Environment.Version.Major);
#elif NET9_0
            Assert.Equal(9, Environment.Version.Major);
#elif NET10_0
            Assert.Equal(10, Environment.Version.Major);
#elif NETFRAMEWORK
            Assert.Equal(4, Environment.Version.Major);
#else
            Assert.Fail("A target framework this test does not know: " + RuntimeFacts.Description);
#endif
        }

        private sealed class Throwing
        {
            public string Fine => "fine";

            public string NotHere => throw new PlatformNotSupportedException("not on this platform");

            public string Broken => throw new InvalidOperationException("not yet");
        }

        [Fact]
        public void A_property_that_throws_or_is_missing_reads_as_absent()
        {
            var target = new Throwing();
            Assert.Equal("fine", RuntimeFacts.PropertyOrNull(target, "Fine"));
            Assert.Null(RuntimeFacts.PropertyOrNull(target, "NotHere"));
            Assert.Null(RuntimeFacts.PropertyOrNull(target, "Broken"));
            Assert.Null(RuntimeFacts.PropertyOrNull(target, "Missing"));
            Assert.Null(RuntimeFacts.PropertyOrNull(null, "Fine"));
        }

        [Fact]
        public void An_IPv6_only_listener_does_not_take_IPv4_connections()
        {
            // Mono leaves IPV6_V6ONLY as the system has it (off on Linux) unless DualMode is set explicitly.
            using (NetSocket listener = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetworkV6).Bind(IPAddress.IPv6Any, 0).Listen())
            using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                Assert.False(listener.Socket.DualMode);
                var e = Assert.Throws<SocketException>(() => probe.Connect(new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port)));
                Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
            }
        }

        [Fact]
        public void A_socket_without_a_family_is_dual_mode()
        {
            using (NetSocket socket = NetSocket.Create(SocketProtocol.Tcp))
            {
                if (socket.AddressFamily == AddressFamily.InterNetworkV6)
                {
                    Assert.True(socket.Socket.DualMode);
                }
                else
                {
                    Assert.Equal(AddressFamily.InterNetwork, socket.AddressFamily);
                }
            }
        }
    }
}

using System;
using System.Linq;
using System.Reflection;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>Engine exceptions: facts as properties, and no cmdlet or parameter named in the engine's words.</summary>
    public sealed class ExceptionTests
    {
        private static readonly byte[] s_one = { 42 };

        [Fact]
        public void A_wrong_state_carries_what_was_needed_as_a_fact_and_names_no_cmdlet()
        {
            using (NetSocket socket = NetSocket.Create())
            {
                var e = Assert.Throws<InvalidSocketStateException>(() => socket.Send(s_one, TestNet.Timeout, TestNet.Token));
                Assert.Equal(SocketRequirement.Connected, e.Needs);
                Assert.Equal("sending needs a connected socket.", e.Requirement);
                Assert.DoesNotContain("-Socket", e.Message);
                Assert.DoesNotContain("Connect-Socket", e.Message);
            }
        }

        [Fact]
        public void A_closed_socket_says_so_without_a_requirement()
        {
            NetSocket socket = NetSocket.Create();
            socket.Close();
            var e = Assert.Throws<InvalidSocketStateException>(() => socket.Send(s_one, TestNet.Timeout, TestNet.Token));
            Assert.Equal(SocketRequirement.None, e.Needs);
            Assert.Contains("closed socket cannot be used again", e.Message);
        }

        [Fact]
        public void Listening_needs_a_bound_socket()
        {
            using (NetSocket socket = NetSocket.Create())
            {
                var e = Assert.Throws<InvalidSocketStateException>(() => socket.Listen());
                Assert.Equal(SocketRequirement.Bound, e.Needs);
            }
        }

        [Fact]
        public void Every_engine_exception_lives_in_one_file_and_one_namespace()
        {
            Type[] types = typeof(NetSocket).Assembly.GetTypes().Where(t => typeof(Exception).IsAssignableFrom(t)).ToArray();
            Assert.NotEmpty(types);
            Assert.All(types, t => Assert.Equal("SocketCmdlets", t.Namespace));
            Assert.Contains(typeof(AddressFilterException), types);
            Assert.Contains(typeof(CertificateLoadException), types);
            Assert.Contains(typeof(UnsupportedSocketKindException), types);
        }

        [LinuxFact]
        public void A_UDP_Unix_socket_is_refused_with_the_kind_asked_for()
        {
            var e = Assert.Throws<UnsupportedSocketKindException>(() => NetSocket.Create(SocketProtocol.Udp, SocketFamily.Unix));
            Assert.Equal(SocketProtocol.Udp, e.Protocol);
            Assert.Equal(SocketFamily.Unix, e.Family);
        }
    }
}

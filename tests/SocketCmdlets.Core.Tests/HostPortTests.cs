using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>The one-argument endpoint forms of Connect-Socket: pure text, no socket.</summary>
    public sealed class HostPortTests
    {
        [Theory]
        [InlineData("localhost:8080", "localhost", 8080)]
        [InlineData("127.0.0.1:1", "127.0.0.1", 1)]
        [InlineData("example.test:65535", "example.test", 65535)]
        [InlineData("[::1]:443", "::1", 443)]
        [InlineData("[fe80::1%2]:22", "fe80::1%2", 22)]
        [InlineData(" host:80 ", "host", 80)]
        public void SplitsHostAndPort(string text, string host, int port)
        {
            Assert.True(HostPort.TryParse(text, out string parsedHost, out int? parsedPort, out string error), error);
            Assert.Equal(host, parsedHost);
            Assert.Equal(port, parsedPort);
            Assert.Null(error);
        }

        [Theory]
        [InlineData("localhost")]
        [InlineData("127.0.0.1")]
        [InlineData("::1")]
        [InlineData("2001:db8::8080")]
        [InlineData("[::1]")]
        public void HostWithoutPort(string text)
        {
            Assert.True(HostPort.TryParse(text, out string host, out int? port, out string error), error);
            Assert.Null(port);
            Assert.Equal(text.Trim('[', ']'), host);
        }

        [Theory]
        [InlineData("", "empty")]
        [InlineData("   ", "empty")]
        [InlineData(null, "empty")]
        [InlineData(":80", "no host")]
        [InlineData("host:", "not a port")]
        [InlineData("host:http", "not a port")]
        [InlineData("host:0", "not a port")]
        [InlineData("host:65536", "not a port")]
        [InlineData("host:-1", "not a port")]
        [InlineData("host:+80", "not a port")]
        [InlineData("host:123456", "not a port")]
        [InlineData("[::1", "never closes")]
        [InlineData("[::1]x", "after the closing bracket")]
        [InlineData("[::1]:", "not a port")]
        [InlineData("[::1]:99999", "not a port")]
        [InlineData("[localhost]:80", "which is not an IPv6 address")]
        [InlineData("[127.0.0.1]:80", "which is not an IPv6 address")]
        [InlineData("a:b:c", "neither host:port nor an IPv6 address")]
        public void RejectsBadText(string text, string says)
        {
            Assert.False(HostPort.TryParse(text, out string host, out int? port, out string error));
            Assert.Null(host);
            Assert.Null(port);
            Assert.Contains(says, error);
        }
    }
}

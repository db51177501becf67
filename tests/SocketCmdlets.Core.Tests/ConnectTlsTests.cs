using System;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>
    /// Connect with TLS options: name resolution, the connect attempts and the TLS handshake share the call's one
    /// deadline, so a cmdlet passes its -TimeoutSec once and does no arithmetic of its own.
    /// </summary>
    public sealed class ConnectTlsTests
    {
        private static readonly Lazy<X509Certificate2> s_certificate = new Lazy<X509Certificate2>(TestCertificates.SelfSigned);

        [RuntimeFact(Tool = "openssl", ToolNeededOn = TestRuntime.Mono)]
        public void Connect_with_TLS_options_connects_and_completes_the_handshake()
        {
            using (NetSocket listener = TestNet.ListenerV4())
            {
                Task<NetSocket> serverSide = TestNet.Run(() =>
                {
                    NetSocket peer = listener.Accept(TestNet.Timeout, TestNet.Token);
                    return peer.Protect(new TlsOptions { IsServer = true, Certificate = s_certificate.Value }, TestNet.Timeout, TestNet.Token);
                });
                using (NetSocket client = NetSocket.Create(SocketProtocol.Tcp))
                {
                    client.Connect("localhost", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token, null,
                        new TlsOptions { TargetHost = "localhost", SkipCertificateCheck = true });
                    using (NetSocket peer = TestNet.Await(serverSide))
                    {
                        Assert.Equal(SocketState.Connected, client.State);
                        Assert.True(client.IsEncrypted);
                        Assert.True(peer.IsEncrypted);
                    }
                }
            }
        }

        [Fact]
        public void A_peer_that_accepts_but_never_answers_the_handshake_is_a_connect_timeout_of_the_one_deadline()
        {
            // The listener's backlog completes the TCP handshake; nobody ever speaks TLS on the other side.
            using (NetSocket listener = TestNet.ListenerV4())
            using (NetSocket client = NetSocket.Create(SocketProtocol.Tcp))
            {
                TimeSpan timeout = TimeSpan.FromMilliseconds(300);
                Task<Exception> call = TestNet.Run(() => Record.Exception(() => client.Connect("127.0.0.1", listener.LocalEndPoint.Port, timeout, TestNet.Token, null,
                    new TlsOptions { TargetHost = "localhost", SkipCertificateCheck = true })));
                Exception failure = TestNet.Await(call);
                var timedOut = Assert.IsType<SocketTimeoutException>(failure);
                Assert.Equal(SocketOperation.Connect, timedOut.Operation);
                Assert.True(timedOut.Timeout <= timeout, $"The handshake got {timedOut.Timeout}, more than the call's {timeout}: it must get what the connect left.");
                Assert.Contains("TLS handshake", timedOut.Message);
            }
        }

        [Fact]
        public void Connect_without_TLS_options_leaves_the_socket_plain()
        {
            using (NetSocket listener = TestNet.ListenerV4())
            using (NetSocket client = NetSocket.Create(SocketProtocol.Tcp))
            {
                client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                using (NetSocket peer = listener.Accept(TestNet.Timeout, TestNet.Token))
                {
                    Assert.Equal(SocketState.Connected, client.State);
                    Assert.False(client.IsEncrypted);
                }
            }
        }
    }
}

using System;
using System.Linq;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>
    /// TLS over loopback with a generated certificate, on every runtime the suite runs on. Mono has no CertificateRequest:
    /// there the certificate comes from the openssl program.
    /// </summary>
    public sealed class TlsTests
    {
        private static readonly Lazy<X509Certificate2> s_certificate = new Lazy<X509Certificate2>(TestCertificates.SelfSigned);

        /// <summary>A connected pair with TLS started on both sides (the server with the test certificate).</summary>
        private static Pair Protected(TlsOptions client = null, TlsOptions server = null)
        {
            Pair pair = Pair.Open();
            try
            {
                server = server ?? new TlsOptions();
                server.IsServer = true;
                server.Certificate = server.Certificate ?? s_certificate.Value;
                Task serverSide = TestNet.Run(() => pair.Server.Protect(server, TestNet.Timeout, TestNet.Token));
                pair.Client.Protect(client ?? new TlsOptions { TargetHost = "localhost", SkipCertificateCheck = true }, TestNet.Timeout, TestNet.Token);
                TestNet.Await(serverSide);
                return pair;
            }
            catch
            {
                pair.Dispose();
                throw;
            }
        }

        [RuntimeFact(Tool = "openssl", ToolNeededOn = TestRuntime.Mono)]
        public void A_handshake_with_a_generated_certificate_succeeds_and_reports_what_was_agreed()
        {
            using (Pair pair = Protected())
            {
                Assert.True(pair.Client.IsEncrypted);
                Assert.True(pair.Server.IsEncrypted);
                Assert.True(pair.Server.IsTlsServer);
                Assert.False(pair.Client.IsTlsServer);
                Assert.NotNull(pair.Client.TlsProtocol);
                Assert.NotEqual(SslProtocols.None, pair.Client.TlsProtocol.Value);
                Assert.Equal(pair.Client.TlsProtocol, pair.Server.TlsProtocol);
                Assert.False(string.IsNullOrEmpty(pair.Client.CipherSuite));
                Assert.Equal(s_certificate.Value.Thumbprint, pair.Client.RemoteCertificate.Thumbprint);
            }
        }

        [RuntimeFact(Tool = "openssl", ToolNeededOn = TestRuntime.Mono)]
        public void Without_ALPN_no_application_protocol_is_reported_on_either_side()
        {
            // Mono's SslStream throws PlatformNotSupportedException from NegotiatedApplicationProtocol: that is absent too.
            using (Pair pair = Protected())
            {
                Assert.Null(pair.Client.ApplicationProtocol);
                Assert.Null(pair.Server.ApplicationProtocol);
            }
        }

        [RuntimeFact(Tool = "openssl", ToolNeededOn = TestRuntime.Mono)]
        public void Data_goes_both_ways_through_TLS()
        {
            using (Pair pair = Protected())
            {
                pair.Client.Send(Encoding.ASCII.GetBytes("ping\n"), TestNet.Timeout, TestNet.Token);
                Assert.Equal("ping\n", Encoding.ASCII.GetString(pair.Server.ReceiveExactly(5, TestNet.Timeout, TestNet.Token)));
                pair.Server.Send(Encoding.ASCII.GetBytes("pong\n"), TestNet.Timeout, TestNet.Token);
                Assert.Equal("pong\n", Encoding.ASCII.GetString(pair.Client.ReceiveExactly(5, TestNet.Timeout, TestNet.Token)));
                Assert.Equal(5, pair.Client.BytesSent);
                Assert.Equal(5, pair.Server.BytesSent);
            }
        }

        [RuntimeFact(Tool = "openssl", ToolNeededOn = TestRuntime.Mono)]
        public void One_send_larger_than_the_TLS_write_slice_arrives_whole_and_in_order()
        {
            byte[] data = Bytes.Random((3 * NetSocket.TlsWriteSlice) + 12345, 7);
            using (Pair pair = Protected())
            {
                Task<byte[]> reader = TestNet.Run(() => pair.Server.ReceiveExactly(data.Length, TestNet.Timeout, TestNet.Token));
                pair.Client.Send(data, TestNet.Timeout, TestNet.Token);
                Assert.Equal(Compat.Sha256(data), Compat.Sha256(TestNet.Await(reader)));
                Assert.Equal(data.Length, pair.Client.BytesSent);
            }
        }

        [RuntimeFact(Tool = "openssl", ToolNeededOn = TestRuntime.Mono)]
        public void A_plain_text_peer_fails_the_handshake_with_TlsHandshakeException_and_no_other_exception()
        {
            using (Pair pair = Pair.Open())
            {
                pair.Server.Send(Encoding.ASCII.GetBytes("220 plain text, not TLS\r\n"), TestNet.Timeout, TestNet.Token);
                pair.Server.Close(CloseDirection.Send);
                var e = Assert.ThrowsAny<Exception>(() => pair.Client.Protect(
                    new TlsOptions { TargetHost = "localhost", SkipCertificateCheck = true }, TestNet.Timeout, TestNet.Token));
                Assert.IsType<TlsHandshakeException>(e);
                Assert.False(pair.Client.IsEncrypted);
            }
        }

        [RuntimeFact(Tool = "openssl", ToolNeededOn = TestRuntime.Mono)]
        public void The_socket_stays_non_blocking_under_TLS()
        {
            using (Pair pair = Protected())
            {
                Assert.False(pair.Client.Socket.Blocking);
                Assert.False(pair.Server.Socket.Blocking);
            }
        }

        [Fact]
        public void A_handshake_that_fails_on_a_reset_before_reading_keeps_the_bytes_buffered_before_it()
        {
            using (Pair pair = Pair.Open())
            {
                pair.Server.Send(Encoding.ASCII.GetBytes("line1\nline2\n"), TestNet.Timeout, TestNet.Token);
                Assert.Equal(1, pair.Client.ReceiveRecords(null, "\n", true, 1, 100, TestNet.Timeout, TestNet.Token, (b, o, l) => { }));
                Assert.Equal(6, pair.Client.PendingBytes);
                pair.Server.Abort();

                // A send meets the reset (the first may still go out); bounded by the wait's own timeout.
                TestNet.WaitUntil(() =>
                {
                    try
                    {
                        pair.Client.Send(new byte[] { 1 }, TestNet.Timeout, TestNet.Token);
                        return false;
                    }
                    catch (System.Net.Sockets.SocketException)
                    {
                        return true;
                    }
                }, "a send to see the reset");

                Assert.ThrowsAny<Exception>(() => pair.Client.Protect(
                    new TlsOptions { TargetHost = "localhost", SkipCertificateCheck = true }, TestNet.Timeout, TestNet.Token));
                Assert.False(pair.Client.IsEncrypted);
                Assert.Equal(6, pair.Client.PendingBytes);
            }
        }

        [Theory]
        [InlineData(0, 1, new[] { 0 })]
        [InlineData(5, 5, new[] { 5 })]
        [InlineData(11, 5, new[] { 5, 5, 1 })]
        [InlineData(10, 5, new[] { 5, 5 })]
        public void Slices_cut_a_write_in_order_without_losing_a_byte(int count, int size, int[] expected)
        {
            byte[] buffer = new byte[count + 3];
            var slices = NetSocket.Slices(buffer, 3, count, size).ToList();
            Assert.Equal(expected, slices.Select(s => s.Count));
            int offset = 3;
            foreach (ArraySegment<byte> slice in slices)
            {
                Assert.Same(buffer, slice.Array);
                Assert.Equal(offset, slice.Offset);
                offset += slice.Count;
            }
        }

        [Fact]
        public void The_TLS_write_slice_is_1_MiB()
        {
            Assert.Equal(1024 * 1024, NetSocket.TlsWriteSlice);
        }
    }
}

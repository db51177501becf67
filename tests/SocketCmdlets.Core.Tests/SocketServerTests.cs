using System;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using SocketCmdlets.Server;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    public sealed class SocketServerTests
    {
        /// <summary>Records what the server reports; serves by releasing at once unless told to hold.</summary>
        private sealed class Recorder : ISocketServerSink
        {
            public readonly BlockingCollection<NetSocket> Served = new BlockingCollection<NetSocket>();
            public readonly BlockingCollection<RejectReason> Rejections = new BlockingCollection<RejectReason>();
            public readonly BlockingCollection<Exception> Failures = new BlockingCollection<Exception>();
            public readonly ManualResetEventSlim Done = new ManualResetEventSlim();
            public Exception EndError;

            public void Serve(NetSocket connection) => Served.Add(connection);

            public void Rejected(IPEndPoint client, RejectReason reason) => Rejections.Add(reason);

            public void Failed(NetSocket connection, Exception error) => Failures.Add(error);

            public void Ended(Exception error)
            {
                EndError = error;
                Done.Set();
            }
        }

        private static Socket Client(NetSocket listener, IPAddress from = null)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            if (from != null)
            {
                client.Bind(new IPEndPoint(from, 0));
            }

            client.Connect(IPAddress.Loopback, listener.LocalEndPoint.Port);
            return client;
        }

        private static bool SeesEnd(Socket client)
        {
            client.ReceiveTimeout = 10000;
            try
            {
                return client.Receive(new byte[16]) == 0;
            }
            catch (SocketException e)
            {
                return e.SocketErrorCode == SocketError.ConnectionReset;
            }
        }

        [Fact]
        public void Serves_each_connection_and_counts_it()
        {
            var sink = new Recorder();
            NetSocket listener = TestNet.ListenerV4();
            var server = new SocketServer(listener, new SocketServerOptions(), sink);
            server.Start();
            try
            {
                using (Socket a = Client(listener))
                using (Socket b = Client(listener))
                {
                    Assert.True(sink.Served.TryTake(out NetSocket first, TestNet.TaskBound));
                    Assert.True(sink.Served.TryTake(out NetSocket second, TestNet.TaskBound));
                    Assert.Equal(2, server.ActiveConnections);
                    Assert.Equal(2, server.TotalConnections);
                    server.Release(first);
                    Assert.Equal(1, server.ActiveConnections);
                    Assert.Equal(SocketState.Closed, first.State);
                    Socket firstClient = ((IPEndPoint)a.LocalEndPoint).Port == first.RemoteEndPoint.Port ? a : b;
                    Assert.True(SeesEnd(firstClient));
                    server.Release(second);
                }
            }
            finally
            {
                server.Stop(TestNet.Timeout);
            }
        }

        [Fact]
        public void Rejects_beyond_MaxConnections_and_closes_at_once()
        {
            var sink = new Recorder();
            NetSocket listener = TestNet.ListenerV4();
            var server = new SocketServer(listener, new SocketServerOptions { MaxConnections = 1 }, sink);
            server.Start();
            try
            {
                using (Socket a = Client(listener))
                {
                    Assert.True(sink.Served.TryTake(out NetSocket first, TestNet.TaskBound));
                    using (Socket b = Client(listener))
                    {
                        Assert.True(sink.Rejections.TryTake(out RejectReason reason, TestNet.TaskBound));
                        Assert.Equal(RejectReason.MaxConnections, reason);
                        Assert.True(SeesEnd(b));
                        Assert.Equal(1, server.RejectedConnections);
                        Assert.Equal(1, server.TotalConnections);
                    }

                    server.Release(first);
                }
            }
            finally
            {
                server.Stop(TestNet.Timeout);
            }
        }

        [Fact]
        public void Rejects_addresses_the_filter_refuses()
        {
            var sink = new Recorder();
            NetSocket listener = TestNet.ListenerV4();
            var options = new SocketServerOptions { Filter = AddressFilter.Create(null, new[] { "127.0.0.0/8" }) };
            var server = new SocketServer(listener, options, sink);
            server.Start();
            try
            {
                using (Socket a = Client(listener))
                {
                    Assert.True(sink.Rejections.TryTake(out RejectReason reason, TestNet.TaskBound));
                    Assert.Equal(RejectReason.Address, reason);
                    Assert.True(SeesEnd(a));
                    Assert.Equal(0, server.TotalConnections);
                    Assert.Empty(sink.Served);
                }
            }
            finally
            {
                server.Stop(TestNet.Timeout);
            }
        }

        [Fact]
        public void Stop_frees_the_port_at_once_and_closes_open_connections()
        {
            var sink = new Recorder();
            NetSocket listener = TestNet.ListenerV4();
            int port = listener.LocalEndPoint.Port;
            var server = new SocketServer(listener, new SocketServerOptions(), sink);
            server.Start();
            using (Socket a = Client(listener))
            {
                Assert.True(sink.Served.TryTake(out NetSocket held, TestNet.TaskBound));
                server.Stop(TestNet.Timeout);
                Assert.True(sink.Done.Wait(TestNet.TaskBound));
                Assert.Null(sink.EndError);
                Assert.Equal(SocketState.Closed, listener.State);
                using (NetSocket again = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork).Bind(IPAddress.Loopback, port).Listen())
                {
                    Assert.Equal(port, again.LocalEndPoint.Port);
                }

                Assert.Equal(SocketState.Connected, held.State);
                server.CloseConnections();
                Assert.Equal(SocketState.Closed, held.State);
                Assert.True(SeesEnd(a));
            }
        }

        [Fact]
        public void A_listener_closed_from_outside_ends_the_loop_with_an_error()
        {
            var sink = new Recorder();
            NetSocket listener = TestNet.ListenerV4();
            var server = new SocketServer(listener, new SocketServerOptions(), sink);
            server.Start();
            listener.Close();
            Assert.True(sink.Done.Wait(TestNet.TaskBound));
            Assert.NotNull(sink.EndError);
            server.Stop(TestNet.Timeout);
        }

        [Fact]
        public void A_failed_TLS_handshake_is_reported_and_the_server_goes_on()
        {
            var sink = new Recorder();
            NetSocket listener = TestNet.ListenerV4();
            var certificate = TestCertificate();
            var options = new SocketServerOptions
            {
                Tls = new TlsOptions { IsServer = true, Certificate = certificate },
                HandshakeTimeout = TimeSpan.FromSeconds(10),
            };
            var server = new SocketServer(listener, options, sink);
            server.Start();
            try
            {
                using (Socket plain = Client(listener))
                {
                    plain.Send(System.Text.Encoding.ASCII.GetBytes("GET / HTTP/1.0\r\n\r\n"));
                    Assert.True(sink.Failures.TryTake(out Exception error, TestNet.TaskBound));
                    Assert.IsType<TlsHandshakeException>(error);
                    Assert.True(SeesEnd(plain));
                    Assert.Equal(0, server.ActiveConnections);
                }

                using (Socket again = Client(listener))
                using (var tls = new System.Net.Security.SslStream(new NetworkStream(again), false, (s, c, ch, e) => true))
                {
                    tls.AuthenticateAsClient("localhost");
                    Assert.True(sink.Served.TryTake(out NetSocket served, TestNet.TaskBound));
                    Assert.True(served.IsEncrypted);
                    server.Release(served);
                }
            }
            finally
            {
                server.Stop(TestNet.Timeout);
            }
        }

        private static System.Security.Cryptography.X509Certificates.X509Certificate2 TestCertificate() => TestCertificates.SelfSigned();
    }
}

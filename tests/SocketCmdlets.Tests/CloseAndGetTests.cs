using System;
using System.Linq;
using System.Management.Automation;
using System.Net;
using Xunit;

namespace SocketCmdlets.Tests
{
    public sealed class CloseSocketTests : IClassFixture<RunspaceFixture>
    {
        private readonly RunspaceFixture _ps;

        public CloseSocketTests(RunspaceFixture ps) => _ps = ps;

        [Fact]
        public void Close_Socket_closes_piped_sockets_and_emits_nothing()
        {
            using (Pair pair = Pair.Open())
            {
                TestNet.Send(pair.Client, "12345");
                TestNet.Receive(pair.Server, 5);
                RunResult result = _ps.Run("$a, $b | Close-Socket -Verbose", ("a", pair.Client), ("b", pair.Server)).NoErrors();
                Assert.Empty(result.Output);
                Assert.Equal(SocketState.Closed, pair.Client.State);
                Assert.Equal(SocketState.Closed, pair.Server.State);
                Assert.Null(SocketRegistry.Find(pair.Client.Id));
                Assert.Contains(result.Verbose, v => v.StartsWith($"Closed socket {pair.Client.Id}", StringComparison.Ordinal)
                    && v.Contains(NetSocket.Format(pair.Client.RemoteEndPoint)) && v.Contains("sent 5 and received 0 bytes"));
                Assert.Contains(result.Verbose, v => v.StartsWith($"Closed socket {pair.Server.Id}", StringComparison.Ordinal) && v.Contains("sent 0 and received 5 bytes"));
            }
        }

        [Fact]
        public void Close_Socket_twice_is_harmless()
        {
            NetSocket socket = NetSocket.Create();
            RunResult result = _ps.Run("$s | Close-Socket; $s | Close-Socket; Close-Socket -Socket $s -PassThru", ("s", socket)).NoErrors();
            Assert.Same(socket, result.Single<NetSocket>());
            Assert.Equal(SocketState.Closed, socket.State);
        }

        [Fact]
        public void Close_Socket_by_Id_takes_several_ids_and_reports_unknown_ones()
        {
            NetSocket a = NetSocket.Create();
            NetSocket b = NetSocket.Create();
            RunResult result = _ps.Run($"Close-Socket -Id {a.Id}, 2000000000, {b.Id} -PassThru");
            Assert.Equal(new object[] { a, b }, result.Objects);
            TestNet.AssertError(Assert.Single(result.Errors), "SocketNotFound", "CloseSocketCommand", ErrorCategory.ObjectNotFound, 2000000000);
            Assert.Contains("Get-Socket", result.Errors[0].ErrorDetails.Message);
            Assert.Equal(SocketState.Closed, a.State);
            Assert.Equal(SocketState.Closed, b.State);
        }

        [Fact]
        public void Direction_Send_half_closes_the_peer_reads_end_of_stream_and_this_side_still_receives()
        {
            using (Pair pair = Pair.Open())
            {
                RunResult result = _ps.Run("'request' | Send-SocketData -Socket $c; $c | Close-Socket -Direction Send -PassThru -Verbose", ("c", pair.Client)).NoErrors();
                Assert.Same(pair.Client, result.Single<NetSocket>());
                Assert.Equal(SocketState.HalfClosed, pair.Client.State);
                Assert.Contains(result.Verbose, v => v.Contains("half-close"));

                RunResult server = _ps.Run("$s | Receive-SocketData -ToEnd -TimeoutSec 10", ("s", pair.Server)).NoErrors();
                Assert.Equal("request", string.Concat(server.Objects));
                Assert.True(pair.Server.EndOfStream);

                TestNet.Send(pair.Server, "response");
                Assert.Equal("response", _ps.Run("$c | Receive-SocketData -TimeoutSec 10", ("c", pair.Client)).NoErrors().Single<string>());

                RunResult send = _ps.Run("$c | Send-SocketData -Data 'more'", ("c", pair.Client));
                TestNet.AssertError(Assert.Single(send.Errors), "InvalidSocketState", "SendSocketDataCommand", ErrorCategory.InvalidOperation, pair.Client);
            }
        }

        [Fact]
        public void Direction_Send_on_a_socket_that_is_not_connected_is_InvalidSocketState()
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            RunResult result = _ps.Run("$s | Close-Socket -Direction Send", ("s", socket));
            TestNet.AssertError(Assert.Single(result.Errors), "InvalidSocketState", "CloseSocketCommand", ErrorCategory.InvalidOperation, socket);
            Assert.Equal(SocketState.Created, socket.State);
        }

        [Fact]
        public void Close_Socket_ignores_null_and_empty_input()
        {
            _ps.Run("Close-Socket -Socket $null; Close-Socket -Socket @(); $null | Close-Socket").NoErrors();
        }
    }

    public sealed class GetSocketTests : IClassFixture<RunspaceFixture>
    {
        private readonly RunspaceFixture _ps;

        public GetSocketTests(RunspaceFixture ps) => _ps = ps;

        [Fact]
        public void Get_Socket_lists_open_sockets_by_id_name_and_state()
        {
            string tag = "get" + Guid.NewGuid().ToString("N").Substring(0, 8);
            NetSocket created = _ps.Own(NetSocket.Create(name: tag + "-created"));
            NetSocket bound = _ps.Own(NetSocket.Create(name: tag + "-bound").Bind(IPAddress.Loopback, 0));
            NetSocket listening = _ps.Own(NetSocket.Create(name: tag + "-listening").Bind(IPAddress.Loopback, 0).Listen());
            NetSocket closed = NetSocket.Create(name: tag + "-closed");
            closed.Close();

            Assert.Equal(new object[] { created, bound, listening }, _ps.Run($"Get-Socket -Name '{tag}-*'").NoErrors().Objects);
            Assert.Equal(new object[] { bound }, _ps.Run($"Get-Socket -Name '{tag.ToUpperInvariant()}-BOUND'").NoErrors().Objects);
            Assert.Equal(new object[] { created, listening }, _ps.Run($"Get-Socket -Id {created.Id}, {listening.Id}, {closed.Id}").NoErrors().Objects);
            Assert.Equal(new object[] { bound, listening }, _ps.Run($"Get-Socket -Name '{tag}-*' -State Bound, Listening").NoErrors().Objects);
            Assert.Equal(new object[] { listening }, _ps.Run($"Get-Socket {listening.Id} -State Listening").NoErrors().Objects);
            Assert.Empty(_ps.Run($"Get-Socket -Id {created.Id} -State Connected").NoErrors().Output);
            Assert.Empty(_ps.Run($"Get-Socket -Name '{tag}-closed'").NoErrors().Output);

            // Every open socket, without this test's closed one. (Other tests run at the same time and close their own
            // sockets while this one looks, so the states of theirs are not judged here.)
            RunResult all = _ps.Run("Get-Socket").NoErrors();
            Assert.Contains(created, all.Objects);
            Assert.Contains(listening, all.Objects);
            Assert.DoesNotContain(closed, all.Objects);
        }

        [Fact]
        public void Get_Socket_output_pipes_into_Close_Socket()
        {
            string tag = "pipe" + Guid.NewGuid().ToString("N").Substring(0, 8);
            NetSocket a = NetSocket.Create(name: tag);
            NetSocket b = NetSocket.Create(name: tag);
            _ps.Run($"Get-Socket -Name {tag} | Close-Socket").NoErrors();
            Assert.Equal(SocketState.Closed, a.State);
            Assert.Equal(SocketState.Closed, b.State);
        }

        [Fact]
        public void Sockets_piped_to_Get_Socket_come_back_while_open()
        {
            NetSocket open = _ps.Own(NetSocket.Create());
            NetSocket named = _ps.Own(NetSocket.Create(name: "piped-" + Guid.NewGuid().ToString("N")));
            NetSocket closed = NetSocket.Create();
            closed.Close();
            RunResult result = _ps.Run("$a, $b, $c | Get-Socket", ("a", open), ("b", named), ("c", closed)).NoErrors();
            Assert.Equal(new object[] { open, named }, result.Objects);
        }

        [Fact]
        public void Get_Socket_rejects_an_unknown_state()
        {
            RunResult result = _ps.Run("Get-Socket -State Sleeping");
            Assert.Equal("CannotConvertArgumentNoMessage,SocketCmdlets.Commands.GetSocketCommand", Assert.Single(result.Errors).FullyQualifiedErrorId);
        }
    }
}

using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using Xunit;

namespace SocketCmdlets.Tests
{
    /// <summary>Ctrl+C: a blocked call stops within a generous bound and leaves no error behind.</summary>
    public sealed class StopTests : IClassFixture<RunspaceFixture>
    {
        private readonly RunspaceFixture _ps;

        public StopTests(RunspaceFixture ps) => _ps = ps;

        private void StopWhileBlocked(string script, Func<PowerShell, bool> blocked, params (string Name, object Value)[] variables) =>
            StopCheck.StopWhileBlocked(_ps, script, blocked, variables);

        private static bool SaysItWaits(PowerShell ps) => ps.Streams.Verbose.Count > 0;

        [Fact]
        public void Ctrl_C_ends_a_blocked_Receive_SocketData_and_the_socket_stays_usable()
        {
            using (Pair pair = Pair.Open())
            {
                StopWhileBlocked("$s | Receive-SocketData -Verbose", SaysItWaits, ("s", pair.Server));
                Assert.Equal(SocketState.Connected, pair.Server.State);

                TestNet.Send(pair.Client, "after");
                Assert.Equal("after", _ps.Run("$s | Receive-SocketData -TimeoutSec 10", ("s", pair.Server)).NoErrors().Single<string>());
            }
        }

        [Fact]
        public void Ctrl_C_ends_a_blocked_Receive_SocketData_Line_with_a_partial_record_kept()
        {
            using (Pair pair = Pair.Open())
            {
                TestNet.Send(pair.Client, "partial");
                StopWhileBlocked("$s | Receive-SocketData -Line -Verbose", ps => SaysItWaits(ps) && pair.Server.BytesReceived == 7, ("s", pair.Server));
                TestNet.Send(pair.Client, " line\n");
                Assert.Equal("partial line", _ps.Run("$s | Receive-SocketData -Line -TimeoutSec 10", ("s", pair.Server)).NoErrors().Single<string>());
            }
        }

        [Fact]
        public void Ctrl_C_ends_a_blocked_Receive_SocketConnection()
        {
            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            StopWhileBlocked("$l | Receive-SocketConnection -Verbose", SaysItWaits, ("l", listener));
            Assert.Equal(SocketState.Listening, listener.State);
        }

        [Fact]
        public void Ctrl_C_ends_a_blocked_Receive_SocketConnection_Continuous()
        {
            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            StopWhileBlocked("$l | Receive-SocketConnection -Continuous -Verbose", SaysItWaits, ("l", listener));
        }

        [Fact]
        public void Ctrl_C_ends_a_blocked_Connect_Socket_and_closes_the_socket_it_made()
        {
            using (var full = new FullListener())
            {
                string name = "stopped-" + Guid.NewGuid().ToString("N");
                StopWhileBlocked($"Connect-Socket -ComputerName 127.0.0.1 -Port {full.Port} -Name {name} -Verbose", SaysItWaits);
                Assert.DoesNotContain(SocketRegistry.Snapshot(), s => s.Name == name);
            }
        }

        [Fact]
        public void A_Ctrl_C_that_comes_after_the_command_was_disposed_is_harmless()
        {
            // PowerShell may call StopProcessing on its own thread while the pipeline ends and disposes its commands.
            var command = new SocketCmdlets.Commands.SendSocketDataCommand();
            ((IDisposable)command).Dispose();
            System.Reflection.MethodInfo stop = typeof(Cmdlet).GetMethod("StopProcessing", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic);
            Exception thrown = Record.Exception(() => stop.Invoke(command, null));
            Assert.Null(thrown?.InnerException ?? thrown);
        }

        [Fact]
        public void Ctrl_C_ends_a_Send_SocketData_the_peer_does_not_read()
        {
            using (Pair pair = Pair.Open())
            {
                byte[] big = new byte[64 * 1024 * 1024];
                long sent = 0;
                StopWhileBlocked("Send-SocketData -Socket $c -Data $d", _ =>
                {
                    // Blocked once the count stops moving.
                    long now = pair.Client.BytesSent;
                    bool stuck = now > 0 && now == Interlocked.Exchange(ref sent, now);
                    Thread.Sleep(100);
                    return stuck;
                }, ("c", pair.Client), ("d", big));
                Assert.True(pair.Client.BytesSent < big.Length);
            }
        }
    }
}

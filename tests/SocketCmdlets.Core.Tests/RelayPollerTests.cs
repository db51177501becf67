using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>
    /// The wait of the plain relay pump: poll(2) on Linux with .NET (native), Socket.Select elsewhere and when asked
    /// (native: false), both run here on every platform. Each case waits with a long timeout, so a missing wake-up fails
    /// the test instead of passing after the timeout.
    /// </summary>
    public class RelayPollerTests
    {
        private const int Long = 10_000;
        private const PollEvents ReadReady = PollEvents.Read | PollEvents.Error | PollEvents.HangUp;

        [Fact]
        public void Uses_poll_on_Linux_with_dotnet_and_Select_elsewhere()
        {
            using (var pair = Pair.Open())
            {
                bool expected = RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && !RuntimeFacts.IsMono;
                Assert.Equal(expected, new RelayPoller(pair.Client.Socket, pair.Server.Socket).IsNative);
                Assert.False(new RelayPoller(pair.Client.Socket, pair.Server.Socket, native: false).IsNative);
            }
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Reports_nothing_when_nothing_is_ready_within_the_timeout(bool native)
        {
            using (var pair = Pair.Open())
            {
                var poller = new RelayPoller(pair.Client.Socket, pair.Server.Socket, native);
                poller.Wait(PollEvents.Read, PollEvents.Read, 20, out PollEvents first, out PollEvents second);
                Assert.Equal(PollEvents.None, first);
                Assert.Equal(PollEvents.None, second);
            }
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Reports_bytes_to_read_on_the_socket_that_has_them_only(bool native)
        {
            using (var a = Pair.Open())
            using (var b = Pair.Open())
            {
                var poller = new RelayPoller(a.Server.Socket, b.Server.Socket, native);
                b.Client.Send(new byte[] { 1, 2, 3 }, TestNet.Timeout, TestNet.Token);
                poller.Wait(PollEvents.Read, PollEvents.Read, Long, out PollEvents first, out PollEvents second);
                Assert.Equal(PollEvents.None, first);
                Assert.Equal(PollEvents.Read, second & PollEvents.Read);
                Assert.Equal(3, b.Server.Socket.Receive(new byte[8]));
            }
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Reports_room_to_write_and_reading_and_writing_together(bool native)
        {
            using (var a = Pair.Open())
            using (var b = Pair.Open())
            {
                var poller = new RelayPoller(a.Server.Socket, b.Server.Socket, native);
                poller.Wait(PollEvents.Write, PollEvents.None, Long, out PollEvents first, out PollEvents second);
                Assert.Equal(PollEvents.Write, first);
                Assert.Equal(PollEvents.None, second);

                a.Client.Send(new byte[] { 9 }, TestNet.Timeout, TestNet.Token);
                WaitFor(poller, PollEvents.Read | PollEvents.Write, PollEvents.None, PollEvents.Read, out first, out second);
                Assert.Equal(PollEvents.Read | PollEvents.Write, first & (PollEvents.Read | PollEvents.Write));
            }
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Reports_the_end_of_the_stream_as_readable(bool native)
        {
            using (var a = Pair.Open())
            using (var b = Pair.Open())
            {
                var poller = new RelayPoller(a.Server.Socket, b.Server.Socket, native);
                a.Client.Close(CloseDirection.Send);
                poller.Wait(PollEvents.Read, PollEvents.Read, Long, out PollEvents first, out PollEvents second);
                Assert.NotEqual(PollEvents.None, first & ReadReady);
                Assert.Equal(PollEvents.None, second);
                Assert.Equal(0, a.Server.Socket.Receive(new byte[8]));
            }
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Reports_a_reset_as_ready_and_the_read_gets_the_error(bool native)
        {
            using (var a = Pair.Open())
            using (var b = Pair.Open())
            {
                var poller = new RelayPoller(a.Server.Socket, b.Server.Socket, native);
                a.Client.Abort();
                poller.Wait(PollEvents.Read, PollEvents.Read, Long, out PollEvents first, out PollEvents _);
                Assert.NotEqual(PollEvents.None, first & ReadReady);
                var e = Assert.Throws<SocketException>(() => a.Server.Socket.Receive(new byte[8]));
                Assert.Equal(SocketError.ConnectionReset, e.SocketErrorCode);
            }
        }

        [Fact]
        public void Leaves_out_a_socket_with_nothing_wanted_even_when_it_has_an_error()
        {
            using (var a = Pair.Open())
            using (var b = Pair.Open())
            {
                var poller = new RelayPoller(a.Server.Socket, b.Server.Socket);
                a.Client.Abort();

                // The reset is there (a wait for it returns it), but with nothing wanted it must not wake the pump:
                // a pump that ignored it would spin on a ready socket it never reads.
                poller.Wait(PollEvents.Read, PollEvents.None, Long, out PollEvents first, out PollEvents _);
                Assert.NotEqual(PollEvents.None, first & ReadReady);
                poller.Wait(PollEvents.None, PollEvents.Read, 20, out first, out PollEvents second);
                Assert.Equal(PollEvents.None, first);
                Assert.Equal(PollEvents.None, second);
            }
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void A_close_from_another_thread_ends_a_long_wait(bool native)
        {
            // What a stop, an idle timeout or Ctrl+C does to a waiting pump: RelaySide.Close shuts the socket down and
            // closes it on another thread. The wait must end then, not after its timeout.
            using (var a = Pair.Open())
            using (var b = Pair.Open())
            {
                var poller = new RelayPoller(a.Server.Socket, b.Server.Socket, native);
                Task<PollEvents> waiting = TestNet.Run(() =>
                {
                    try
                    {
                        poller.Wait(PollEvents.Read, PollEvents.Read, 60_000, out PollEvents first, out PollEvents _);
                        return first;
                    }
                    catch (Exception e) when (e is ObjectDisposedException || e is SocketException)
                    {
                        return PollEvents.Invalid;
                    }
                });

                // Nothing is ready: the wait goes on (a wait that ended at once would prove nothing below).
                TestNet.WaitUntil(() => waiting.Status == TaskStatus.Running, "the wait started");
                Assert.False(waiting.IsCompleted);
                a.Server.Socket.Shutdown(SocketShutdown.Both);
                a.Server.Close();
                Assert.NotEqual(PollEvents.None, TestNet.Await(waiting));
            }
        }

        [RuntimeTheory(TestRuntime.Mono, "Mono's Socket.Select (its only wait here) returns for a closed socket instead of throwing; the pump's next call on the socket throws there")]
        [InlineData(true)]
        [InlineData(false)]
        public void A_wait_on_a_closed_socket_fails_instead_of_polling_a_reused_descriptor(bool native)
        {
            using (var a = Pair.Open())
            using (var b = Pair.Open())
            {
                var poller = new RelayPoller(a.Server.Socket, b.Server.Socket, native);
                a.Server.Close();
                Exception e = Record.Exception(() => poller.Wait(PollEvents.Read, PollEvents.Read, Long, out PollEvents _, out PollEvents _));
                Assert.True(e is ObjectDisposedException || e is SocketException, $"Expected ObjectDisposedException or SocketException, got {e?.GetType().Name ?? "none"}.");
            }
        }

        /// <summary>Waits until <paramref name="expect"/> is all there on the first socket (bytes may come in two steps).</summary>
        private static void WaitFor(RelayPoller poller, PollEvents wantFirst, PollEvents wantSecond, PollEvents expect, out PollEvents first, out PollEvents second)
        {
            first = second = PollEvents.None;
            for (int i = 0; i < 100 && (first & expect) != expect; i++)
            {
                poller.Wait(wantFirst, wantSecond, Long, out first, out second);
            }
        }
    }
}

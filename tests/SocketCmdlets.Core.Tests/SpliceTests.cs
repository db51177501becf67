using System.Linq;
using System.Runtime.InteropServices;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>The zero-copy path of the plain relay: socket -> pipe -> socket with splice(2), on Linux.</summary>
    public class SpliceTests
    {
        [RuntimeFact(TestRuntime.Mono | TestRuntime.NetFramework, "splice(2) is used on .NET on Linux only (Mono's socket handles follow another layout)")]
        public void A_pipe_moves_what_one_socket_received_into_another_whole_and_in_order()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                // Elsewhere the relay copies through its buffer: there is no pipe to make.
                Assert.Null(SplicePipe.TryCreate(1 << 20));
                return;
            }

            using (var from = Pair.Open())
            using (var to = Pair.Open())
            using (SplicePipe pipe = SplicePipe.TryCreate(1 << 20))
            {
                Assert.NotNull(pipe);
                Assert.Equal(-1, pipe.Fill(from.Server.Socket, 1 << 20));
                byte[] data = Bytes.Random(300_000, 12);
                from.Client.Send(data, TestNet.Timeout, TestNet.Token);
                from.Client.Close(CloseDirection.Send);
                int total = 0;
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (clock.Elapsed < TestNet.Timeout)
                {
                    int n = pipe.Fill(from.Server.Socket, 1 << 20);
                    if (n == 0)
                    {
                        break;
                    }

                    while (pipe.Pending > 0 && clock.Elapsed < TestNet.Timeout)
                    {
                        int m = pipe.Drain(to.Client.Socket);
                        if (m > 0)
                        {
                            total += m;
                        }
                    }
                }

                Assert.Equal(data.Length, total);
                to.Client.Close(CloseDirection.Send);
                Assert.True(data.SequenceEqual(to.Server.ReceiveExactly(data.Length, TestNet.Timeout, TestNet.Token)));
            }
        }
    }
}

using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Tests
{
    /// <summary>Invoke-SocketRequest and Receive-SocketData -ReadCount, in a real runspace.</summary>
    public sealed class ConversationTests : IClassFixture<RunspaceFixture>, IDisposable
    {
        private readonly RunspaceFixture _ps;
        private readonly Pair _pair;

        public ConversationTests(RunspaceFixture ps)
        {
            _ps = ps;
            _pair = Pair.Open();
        }

        public void Dispose() => _pair.Dispose();

        /// <summary>
        /// The server side answers each line with its upper case, <paramref name="replies"/> times, then shuts down its
        /// sending side (a half-close: what the client sends after that is still taken in, not answered with a reset).
        /// </summary>
        private Task UpperCaseServer(int replies) => Task.Run(() =>
        {
            for (int i = 0; i < replies; i++)
            {
                string line = null;
                _pair.Server.ReceiveRecords(Encoding.UTF8, "\n", true, 1, 1024, TestNet.Timeout, TestNet.Token,
                    (b, o, n) => line = Encoding.UTF8.GetString(b, o, n));
                if (line == null)
                {
                    return;
                }

                TestNet.Send(_pair.Server, line.ToUpperInvariant() + "\n");
            }

            _pair.Server.Close(CloseDirection.Send);
        });

        [Fact]
        public void Invoke_SocketRequest_writes_each_reply_in_the_order_of_the_requests()
        {
            Task server = UpperCaseServer(3);
            RunResult result = _ps.Run("'one', 'two', 'three' | Invoke-SocketRequest -Socket $s -AppendNewLine -Line -TimeoutSec 10", ("s", _pair.Client)).NoErrors();
            TestNet.Await(server);
            Assert.Equal(new object[] { "ONE", "TWO", "THREE" }, result.Objects);
        }

        [Fact]
        public void Invoke_SocketRequest_ends_with_NoReply_and_sends_nothing_more_when_the_peer_hangs_up()
        {
            Task server = UpperCaseServer(1);
            RunResult result = _ps.Run("'one', 'two', 'three' | Invoke-SocketRequest -Socket $s -AppendNewLine -Line -TimeoutSec 10", ("s", _pair.Client));
            TestNet.Await(server);

            Assert.Equal(new object[] { "ONE" }, result.Objects);
            TestNet.AssertError(Assert.Single(result.Errors), "NoReply", "InvokeSocketRequestCommand", System.Management.Automation.ErrorCategory.ReadError);
            Assert.Equal(Encoding.UTF8.GetByteCount("one\ntwo\n"), _pair.Client.BytesSent);
        }

        [Fact]
        public void ReadCount_writes_records_in_arrays_that_together_hold_every_line()
        {
            string[] lines = Enumerable.Range(1, 1000).Select(i => "line " + i).ToArray();
            TestNet.Send(_pair.Client, string.Join("\n", lines) + "\n");
            _pair.Client.Close(CloseDirection.Send);

            RunResult result = _ps.Run("$s | Receive-SocketData -Line -ToEnd -ReadCount 64 -TimeoutSec 10", ("s", _pair.Server)).NoErrors();

            string[][] batches = result.Objects.Cast<string[]>().ToArray();
            Assert.All(batches, b => Assert.InRange(b.Length, 1, 64));
            Assert.Equal(lines, batches.SelectMany(b => b));
        }
    }
}

using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Tests
{
    public sealed class SendSocketDataTests : IClassFixture<RunspaceFixture>, IDisposable
    {
        private readonly RunspaceFixture _ps;
        private readonly Pair _pair;

        public SendSocketDataTests(RunspaceFixture ps)
        {
            _ps = ps;
            _pair = Pair.Open();
        }

        public void Dispose() => _pair.Dispose();

        private NetSocket Client => _pair.Client;

        private NetSocket Server => _pair.Server;

        /// <summary>What the peer got, once this side has finished sending.</summary>
        private byte[] Received()
        {
            Client.Close(CloseDirection.Send);
            return TestNet.ReceiveAll(Server);
        }

        private string ReceivedText() => Encoding.UTF8.GetString(Received());

        [Fact]
        public void Data_piped_to_a_named_socket_is_sent_in_order()
        {
            _ps.Run("'hello', ' ', 'world' | Send-SocketData -Socket $c", ("c", Client)).NoErrors();
            Assert.Equal("hello world", ReceivedText());
            Assert.Equal(11, Client.BytesSent);
        }

        [Fact]
        public void Sockets_piped_to_named_data_each_get_the_data()
        {
            using (Pair other = Pair.Open())
            {
                RunResult result = _ps.Run("$a, $b | Send-SocketData -Data 'ping'", ("a", Client), ("b", other.Client)).NoErrors();
                Assert.Empty(result.Output);
                Assert.Equal("ping", ReceivedText());
                other.Client.Close(CloseDirection.Send);
                Assert.Equal("ping", Encoding.UTF8.GetString(TestNet.ReceiveAll(other.Server)));
            }
        }

        [Fact]
        public void PassThru_emits_the_socket_in_both_pipeline_forms()
        {
            RunResult dataPiped = _ps.Run("'a' | Send-SocketData -Socket $c -PassThru", ("c", Client)).NoErrors();
            Assert.Same(Client, dataPiped.Single<NetSocket>());
            RunResult socketPiped = _ps.Run("$c | Send-SocketData -Data 'b' -PassThru", ("c", Client)).NoErrors();
            Assert.Same(Client, socketPiped.Single<NetSocket>());
            Assert.Equal("ab", ReceivedText());
        }

        [Fact]
        public void PassThru_emits_every_piped_socket()
        {
            using (Pair other = Pair.Open())
            {
                RunResult two = _ps.Run("$c, $d | Send-SocketData -Data 'c' -PassThru", ("c", Client), ("d", other.Client)).NoErrors();
                Assert.Equal(new object[] { Client, other.Client }, two.Objects);
            }
        }

        [Fact]
        public void A_piped_socket_gets_its_data_at_once_not_when_the_next_input_comes()
        {
            // A server loop that greets each client: the greeting must not wait for the next client.
            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            PowerShell ps = PowerShell.Create();
            ps.Runspace = _ps.Runspace;
            ps.AddScript("param($l) $l | Receive-SocketConnection -Continuous | Send-SocketData -Data 'hello' -PassThru").AddArgument(listener);
            var output = new PSDataCollection<PSObject>();
            IAsyncResult pending = ps.BeginInvoke<PSObject, PSObject>(null, output);
            Exception failure = null;
            try
            {
                using (NetSocket client = NetSocket.Create())
                {
                    client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                    failure = Record.Exception(() => Assert.Equal("hello", Encoding.UTF8.GetString(client.ReceiveExactly(5, TimeSpan.FromSeconds(3), TestNet.Token))));
                    if (failure == null)
                    {
                        TestNet.WaitUntil(() => output.Count == 1, "the greeted socket is passed on");
                    }
                }
            }
            finally
            {
                bool stopped = ps.BeginStop(null, null).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10));
                for (int i = 0; i < output.Count; i++)
                {
                    _ps.Own(output[i].BaseObject);
                }

                if (stopped)
                {
                    ps.Dispose();
                }
            }

            Assert.Null(failure);
        }

        [Fact]
        public void Send_SocketData_by_Id()
        {
            RunResult result = _ps.Run($"'x', 'y' | Send-SocketData -Id {Client.Id} -PassThru").NoErrors();
            Assert.Same(Client, result.Single<NetSocket>());
            Assert.Equal("xy", ReceivedText());
        }

        [Fact]
        public void AppendNewLine_ends_each_string_with_LF_or_the_given_NewLine()
        {
            _ps.Run("'a', 'b' | Send-SocketData -Socket $c -AppendNewLine; 'c' | Send-SocketData -Socket $c -AppendNewLine -NewLine \"`r`n\"", ("c", Client)).NoErrors();
            Assert.Equal("a\nb\nc\r\n", ReceivedText());
        }

        [Fact]
        public void A_byte_array_is_sent_as_it_is()
        {
            byte[] data = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
            _ps.Run("Send-SocketData -Socket $c -Data $d; ,$d | Send-SocketData -Socket $c", ("c", Client), ("d", data)).NoErrors();
            Assert.Equal(data.Concat(data), Received());
        }

        [Fact]
        public void Single_bytes_from_the_pipeline_are_gathered_into_one_send()
        {
            byte[] data = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
            RunResult result = _ps.Run("$d | Send-SocketData -Socket $c -Verbose", ("c", Client), ("d", data)).NoErrors();
            Assert.Equal(data, Received());

            // One flush at the end: one "Sent" message for all 1000 bytes.
            string sent = Assert.Single(result.Verbose, v => v.StartsWith("Sent", StringComparison.Ordinal));
            Assert.Contains("Sent 1000 bytes", sent);
            Assert.Contains(NetSocket.Format(Client.RemoteEndPoint), sent);
        }

        [Fact]
        public void Other_objects_are_sent_as_text_and_collections_item_by_item()
        {
            _ps.Run("Send-SocketData -Socket $c -Data 42; Send-SocketData -Socket $c -Data @('x', 1, [char]'y'); $null | Send-SocketData -Socket $c", ("c", Client)).NoErrors();
            Assert.Equal("42x1y", ReceivedText());
        }

        [Fact]
        public void Unbuffered_sends_each_input_as_it_comes()
        {
            RunResult result = _ps.Run("'a', 'b', 'c' | Send-SocketData -Socket $c -Unbuffered -Verbose", ("c", Client)).NoErrors();
            Assert.Equal(3, result.Verbose.Count(v => v.StartsWith("Sent 1 bytes", StringComparison.Ordinal)));
            Assert.Equal("abc", ReceivedText());
        }

        [Fact]
        public void Path_streams_a_file()
        {
            string path = Path.Combine(Path.GetTempPath(), "socketcmdlets-xunit-" + Guid.NewGuid().ToString("N"));
            byte[] data = new byte[3 * 1024 * 1024 + 3];
            new Random(7).NextBytes(data);
            File.WriteAllBytes(path, data);
            try
            {
                Task<byte[]> reader = Task.Run(() => TestNet.Receive(Server, data.Length));
                RunResult result = _ps.Run("Send-SocketData -Socket $c -Path $p -Verbose", ("c", Client), ("p", path)).NoErrors();
                Assert.True(data.SequenceEqual(TestNet.Await(reader)));
                Assert.Contains(result.Verbose, v => v.Contains($"Sent {data.Length} bytes") && v.Contains(path));
                // A progress bar about the file, removed at the end.
                Assert.NotEmpty(result.Progress);
                Assert.All(result.Progress, p => Assert.Contains(Path.GetFileName(path), p.Activity));
                Assert.Equal(ProgressRecordType.Completed, result.Progress.Last().RecordType);
            }
            finally
            {
                File.Delete(path);
            }
        }

        [Fact]
        public void A_missing_file_is_FileNotFound_before_anything_is_sent()
        {
            string path = Path.Combine(Path.GetTempPath(), "no-such-file-" + Guid.NewGuid().ToString("N"));
            RunResult result = _ps.Run("Send-SocketData -Socket $c -Path $p", ("c", Client), ("p", path));
            TestNet.AssertError(Assert.Single(result.Errors), "FileNotFound", "SendSocketDataCommand", ErrorCategory.ObjectNotFound, path);
            Assert.Equal(0, Client.BytesSent);
        }

        [Fact]
        public void Data_and_Path_conflict()
        {
            RunResult result = _ps.Run("Send-SocketData -Socket $c -Data 'x' -Path '/tmp/x'", ("c", Client));
            TestNet.AssertError(Assert.Single(result.Errors), "ConflictingParameters", "SendSocketDataCommand", ErrorCategory.InvalidArgument);
            Assert.Equal(0, Client.BytesSent);
        }

        [Fact]
        public void Piped_data_without_a_socket_is_refused()
        {
            RunResult result = _ps.Run("'x' | Send-SocketData");
            TestNet.AssertError(Assert.Single(result.Errors), "SocketOrDataRequired", "SendSocketDataCommand", ErrorCategory.InvalidArgument);
        }

        [Fact]
        public void A_socket_piped_as_data_is_refused()
        {
            RunResult result = _ps.Run("$c | Send-SocketData -Socket $c", ("c", Client));
            TestNet.AssertError(Assert.Single(result.Errors), "DataIsSocket", "SendSocketDataCommand", ErrorCategory.InvalidArgument);
            Assert.Equal(0, Client.BytesSent);
        }

        [Fact]
        public void Sending_on_a_socket_that_is_not_connected_is_InvalidSocketState_and_says_so()
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            RunResult result = _ps.Run("'a', 'b' | Send-SocketData -Socket $s", ("s", socket));
            ErrorRecord error = Assert.Single(result.Errors);
            TestNet.AssertError(error, "InvalidSocketState", "SendSocketDataCommand", ErrorCategory.InvalidOperation, socket);
            Assert.Contains("connect", error.ErrorDetails.Message);
        }

        [Fact]
        public void Sending_after_close_is_InvalidSocketState()
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            socket.Close();
            RunResult result = _ps.Run("$s | Send-SocketData -Data 'a'", ("s", socket));
            ErrorRecord error = Assert.Single(result.Errors);
            TestNet.AssertError(error, "InvalidSocketState", "SendSocketDataCommand", ErrorCategory.InvalidOperation, socket);
            Assert.Contains("closed", error.ErrorDetails.Message);
        }

        [Fact]
        public void A_send_the_peer_does_not_read_is_SendTimeout()
        {
            byte[] big = new byte[64 * 1024 * 1024];
            RunResult result = _ps.Run("Send-SocketData -Socket $c -Data $d -TimeoutSec 1", ("c", Client), ("d", big));
            TestNet.AssertError(Assert.Single(result.Errors), "SendTimeout", "SendSocketDataCommand", ErrorCategory.OperationTimeout, Client);
        }

        [Theory]
        [InlineData("-TimeoutSec -1")]
        [InlineData("-NewLine ''")]
        [InlineData("-Path ''")]
        [InlineData("-Encoding nope")]
        public void Send_SocketData_rejects_bad_arguments(string arguments)
        {
            RunResult result = _ps.Run("Send-SocketData -Socket $c -Data 'x' " + arguments, ("c", Client));
            ErrorRecord error = Assert.Single(result.Errors);
            Assert.StartsWith("ParameterArgument", error.FullyQualifiedErrorId);
            Assert.EndsWith(",SocketCmdlets.Commands.SendSocketDataCommand", error.FullyQualifiedErrorId);
            Assert.Equal(0, Client.BytesSent);
        }
    }
}

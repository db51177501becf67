using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Tests
{
    public sealed class ReceiveSocketDataTests : IClassFixture<RunspaceFixture>, IDisposable
    {
        private readonly RunspaceFixture _ps;
        private readonly Pair _pair;

        public ReceiveSocketDataTests(RunspaceFixture ps)
        {
            _ps = ps;
            _pair = Pair.Open();
        }

        public void Dispose() => _pair.Dispose();

        private NetSocket Client => _pair.Client;

        private NetSocket Server => _pair.Server;

        private RunResult Receive(string arguments) => _ps.Run("$s | Receive-SocketData -TimeoutSec 10 " + arguments, ("s", Server));

        /// <summary>Sends and waits until the bytes are at the peer, so one receive sees them all.</summary>
        private void SendAndSettle(string text)
        {
            long before = Server.BytesReceived + Server.PendingBytes + Server.Socket.Available;
            TestNet.Send(Client, text);
            int length = Encoding.UTF8.GetByteCount(text);
            TestNet.WaitUntil(() => Server.BytesReceived + Server.Socket.Available >= before + length, "the data has arrived");
        }

        [Fact]
        public void By_default_one_receive_comes_out_as_a_string()
        {
            SendAndSettle("hello wörld");
            RunResult result = Receive("").NoErrors();
            Assert.Equal("hello wörld", result.Single<string>());
        }

        [Fact]
        public void AsByteStream_emits_byte_arrays()
        {
            SendAndSettle("abc");
            RunResult result = Receive("-AsByteStream").NoErrors();
            Assert.Equal(Encoding.ASCII.GetBytes("abc"), result.Single<byte[]>());
        }

        [Fact]
        public void ByteCount_receives_exactly_that_many_bytes()
        {
            SendAndSettle("0123456789");
            Assert.Equal("0123", Receive("-ByteCount 4").NoErrors().Single<string>());
            Assert.Equal(Encoding.ASCII.GetBytes("456789"), Receive("-ByteCount 6 -AsByteStream").NoErrors().Single<byte[]>());
        }

        [Fact]
        public void ByteCount_short_at_end_of_stream_warns_and_emits_what_came()
        {
            SendAndSettle("abc");
            Client.Close(CloseDirection.Send);
            RunResult result = Receive("-ByteCount 10").NoErrors();
            Assert.Equal("abc", result.Single<string>());
            Assert.Contains(result.Warnings, w => w.Contains("3 of 10"));
        }

        [Fact]
        public void Line_emits_one_string_per_line_without_its_ending()
        {
            SendAndSettle("one\r\ntwo\nthree\n");
            RunResult result = Receive("-Line -Count 3").NoErrors();
            Assert.Equal(new object[] { "one", "two", "three" }, result.Objects);
        }

        [Fact]
        public void Line_default_count_is_one_and_the_rest_stays()
        {
            SendAndSettle("first\nsecond\n");
            Assert.Equal("first", Receive("-Line").NoErrors().Single<string>());
            Assert.Equal("second", Receive("-Line").NoErrors().Single<string>());
        }

        [Fact]
        public void Delimiter_splits_records_on_a_string()
        {
            SendAndSettle("a||bb||||c||");
            RunResult result = Receive("-Delimiter '||' -Count 4").NoErrors();
            Assert.Equal(new object[] { "a", "bb", "", "c" }, result.Objects);
        }

        [Fact]
        public void Line_AsByteStream_emits_records_as_bytes()
        {
            SendAndSettle("ab\ncd\n");
            RunResult result = Receive("-Line -Count 2 -AsByteStream").NoErrors();
            Assert.Equal(new[] { Encoding.ASCII.GetBytes("ab"), Encoding.ASCII.GetBytes("cd") }, result.Objects.Cast<byte[]>());
        }

        [Fact]
        public void ToEnd_streams_every_chunk_until_the_peer_closes()
        {
            Task sender = Task.Run(() =>
            {
                for (int i = 0; i < 5; i++)
                {
                    TestNet.Send(Client, $"chunk{i};");
                }

                Client.Close(CloseDirection.Send);
            });
            RunResult result = Receive("-ToEnd").NoErrors();
            TestNet.Await(sender);
            Assert.All(result.Objects, o => Assert.IsType<string>(o));
            Assert.Equal("chunk0;chunk1;chunk2;chunk3;chunk4;", string.Concat(result.Objects));
        }

        [Fact]
        public void ToEnd_Line_emits_every_line_and_the_unterminated_last_one()
        {
            SendAndSettle("x\ny\nlast");
            Client.Close(CloseDirection.Send);
            RunResult result = Receive("-ToEnd -Line").NoErrors();
            Assert.Equal(new object[] { "x", "y", "last" }, result.Objects);
        }

        [Fact]
        public void End_of_stream_is_not_an_error_it_ends_the_output()
        {
            Client.Close();
            RunResult result = Receive("-Verbose").NoErrors();
            Assert.Empty(result.Output);
            Assert.Contains(result.Verbose, v => v.Contains("end of stream"));
            Assert.Empty(Receive("-Line").NoErrors().Output);
        }

        [Fact]
        public void A_UTF8_character_split_across_two_sends_decodes_correctly()
        {
            byte[] bytes = Encoding.UTF8.GetBytes("a😀b");
            Client.Send(bytes, 0, 3, TestNet.Timeout, TestNet.Token);
            RunResult first = Receive("").NoErrors();
            Client.Send(bytes, 3, bytes.Length - 3, TestNet.Timeout, TestNet.Token);
            Client.Close(CloseDirection.Send);
            RunResult rest = Receive("-ToEnd").NoErrors();
            Assert.Equal("a😀b", first.Single<string>() + string.Concat(rest.Objects));
        }

        [Fact]
        public void A_double_byte_character_split_across_two_sends_decodes_correctly_with_a_code_page()
        {
            // Shift-JIS, by code page number: 日本 is 93 FA 96 7B; the first read ends after the lead byte of 本.
            byte[] bytes = Encoding.GetEncoding(932).GetBytes("日本");
            Client.Send(bytes, 0, 3, TestNet.Timeout, TestNet.Token);
            TestNet.WaitUntil(() => Server.Socket.Available == 3, "the first part has arrived");
            RunResult first = Receive("-Encoding 932").NoErrors();
            Client.Send(bytes, 3, 1, TestNet.Timeout, TestNet.Token);
            Client.Close(CloseDirection.Send);
            RunResult rest = Receive("-Encoding 932 -ToEnd").NoErrors();
            Assert.Equal("日本", string.Concat(first.Objects.Concat(rest.Objects)));
        }

        [Fact]
        public void Verbose_mentions_the_peer_and_the_byte_count()
        {
            SendAndSettle("12345678");
            RunResult result = Receive("-Verbose").NoErrors();
            string peer = NetSocket.Format(Server.RemoteEndPoint);
            Assert.Contains(result.Verbose, v => v.StartsWith("Waiting for data from " + peer, StringComparison.Ordinal));
            Assert.Contains(result.Verbose, v => v.StartsWith("Received 8 bytes from " + peer, StringComparison.Ordinal));
        }

        [Fact]
        public void OutFile_writes_ByteCount_bytes_to_a_file()
        {
            string path = Path.Combine(Path.GetTempPath(), "socketcmdlets-xunit-" + Guid.NewGuid().ToString("N"));
            try
            {
                byte[] data = new byte[2 * 1024 * 1024 + 11];
                new Random(3).NextBytes(data);
                Task sender = Task.Run(() => TestNet.Send(Client, data.Concat(Encoding.ASCII.GetBytes("after")).ToArray()));
                RunResult result = _ps.Run($"$s | Receive-SocketData -OutFile $p -ByteCount {data.Length}", ("s", Server), ("p", path)).NoErrors();
                TestNet.Await(sender);
                Assert.Empty(result.Output);
                Assert.True(data.SequenceEqual(File.ReadAllBytes(path)));
                // A progress bar about the file, removed at the end.
                Assert.NotEmpty(result.Progress);
                Assert.All(result.Progress, p => Assert.Contains(Path.GetFileName(path), p.Activity));
                Assert.Equal(ProgressRecordType.Completed, result.Progress.Last().RecordType);
                Assert.Equal("after", Receive("-ByteCount 5").NoErrors().Single<string>());
            }
            finally
            {
                File.Delete(path);
            }
        }

        [Fact]
        public void OutFile_without_ByteCount_writes_until_the_peer_closes()
        {
            string path = Path.Combine(Path.GetTempPath(), "socketcmdlets-xunit-" + Guid.NewGuid().ToString("N"));
            try
            {
                SendAndSettle("head\nbody");
                Assert.Equal("head", Receive("-Line").NoErrors().Single<string>());
                Client.Close(CloseDirection.Send);
                _ps.Run("$s | Receive-SocketData -OutFile $p", ("s", Server), ("p", path)).NoErrors();
                Assert.Equal("body", File.ReadAllText(path));
            }
            finally
            {
                File.Delete(path);
            }
        }

        [Fact]
        public void OutFile_in_a_missing_folder_is_FileNotFound_before_receiving()
        {
            SendAndSettle("kept");
            string path = Path.Combine(Path.GetTempPath(), "no-such-folder-" + Guid.NewGuid().ToString("N"), "file");
            RunResult result = _ps.Run("$s | Receive-SocketData -OutFile $p", ("s", Server), ("p", path));
            TestNet.AssertError(Assert.Single(result.Errors), "FileNotFound", "ReceiveSocketDataCommand", ErrorCategory.ObjectNotFound, path);
            Assert.Equal("kept", Receive("").NoErrors().Single<string>());
        }

        [Fact]
        public void No_data_within_TimeoutSec_is_ReceiveTimeout_on_the_socket()
        {
            RunResult result = _ps.Run("$s | Receive-SocketData -TimeoutSec 1", ("s", Server));
            Assert.Empty(result.Output);
            ErrorRecord error = Assert.Single(result.Errors);
            TestNet.AssertError(error, "ReceiveTimeout", "ReceiveSocketDataCommand", ErrorCategory.OperationTimeout, Server);
            Assert.Contains(NetSocket.Format(Server.RemoteEndPoint), error.ErrorDetails.Message);
            Assert.Equal(SocketState.Connected, Server.State);
        }

        [Fact]
        public void A_record_longer_than_MaxRecordLength_is_RecordTooLong_and_the_data_stays()
        {
            string data = new string('z', 100);
            SendAndSettle(data);
            RunResult result = Receive("-Line -MaxRecordLength 10");
            Assert.Empty(result.Output);
            ErrorRecord error = Assert.Single(result.Errors);
            TestNet.AssertError(error, "RecordTooLong", "ReceiveSocketDataCommand", ErrorCategory.LimitsExceeded, Server);
            Assert.Equal(data, Receive("-ByteCount 100").NoErrors().Single<string>());
        }

        [Fact]
        public void A_reset_by_the_peer_is_ConnectionReset_for_receive_and_send()
        {
            Client.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
            Client.Close();
            RunResult receive = Receive("");
            ErrorRecord error = Assert.Single(receive.Errors);
            TestNet.AssertError(error, "ConnectionReset", "ReceiveSocketDataCommand", ErrorCategory.ConnectionError, Server);
            Assert.Contains(NetSocket.Format(Server.RemoteEndPoint), error.ErrorDetails.Message);

            RunResult send = _ps.Run("$s | Send-SocketData -Data 'x'", ("s", Server));
            TestNet.AssertError(Assert.Single(send.Errors), "ConnectionReset", "SendSocketDataCommand", ErrorCategory.ConnectionError, Server);
        }

        [Fact]
        public void Receiving_on_a_socket_that_is_not_connected_is_InvalidSocketState()
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            RunResult result = _ps.Run("$x | Receive-SocketData -TimeoutSec 1", ("x", socket));
            ErrorRecord error = Assert.Single(result.Errors);
            TestNet.AssertError(error, "InvalidSocketState", "ReceiveSocketDataCommand", ErrorCategory.InvalidOperation, socket);
            Assert.Contains("Created", error.ErrorDetails.Message);
        }

        [Fact]
        public void Receive_SocketData_by_Id_and_an_unknown_Id()
        {
            SendAndSettle("by-id");
            Assert.Equal("by-id", _ps.Run($"Receive-SocketData -Id {Server.Id} -TimeoutSec 10").NoErrors().Single<string>());
            RunResult missing = _ps.Run("Receive-SocketData -Id 2000000000 -TimeoutSec 1");
            TestNet.AssertError(Assert.Single(missing.Errors), "SocketNotFound", "ReceiveSocketDataCommand", ErrorCategory.ObjectNotFound, 2000000000);
        }

        [Theory]
        [InlineData("-Line -Delimiter ';'")]
        [InlineData("-Count 2 -ToEnd")]
        [InlineData("-ByteCount 2 -Line")]
        [InlineData("-ByteCount 2 -Count 1")]
        [InlineData("-OutFile x -Line")]
        [InlineData("-OutFile x -AsByteStream")]
        public void Conflicting_parameters_stop_the_call(string arguments)
        {
            SendAndSettle("untouched");
            RunResult result = Receive(arguments);
            Assert.Empty(result.Output);
            TestNet.AssertError(Assert.Single(result.Errors), "ConflictingParameters", "ReceiveSocketDataCommand", ErrorCategory.InvalidArgument);
            Assert.Equal("untouched", Receive("").NoErrors().Single<string>());
        }

        [Fact]
        public void A_ByteCount_over_1_GiB_without_OutFile_is_refused()
        {
            RunResult result = Receive("-ByteCount 2000000000");
            TestNet.AssertError(Assert.Single(result.Errors), "ByteCountTooLarge", "ReceiveSocketDataCommand", ErrorCategory.InvalidArgument);
        }

        [Theory]
        [InlineData("-Count 0")]
        [InlineData("-Count -1")]
        [InlineData("-ByteCount 0")]
        [InlineData("-ByteCount -5")]
        [InlineData("-MaxRecordLength 0")]
        [InlineData("-Delimiter ''")]
        [InlineData("-TimeoutSec -1")]
        public void Bad_arguments_are_rejected_by_validation(string arguments)
        {
            RunResult result = _ps.Run("$s | Receive-SocketData " + arguments, ("s", Server));
            Assert.Empty(result.Output);
            TestNet.AssertError(Assert.Single(result.Errors), "ParameterArgumentValidationError", "ReceiveSocketDataCommand", ErrorCategory.InvalidData);
        }
    }
}

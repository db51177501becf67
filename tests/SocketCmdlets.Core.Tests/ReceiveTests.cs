using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    public sealed class ReceiveTests
    {
        private static readonly Encoding s_utf8 = new UTF8Encoding(false);

        private static void Send(NetSocket socket, string text, Encoding encoding = null) =>
            socket.Send((encoding ?? s_utf8).GetBytes(text), TestNet.Timeout, TestNet.Token);

        /// <summary>Receives records as strings.</summary>
        private static List<string> Records(NetSocket socket, string delimiter, bool trim, int count, int max = 1024 * 1024, Encoding encoding = null)
        {
            var records = new List<string>();
            encoding = encoding ?? s_utf8;
            int n = socket.ReceiveRecords(encoding, delimiter, trim, count, max, TestNet.Timeout, TestNet.Token,
                (buffer, offset, length) => records.Add(encoding.GetString(buffer, offset, length)));
            Assert.Equal(records.Count, n);
            return records;
        }

        [Fact]
        public void ReceiveChunks_returns_what_arrived_as_one_array()
        {
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, "hello");
                var chunks = new List<byte[]>();
                Assert.Equal(1, pair.Server.ReceiveChunks(1, TestNet.Timeout, TestNet.Token, chunks.Add));
                Assert.Equal("hello", Encoding.ASCII.GetString(Assert.Single(chunks)));
                Assert.Equal(5, pair.Server.BytesReceived);
                Assert.Equal(0, pair.Server.PendingBytes);
            }
        }

        [Fact]
        public void ReceiveChunks_until_end_of_stream_gets_everything()
        {
            using (Pair pair = Pair.Open())
            {
                Task sender = TestNet.Run(() =>
                {
                    for (int i = 0; i < 20; i++)
                    {
                        Send(pair.Client, $"part{i};");
                    }

                    pair.Client.Close(CloseDirection.Send);
                });
                var chunks = new List<byte[]>();
                int count = pair.Server.ReceiveChunks(-1, TestNet.Timeout, TestNet.Token, chunks.Add);
                TestNet.Await(sender);

                Assert.Equal(chunks.Count, count);
                Assert.Equal(string.Concat(Enumerable.Range(0, 20).Select(i => $"part{i};")), Encoding.ASCII.GetString(Bytes.Concat(chunks)));
                Assert.True(pair.Server.EndOfStream);

                // After end of stream every receive returns at once with nothing.
                Assert.Equal(0, pair.Server.ReceiveChunks(1, TestNet.Timeout, TestNet.Token, chunks.Add));
                Assert.Empty(pair.Server.ReceiveExactly(5, TestNet.Timeout, TestNet.Token));
            }
        }

        [Fact]
        public void ReceiveChunks_to_the_end_of_a_bulk_stream_hands_out_full_chunks_and_loses_nothing()
        {
            // 3 MiB + 1,234 bytes of a pattern, written in odd sizes: the chunks (received straight into the arrays
            // handed out) are never empty, never over 80 KiB, and put back together are the bytes sent.
            var data = new byte[3 * 1024 * 1024 + 1234];
            new Random(7).NextBytes(data);
            using (Pair pair = Pair.Open())
            {
                Task sender = TestNet.Run(() =>
                {
                    int at = 0;
                    int[] sizes = { 1, 70000, 300000, 5, 1048576, 81920, 12345 };
                    for (int i = 0; at < data.Length; i++)
                    {
                        int n = Math.Min(sizes[i % sizes.Length], data.Length - at);
                        pair.Client.Send(data, at, n, TestNet.Timeout, TestNet.Token);
                        at += n;
                    }

                    pair.Client.Close(CloseDirection.Send);
                });
                var chunks = new List<byte[]>();
                int count = pair.Server.ReceiveChunks(-1, TestNet.Timeout, TestNet.Token, chunks.Add);
                TestNet.Await(sender);

                Assert.Equal(chunks.Count, count);
                Assert.All(chunks, c => Assert.InRange(c.Length, 1, 80 * 1024));
                Assert.Equal(data, Bytes.Concat(chunks));
                Assert.Equal(data.Length, pair.Server.BytesReceived);
                Assert.True(pair.Server.EndOfStream);
            }
        }

        [Fact]
        public void ReceiveChunks_to_the_end_first_hands_out_bytes_already_pending()
        {
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, "one\ntwo");
                Assert.Equal("one", Assert.Single(Records(pair.Server, "\n", true, 1, 100)));
                Send(pair.Client, "three");
                pair.Client.Close(CloseDirection.Send);
                var chunks = new List<byte[]>();
                pair.Server.ReceiveChunks(-1, TestNet.Timeout, TestNet.Token, chunks.Add);
                Assert.Equal("twothree", Encoding.ASCII.GetString(Bytes.Concat(chunks)));
            }
        }

        [Fact]
        public void A_receive_with_no_data_times_out_with_SocketTimeoutException_Receive()
        {
            using (Pair pair = Pair.Open())
            {
                var e = Assert.Throws<SocketTimeoutException>(() => pair.Server.ReceiveChunks(1, TimeSpan.FromMilliseconds(200), TestNet.Token, _ => { }));
                Assert.Equal(SocketOperation.Receive, e.Operation);
                Assert.Throws<SocketTimeoutException>(() => pair.Server.ReceiveExactly(1, TimeSpan.FromMilliseconds(100), TestNet.Token));
                Assert.Throws<SocketTimeoutException>(() => Records(pair.Server, "\n", true, 1, 100).Count);

                // The socket is still fine.
                Send(pair.Client, "late\n");
                Assert.Equal(new[] { "late" }, Records(pair.Server, "\n", true, 1));
            }
        }

        [Fact]
        public void A_waiting_receive_ends_promptly_on_cancellation()
        {
            using (Pair pair = Pair.Open())
            using (var cancel = new CancellationTokenSource())
            {
                Task<int> receive = TestNet.Run(() => pair.Server.ReceiveTextChunks(null, 1, Timeout.InfiniteTimeSpan, cancel.Token, _ => { }));
                cancel.CancelAfter(200);
                Assert.IsAssignableFrom<OperationCanceledException>(TestNet.AwaitFailure(receive));
                Assert.Equal(SocketState.Connected, pair.Server.State);
            }
        }

        [Fact]
        public void ReceiveTextChunks_decodes_with_the_given_encoding()
        {
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, "grüße €", Encoding.Unicode);
                pair.Client.Close(CloseDirection.Send);
                var text = new StringBuilder();
                pair.Server.ReceiveTextChunks(new UnicodeEncoding(false, false), -1, TestNet.Timeout, TestNet.Token, t => text.Append(t));
                Assert.Equal("grüße €", text.ToString());
            }
        }

        public static TheoryData<string, int> SplitCharacters()
        {
            var data = new TheoryData<string, int>();
            foreach (string c in new[] { "é", "€", "😀" })
            {
                int length = Encoding.UTF8.GetByteCount(c);
                for (int split = 1; split < length; split++)
                {
                    data.Add(c, split);
                }
            }

            return data;
        }

        [Theory]
        [MemberData(nameof(SplitCharacters))]
        public void A_UTF8_character_split_across_two_sends_decodes_correctly(string character, int split)
        {
            byte[] bytes = s_utf8.GetBytes("a" + character + "b");
            using (Pair pair = Pair.Open())
            {
                var texts = new List<string>();

                // First read ends inside the character: only "a" may come out.
                pair.Client.Send(bytes, 0, 1 + split, TestNet.Timeout, TestNet.Token);
                pair.Server.ReceiveTextChunks(s_utf8, 1, TestNet.Timeout, TestNet.Token, texts.Add);
                Assert.Equal(new[] { "a" }, texts);
                Assert.Equal(split, pair.Server.PendingBytes);

                pair.Client.Send(bytes, 1 + split, bytes.Length - 1 - split, TestNet.Timeout, TestNet.Token);
                pair.Client.Close(CloseDirection.Send);
                pair.Server.ReceiveTextChunks(s_utf8, -1, TestNet.Timeout, TestNet.Token, texts.Add);

                Assert.Equal("a" + character + "b", string.Concat(texts));
                Assert.DoesNotContain(texts, t => t.Contains('\uFFFD'));
            }
        }

        [Theory]
        [MemberData(nameof(SplitCharacters))]
        public void A_read_holding_only_part_of_a_character_waits_for_the_rest(string character, int split)
        {
            byte[] bytes = s_utf8.GetBytes(character);
            using (Pair pair = Pair.Open())
            {
                var texts = new List<string>();
                Task<int> receive = TestNet.Run(() => pair.Server.ReceiveTextChunks(s_utf8, 1, TestNet.Timeout, TestNet.Token, texts.Add));
                pair.Client.Send(bytes, 0, split, TestNet.Timeout, TestNet.Token);
                TestNet.WaitUntil(() => pair.Server.BytesReceived == split, "the first part has been read");
                Assert.False(receive.IsCompleted, "A partial character was handed out.");
                pair.Client.Send(bytes, split, bytes.Length - split, TestNet.Timeout, TestNet.Token);

                Assert.Equal(1, TestNet.Await(receive));
                Assert.Equal(character, Assert.Single(texts));
            }
        }

        [Fact]
        public void A_UTF16_surrogate_pair_split_across_sends_decodes_correctly()
        {
            var unicode = new UnicodeEncoding(false, false);
            byte[] bytes = unicode.GetBytes("x😀y");
            using (Pair pair = Pair.Open())
            {
                var texts = new List<string>();
                pair.Client.Send(bytes, 0, 5, TestNet.Timeout, TestNet.Token);
                pair.Server.ReceiveTextChunks(unicode, 1, TestNet.Timeout, TestNet.Token, texts.Add);
                Assert.Equal(new[] { "x" }, texts);
                pair.Client.Send(bytes, 5, bytes.Length - 5, TestNet.Timeout, TestNet.Token);
                pair.Client.Close(CloseDirection.Send);
                pair.Server.ReceiveTextChunks(unicode, -1, TestNet.Timeout, TestNet.Token, texts.Add);
                Assert.Equal("x😀y", string.Concat(texts));
            }
        }

        [Fact]
        public void A_stream_ending_inside_a_character_still_hands_out_the_rest()
        {
            using (Pair pair = Pair.Open())
            {
                byte[] euro = s_utf8.GetBytes("€");
                pair.Client.Send(new byte[] { (byte)'a', euro[0], euro[1] }, TestNet.Timeout, TestNet.Token);
                pair.Client.Close(CloseDirection.Send);
                var texts = new List<string>();
                pair.Server.ReceiveTextChunks(s_utf8, -1, TestNet.Timeout, TestNet.Token, texts.Add);
                string all = string.Concat(texts);
                Assert.StartsWith("a", all);
                Assert.Contains('\uFFFD', all);
                Assert.Equal(0, pair.Server.PendingBytes);
            }
        }

        [Fact]
        public void ReceiveExactly_returns_exactly_the_count_and_keeps_the_rest()
        {
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, "0123456789");
                TestNet.WaitUntil(() => pair.Server.Socket.Available == 10, "all ten bytes have arrived");
                Assert.Equal("0123", Encoding.ASCII.GetString(pair.Server.ReceiveExactly(4, TestNet.Timeout, TestNet.Token)));
                Assert.Equal("456789", Encoding.ASCII.GetString(pair.Server.ReceiveExactly(6, TestNet.Timeout, TestNet.Token)));
                Assert.Empty(pair.Server.ReceiveExactly(0, TestNet.Timeout, TestNet.Token));
                Assert.Throws<ArgumentOutOfRangeException>(() => pair.Server.ReceiveExactly(-1, TestNet.Timeout, TestNet.Token));
            }
        }

        [Fact]
        public void ReceiveExactly_waits_for_bytes_sent_in_several_pieces()
        {
            using (Pair pair = Pair.Open())
            {
                Task<byte[]> receive = TestNet.Run(() => pair.Server.ReceiveExactly(9, TestNet.Timeout, TestNet.Token));
                foreach (string piece in new[] { "abc", "def", "ghi" })
                {
                    Send(pair.Client, piece);
                    Thread.Sleep(20);
                }

                Assert.Equal("abcdefghi", Encoding.ASCII.GetString(TestNet.Await(receive)));
            }
        }

        [Fact]
        public void ReceiveExactly_is_short_at_end_of_stream()
        {
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, "abc");
                pair.Client.Close(CloseDirection.Send);
                Assert.Equal("abc", Encoding.ASCII.GetString(pair.Server.ReceiveExactly(10, TestNet.Timeout, TestNet.Token)));
                Assert.True(pair.Server.EndOfStream);
            }
        }

        [Fact]
        public void ReceiveRecords_splits_lines_on_LF()
        {
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, "one\ntwo\n\nfour\n");
                Assert.Equal(new[] { "one", "two", "", "four" }, Records(pair.Server, "\n", true, 4));
            }
        }

        [Fact]
        public void ReceiveRecords_trims_CR_before_LF_for_lines_only()
        {
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, "one\r\ntwo\nthree\r\nfour\r\n");
                Assert.Equal(new[] { "one", "two" }, Records(pair.Server, "\n", true, 2));
                Assert.Equal(new[] { "three\r", "four\r" }, Records(pair.Server, "\n", false, 2));
            }
        }

        [Fact]
        public void ReceiveRecords_with_a_multi_byte_delimiter()
        {
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, "a<EOR>bb<E<EOR><EOR>c<EOR>");
                Assert.Equal(new[] { "a", "bb<E", "", "c" }, Records(pair.Server, "<EOR>", false, 4));
                Assert.Equal(0, pair.Server.PendingBytes);
            }
        }

        [Theory]
        [InlineData(1)]
        [InlineData(2)]
        [InlineData(3)]
        [InlineData(4)]
        public void ReceiveRecords_finds_a_delimiter_split_across_two_sends(int split)
        {
            const string delimiter = "<EOR>";
            using (Pair pair = Pair.Open())
            {
                string first = "abc" + delimiter.Substring(0, split);
                string second = delimiter.Substring(split) + "def" + delimiter;
                var records = new List<string>();
                Task<int> receive = TestNet.Run(() => pair.Server.ReceiveRecords(s_utf8, delimiter, false, 2, 1000, TestNet.Timeout, TestNet.Token,
                    (b, o, l) => records.Add(s_utf8.GetString(b, o, l))));
                Send(pair.Client, first);
                TestNet.WaitUntil(() => pair.Server.BytesReceived == first.Length, "the first part has been read");
                Send(pair.Client, second);

                Assert.Equal(2, TestNet.Await(receive));
                Assert.Equal(new[] { "abc", "def" }, records);
            }
        }

        [Fact]
        public void ReceiveRecords_finds_CRLF_split_between_CR_and_LF()
        {
            using (Pair pair = Pair.Open())
            {
                var records = new List<string>();
                Task<int> receive = TestNet.Run(() => pair.Server.ReceiveRecords(s_utf8, "\n", true, 1, 1000, TestNet.Timeout, TestNet.Token,
                    (b, o, l) => records.Add(s_utf8.GetString(b, o, l))));
                Send(pair.Client, "line\r");
                TestNet.WaitUntil(() => pair.Server.BytesReceived == 5, "the first part has been read");
                Send(pair.Client, "\n");
                Assert.Equal(1, TestNet.Await(receive));
                Assert.Equal(new[] { "line" }, records);
            }
        }

        [Fact]
        public void ReceiveRecords_returns_a_final_unterminated_record_at_end_of_stream()
        {
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, "x\ny\r\nlast");
                pair.Client.Close(CloseDirection.Send);
                Assert.Equal(new[] { "x", "y", "last" }, Records(pair.Server, "\n", true, -1));
                Assert.True(pair.Server.EndOfStream);
                Assert.Empty(Records(pair.Server, "\n", true, -1));
            }
        }

        [Fact]
        public void ReceiveRecords_stops_after_count_and_leaves_the_rest_pending()
        {
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, "1\n2\n3\n");
                TestNet.WaitUntil(() => pair.Server.Socket.Available == 6, "all six bytes have arrived");
                Assert.Equal(new[] { "1", "2" }, Records(pair.Server, "\n", true, 2));
                Assert.Equal(2, pair.Server.PendingBytes);
                Assert.Equal("3\n", Encoding.ASCII.GetString(pair.Server.ReceiveExactly(2, TestNet.Timeout, TestNet.Token)));
            }
        }

        [Fact]
        public void ReceiveRecords_decodes_with_a_multi_byte_encoding()
        {
            var unicode = new UnicodeEncoding(false, false);
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, "ä\r\nĀ\n", unicode);
                Assert.Equal(new[] { "ä", "Ā" }, Records(pair.Server, "\n", true, 2, encoding: unicode));
            }
        }

        [Fact]
        public void A_record_without_terminator_longer_than_the_limit_throws_and_stays_pending()
        {
            string data = new string('a', 100);
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, data);
                TestNet.WaitUntil(() => pair.Server.Socket.Available == 100, "all bytes have arrived");
                var e = Assert.Throws<RecordTooLongException>(() => Records(pair.Server, "\n", true, 1, max: 10));
                Assert.Equal(10, e.Limit);
                Assert.Equal(100, pair.Server.PendingBytes);
                Assert.Equal(data, Encoding.ASCII.GetString(pair.Server.ReceiveExactly(100, TestNet.Timeout, TestNet.Token)));
            }
        }

        [Fact]
        public void A_terminated_record_longer_than_the_limit_throws_and_stays_pending()
        {
            const string data = "0123456789ABCDEF\nnext\n";
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, data);
                TestNet.WaitUntil(() => pair.Server.Socket.Available == data.Length, "all bytes have arrived");
                Assert.Throws<RecordTooLongException>(() => Records(pair.Server, "\n", true, 1, max: 10));
                Assert.Equal(data, Encoding.ASCII.GetString(pair.Server.ReceiveExactly(data.Length, TestNet.Timeout, TestNet.Token)));
            }
        }

        [Fact]
        public void A_record_growing_past_the_limit_over_several_sends_throws_with_nothing_lost()
        {
            using (Pair pair = Pair.Open())
            {
                var records = new List<string>();
                Task<int> receive = TestNet.Run(() => pair.Server.ReceiveRecords(s_utf8, "\n", true, 1, 50, TestNet.Timeout, TestNet.Token,
                    (b, o, l) => records.Add(s_utf8.GetString(b, o, l))));
                var sent = new StringBuilder();
                for (int i = 0; i < 10 && !receive.IsCompleted; i++)
                {
                    string piece = new string((char)('a' + i), 20);
                    sent.Append(piece);
                    Send(pair.Client, piece);
                    TestNet.WaitUntil(() => pair.Server.BytesReceived == sent.Length || receive.IsCompleted, "the piece has been read");
                }

                Assert.IsType<RecordTooLongException>(TestNet.AwaitFailure(receive));
                Assert.Empty(records);
                pair.Client.Close(CloseDirection.Send);
                var rest = new MemoryStream();
                pair.Server.ReceiveTo(rest, -1, TestNet.Timeout, TestNet.Token);
                Assert.Equal(sent.ToString(), Encoding.ASCII.GetString(rest.ToArray()));
            }
        }

        [Fact]
        public void ReceiveRecords_checks_its_arguments()
        {
            using (Pair pair = Pair.Open())
            {
                Assert.Throws<ArgumentException>(() => Records(pair.Server, "", true, 1));
                Assert.Throws<ArgumentException>(() => Records(pair.Server, null, true, 1));
                Assert.Throws<ArgumentOutOfRangeException>(() => Records(pair.Server, "\n", true, 1, max: 0));
            }
        }

        [Fact]
        public void ReceiveTo_copies_up_to_a_byte_limit_then_to_the_end()
        {
            byte[] data = Bytes.Random(1000, 4);
            using (Pair pair = Pair.Open())
            {
                pair.Client.Send(data, TestNet.Timeout, TestNet.Token);
                var first = new MemoryStream();
                Assert.Equal(600, pair.Server.ReceiveTo(first, 600, TestNet.Timeout, TestNet.Token));
                Assert.Equal(data.Take(600), first.ToArray());

                pair.Client.Close(CloseDirection.Send);
                var rest = new MemoryStream();
                var progress = new List<long>();
                Assert.Equal(400, pair.Server.ReceiveTo(rest, -1, TestNet.Timeout, TestNet.Token, progress.Add));
                Assert.Equal(data.Skip(600), rest.ToArray());
                Assert.Equal(400, progress.Last());
                Assert.Throws<ArgumentNullException>(() => pair.Server.ReceiveTo((Stream)null, -1, TestNet.Timeout, TestNet.Token));
            }
        }

        [Fact]
        public void ReceiveTo_hands_out_bytes_already_buffered_by_a_record_read_first()
        {
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, "header\nbody-bytes");
                pair.Client.Close(CloseDirection.Send);
                TestNet.WaitUntil(() => pair.Server.Socket.Available == 17, "all bytes have arrived");
                Assert.Equal(new[] { "header" }, Records(pair.Server, "\n", true, 1));
                var body = new MemoryStream();
                Assert.Equal(10, pair.Server.ReceiveTo(body, -1, TestNet.Timeout, TestNet.Token));
                Assert.Equal("body-bytes", Encoding.ASCII.GetString(body.ToArray()));
            }
        }

        [Fact]
        public void ReceiveTo_with_a_limit_below_what_is_buffered_leaves_the_rest()
        {
            using (Pair pair = Pair.Open())
            {
                Send(pair.Client, "h\n0123456789");
                TestNet.WaitUntil(() => pair.Server.Socket.Available == 12, "all bytes have arrived");
                Records(pair.Server, "\n", true, 1);
                var part = new MemoryStream();
                Assert.Equal(4, pair.Server.ReceiveTo(part, 4, TestNet.Timeout, TestNet.Token));
                Assert.Equal("0123", Encoding.ASCII.GetString(part.ToArray()));
                Assert.Equal("456789", Encoding.ASCII.GetString(pair.Server.ReceiveExactly(6, TestNet.Timeout, TestNet.Token)));
            }
        }
    }
}

using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    public sealed class SendBufferTests
    {
        [Fact]
        public void Many_small_strings_and_bytes_are_gathered_into_one_send_and_arrive_in_order()
        {
            using (Pair pair = Pair.Open())
            using (var buffer = new SendBuffer(pair.Client, TestNet.Timeout, TestNet.Token))
            {
                var expected = new MemoryStream();
                for (int i = 0; i < 1000; i++)
                {
                    string text = $"item{i};";
                    buffer.Append(text, null);
                    byte[] encoded = Encoding.UTF8.GetBytes(text);
                    expected.Write(encoded, 0, encoded.Length);

                    buffer.Append((byte)(i % 256));
                    expected.WriteByte((byte)(i % 256));

                    byte[] small = { 0xF0, (byte)i };
                    buffer.Append(small);
                    expected.Write(small, 0, small.Length);
                }

                // Nothing has gone out yet: the pieces are gathered, not sent one call each.
                Assert.Equal(0, pair.Client.BytesSent);
                Assert.Equal(expected.Length, buffer.Buffered);
                Assert.Same(pair.Client, buffer.Socket);

                buffer.Flush();
                Assert.Equal(0, buffer.Buffered);
                Assert.Equal(expected.Length, pair.Client.BytesSent);

                byte[] received = pair.Server.ReceiveExactly((int)expected.Length, TestNet.Timeout, TestNet.Token);
                Assert.True(expected.ToArray().SequenceEqual(received), "The peer received other bytes than were appended.");
            }
        }

        [Fact]
        public void More_than_a_chunk_of_small_pieces_goes_out_a_chunk_at_a_time()
        {
            const int piece = 1000;
            const int pieces = 3000;
            byte[] data = Bytes.Random(piece * pieces, 5);
            using (Pair pair = Pair.Open())
            using (var buffer = new SendBuffer(pair.Client, TestNet.Timeout, TestNet.Token))
            {
                Task<byte[]> reader = TestNet.Run(() => pair.Server.ReceiveExactly(data.Length, TestNet.Timeout, TestNet.Token));
                int sends = 0;
                long lastSent = 0;
                for (int i = 0; i < pieces; i++)
                {
                    buffer.Append(data.Skip(i * piece).Take(piece).ToArray());
                    if (pair.Client.BytesSent != lastSent)
                    {
                        sends++;
                        lastSent = pair.Client.BytesSent;
                        Assert.True(lastSent % piece == 0, "A flush went out in the middle of a piece.");
                    }

                    Assert.True(buffer.Buffered <= 1024 * 1024);
                    Assert.Equal(i * (long)piece + piece, pair.Client.BytesSent + buffer.Buffered);
                }

                buffer.Flush();
                Assert.InRange(sends, 2, 3);
                Assert.True(data.SequenceEqual(TestNet.Await(reader)));
            }
        }

        [Fact]
        public void A_large_array_goes_out_after_what_was_gathered_before_it()
        {
            byte[] big = Bytes.Random(600 * 1024, 6);
            using (Pair pair = Pair.Open())
            using (var buffer = new SendBuffer(pair.Client, TestNet.Timeout, TestNet.Token))
            {
                Task<byte[]> reader = TestNet.Run(() => pair.Server.ReceiveExactly(3 + big.Length + 4, TestNet.Timeout, TestNet.Token));
                buffer.Append("abc", null);
                buffer.Append(big);

                // The big array went straight out, behind "abc".
                Assert.Equal(3 + big.Length, pair.Client.BytesSent);
                Assert.Equal(0, buffer.Buffered);

                buffer.Append("tail", Encoding.ASCII);
                buffer.Flush();
                byte[] received = TestNet.Await(reader);
                Assert.Equal("abc", Encoding.ASCII.GetString(received, 0, 3));
                Assert.True(big.SequenceEqual(received.Skip(3).Take(big.Length)));
                Assert.Equal("tail", Encoding.ASCII.GetString(received, 3 + big.Length, 4));
            }
        }

        [Fact]
        public void A_string_longer_than_a_chunk_is_sent_whole_and_in_order()
        {
            string big = new string('é', 700 * 1024);
            int bigBytes = Encoding.UTF8.GetByteCount(big);
            using (Pair pair = Pair.Open())
            using (var buffer = new SendBuffer(pair.Client, TestNet.Timeout, TestNet.Token))
            {
                Task<byte[]> reader = TestNet.Run(() => pair.Server.ReceiveExactly(1 + bigBytes + 1, TestNet.Timeout, TestNet.Token));
                buffer.Append("<", null);
                buffer.Append(big, null);
                buffer.Append(">", null);
                buffer.Flush();
                Assert.Equal("<" + big + ">", Encoding.UTF8.GetString(TestNet.Await(reader)));
            }
        }

        [Fact]
        public void Strings_are_encoded_with_the_given_encoding_and_never_with_a_BOM()
        {
            using (Pair pair = Pair.Open())
            using (var buffer = new SendBuffer(pair.Client, TestNet.Timeout, TestNet.Token))
            {
                buffer.Append("A", Encoding.UTF8);
                buffer.Append("B", Encoding.Unicode);
                buffer.Append("C", Encoding.BigEndianUnicode);
                buffer.Append("é", Compat.Latin1);
                buffer.Flush();
                byte[] expected = { 0x41, 0x42, 0x00, 0x00, 0x43, 0xE9 };
                Assert.Equal(expected, pair.Server.ReceiveExactly(expected.Length, TestNet.Timeout, TestNet.Token));
            }
        }

        [Fact]
        public void Empty_and_null_pieces_add_nothing_and_Dispose_drops_what_was_not_flushed()
        {
            using (Pair pair = Pair.Open())
            {
                var buffer = new SendBuffer(pair.Client, TestNet.Timeout, TestNet.Token);
                buffer.Append((string)null, null);
                buffer.Append(string.Empty, null);
                buffer.Append((byte[])null);
                buffer.Append(new byte[0]);
                Assert.Equal(0, buffer.Buffered);
                buffer.Flush();
                Assert.Equal(0, pair.Client.BytesSent);

                buffer.Append("dropped", null);
                buffer.Dispose();
                Assert.Equal(0, buffer.Buffered);
                Assert.Equal(0, pair.Client.BytesSent);
                Assert.Throws<ArgumentNullException>(() => new SendBuffer(null, TestNet.Timeout, TestNet.Token));
            }
        }

        [Fact]
        public void A_flush_to_a_socket_that_cannot_send_reports_the_state()
        {
            using (NetSocket socket = NetSocket.Create())
            using (var buffer = new SendBuffer(socket, TestNet.Timeout, TestNet.Token))
            {
                buffer.Append("x", null);
                Assert.Throws<InvalidSocketStateException>(() => buffer.Flush());
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>The receive buffer, record reader and text decoder, with byte strings: no socket.</summary>
    public sealed class FramingTests
    {
        private static readonly Encoding s_utf8 = new UTF8Encoding(false);

        /// <summary>Feeds <paramref name="chunks"/> one at a time, reading records as a socket would between receives.</summary>
        private static (List<string> Records, List<RecordFlags> Flags, ReceiveBuffer Buffer) Read(
            RecordReader reader, Encoding encoding, bool takeLast, params byte[][] chunks)
        {
            var buffer = new ReceiveBuffer();
            var records = new List<string>();
            var flags = new List<RecordFlags>();
            foreach (byte[] chunk in chunks)
            {
                buffer.Append(chunk, 0, chunk.Length);
                while (reader.Next(buffer, out int start, out int length))
                {
                    flags.Add(reader.HasRecord(buffer) ? RecordFlags.MoreBuffered : RecordFlags.None);
                    records.Add(encoding.GetString(buffer.Array, start, length));
                }
            }

            if (takeLast && reader.Last(buffer, out int s, out int l))
            {
                records.Add(encoding.GetString(buffer.Array, s, l));
                flags.Add(RecordFlags.Unterminated);
                buffer.ConsumeAll();
            }

            return (records, flags, buffer);
        }

        private static byte[][] Split(byte[] bytes, params int[] cuts)
        {
            var parts = new List<byte[]>();
            int from = 0;
            foreach (int cut in cuts.Concat(new[] { bytes.Length }))
            {
                parts.Add(bytes.Skip(from).Take(cut - from).ToArray());
                from = cut;
            }

            return parts.ToArray();
        }

        [Fact]
        public void Lines_are_cut_at_LF_and_CR_is_trimmed_only_for_lines()
        {
            byte[] bytes = s_utf8.GetBytes("one\r\ntwo\nthree\r\n");
            Assert.Equal(new[] { "one", "two", "three" }, Read(new RecordReader(s_utf8, "\n", true, 100), s_utf8, false, bytes).Records);
            Assert.Equal(new[] { "one\r", "two", "three\r" }, Read(new RecordReader(s_utf8, "\n", false, 100), s_utf8, false, bytes).Records);
        }

        [Theory]
        [InlineData(1)]
        [InlineData(2)]
        [InlineData(3)]
        [InlineData(4)]
        public void A_delimiter_split_across_chunks_is_found(int cut)
        {
            byte[] bytes = s_utf8.GetBytes("ab<EOR>cd<EOR>");
            var result = Read(new RecordReader(s_utf8, "<EOR>", false, 100), s_utf8, false, Split(bytes, 2 + cut));
            Assert.Equal(new[] { "ab", "cd" }, result.Records);
            Assert.Equal(0, result.Buffer.Count);
        }

        [Fact]
        public void CR_LF_split_between_CR_and_LF_is_one_line_end()
        {
            byte[] bytes = s_utf8.GetBytes("hello\r\n");
            var result = Read(new RecordReader(s_utf8, "\n", true, 100), s_utf8, false, Split(bytes, 6));
            Assert.Equal(new[] { "hello" }, result.Records);
        }

        [Fact]
        public void A_character_split_across_chunks_decodes_whole()
        {
            byte[] bytes = s_utf8.GetBytes("é€😀\n");
            for (int cut = 1; cut < bytes.Length; cut++)
            {
                var result = Read(new RecordReader(s_utf8, "\n", true, 100), s_utf8, false, Split(bytes, cut));
                Assert.Equal(new[] { "é€😀" }, result.Records);
            }
        }

        [Fact]
        public void A_UTF16_match_across_two_characters_is_not_a_terminator()
        {
            // U+0A00 then U+0041 in UTF-16LE is 00 0A 41 00: bytes 1-2 look like LF (0A 00) but straddle two characters.
            var encoding = new UnicodeEncoding(false, false);
            byte[] bytes = encoding.GetBytes("\u0A00A\nB\n");
            var result = Read(new RecordReader(encoding, "\n", false, 100), encoding, false, bytes);
            Assert.Equal(new[] { "\u0A00A", "B" }, result.Records);
        }

        [Fact]
        public void MoreBuffered_says_whether_a_whole_record_follows()
        {
            byte[] bytes = s_utf8.GetBytes("a\nb\nc");
            var result = Read(new RecordReader(s_utf8, "\n", false, 100), s_utf8, false, bytes);
            Assert.Equal(new[] { "a", "b" }, result.Records);
            Assert.Equal(new[] { RecordFlags.MoreBuffered, RecordFlags.None }, result.Flags.ToArray());
            Assert.Equal(1, result.Buffer.Count);
        }

        [Fact]
        public void An_unterminated_last_record_is_offered_at_the_end_and_otherwise_stays()
        {
            byte[] bytes = s_utf8.GetBytes("a\ntail");
            var taken = Read(new RecordReader(s_utf8, "\n", true, 100), s_utf8, true, bytes);
            Assert.Equal(new[] { "a", "tail" }, taken.Records);
            Assert.Equal(RecordFlags.Unterminated, taken.Flags.Last());

            var left = Read(new RecordReader(s_utf8, "\n", true, 100), s_utf8, false, bytes);
            Assert.Equal(new[] { "a" }, left.Records);
            Assert.Equal(4, left.Buffer.Count);
        }

        [Fact]
        public void A_record_longer_than_the_limit_throws_and_stays_buffered()
        {
            var buffer = new ReceiveBuffer();
            byte[] bytes = s_utf8.GetBytes("0123456789ABC\n");
            buffer.Append(bytes, 0, bytes.Length);
            var reader = new RecordReader(s_utf8, "\n", true, 10);
            Assert.Throws<RecordTooLongException>(() => reader.Next(buffer, out _, out _));
            Assert.Equal(bytes.Length, buffer.Count);
        }

        [Fact]
        public void A_record_without_terminator_past_the_limit_throws_before_the_terminator_comes()
        {
            var buffer = new ReceiveBuffer();
            byte[] bytes = s_utf8.GetBytes("0123456789AB");
            buffer.Append(bytes, 0, bytes.Length);
            var reader = new RecordReader(s_utf8, "\n", false, 10);
            Assert.Throws<RecordTooLongException>(() => reader.Next(buffer, out _, out _));
            Assert.Equal(bytes.Length, buffer.Count);
        }

        [Fact]
        public void A_record_of_exactly_the_limit_is_fine_and_its_CR_does_not_count()
        {
            byte[] bytes = s_utf8.GetBytes("0123456789\r\n");
            Assert.Equal(new[] { "0123456789" }, Read(new RecordReader(s_utf8, "\n", true, 10), s_utf8, false, Split(bytes, 5, 11)).Records);
        }

        [Fact]
        public void The_reader_checks_its_arguments()
        {
            Assert.Throws<ArgumentException>(() => new RecordReader(s_utf8, string.Empty, false, 10));
            Assert.Throws<ArgumentOutOfRangeException>(() => new RecordReader(s_utf8, "\n", false, 0));
        }

        [Fact]
        public void A_record_not_taken_goes_back()
        {
            var buffer = new ReceiveBuffer();
            byte[] bytes = s_utf8.GetBytes("a\nb\n");
            buffer.Append(bytes, 0, bytes.Length);
            var reader = new RecordReader(s_utf8, "\n", false, 10);
            Assert.True(reader.Next(buffer, out int start, out _));
            reader.Unread(buffer, start);
            Assert.Equal(bytes.Length, buffer.Count);
            Assert.True(reader.Next(buffer, out start, out int length));
            Assert.Equal("a", s_utf8.GetString(buffer.Array, start, length));
        }

        [Fact]
        public void Text_holds_back_a_character_split_across_chunks()
        {
            byte[] bytes = s_utf8.GetBytes("x€");
            var buffer = new ReceiveBuffer();
            buffer.Append(bytes, 0, 2);
            Assert.Equal("x", TextDecoder.TakeComplete(buffer, s_utf8, int.MaxValue));
            Assert.Null(TextDecoder.TakeComplete(buffer, s_utf8, int.MaxValue));
            buffer.Append(bytes, 2, bytes.Length - 2);
            Assert.Equal("€", TextDecoder.TakeComplete(buffer, s_utf8, int.MaxValue));
            Assert.Equal(0, buffer.Count);
        }

        [Fact]
        public void Text_cut_short_at_the_end_decodes_as_a_replacement()
        {
            byte[] bytes = s_utf8.GetBytes("€");
            var buffer = new ReceiveBuffer();
            buffer.Append(bytes, 0, 2);
            Assert.Null(TextDecoder.TakeComplete(buffer, s_utf8, int.MaxValue));
            Assert.Equal("\uFFFD", TextDecoder.TakeRest(buffer, s_utf8));
            Assert.Null(TextDecoder.TakeRest(buffer, s_utf8));
        }

        [Fact]
        public void Text_is_taken_in_pieces_no_larger_than_asked()
        {
            byte[] bytes = s_utf8.GetBytes("abcdef");
            var buffer = new ReceiveBuffer();
            buffer.Append(bytes, 0, bytes.Length);
            Assert.Equal("abc", TextDecoder.TakeComplete(buffer, s_utf8, 3));
            Assert.Equal("def", TextDecoder.TakeComplete(buffer, s_utf8, 3));
        }

        [Fact]
        public void The_buffer_puts_bytes_back_in_front_and_settles_small()
        {
            var buffer = new ReceiveBuffer();
            buffer.MakeRoom();
            Assert.Equal(BufferPool.ChunkSize, buffer.Capacity);
            byte[] bytes = s_utf8.GetBytes("world");
            Buffer.BlockCopy(bytes, 0, buffer.Array, buffer.End, bytes.Length);
            buffer.Commit(bytes.Length);
            buffer.PutBack(s_utf8.GetBytes("hello "));
            Assert.Equal("hello world", s_utf8.GetString(buffer.TakeAll()));
            buffer.Append(bytes, 0, bytes.Length);
            buffer.MakeRoom();
            buffer.Settle();
            Assert.Equal(ReceiveBuffer.SmallSize, buffer.Capacity);
            Assert.Equal("world", s_utf8.GetString(buffer.TakeAll()));
            buffer.MakeRoom();
            buffer.Settle();
            Assert.Equal(0, buffer.Capacity);
        }
    }
}

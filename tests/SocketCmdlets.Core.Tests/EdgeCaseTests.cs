using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>Corners of the contract: record limits, multi-byte encodings, closing under a waiting call.</summary>
    public sealed class EdgeCaseTests
    {
        static EdgeCaseTests()
        {
            // As PowerShell does at start-up: the Windows code pages (-Encoding 932, ansi on a Japanese system).
            Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        }

        private static readonly Encoding s_utf8 = new UTF8Encoding(false);

        [Fact]
        public void A_record_of_exactly_the_limit_is_accepted_when_its_terminator_arrives_in_two_parts()
        {
            const string delimiter = "<EOR>";
            using (Pair pair = Pair.Open())
            {
                var records = new List<string>();
                Task<int> receive = TestNet.Run(() => pair.Server.ReceiveRecords(s_utf8, delimiter, false, 1, 10, TestNet.Timeout, TestNet.Token,
                    (b, o, l) => records.Add(s_utf8.GetString(b, o, l))));
                byte[] first = s_utf8.GetBytes("0123456789<EO");
                pair.Client.Send(first, TestNet.Timeout, TestNet.Token);
                TestNet.WaitUntil(() => pair.Server.BytesReceived == first.Length || receive.IsCompleted, "the first part has been read");
                pair.Client.Send(s_utf8.GetBytes("R>"), TestNet.Timeout, TestNet.Token);

                Exception failure = Record.Exception(() => TestNet.Await(receive));
                Assert.Null(failure);
                Assert.Equal(new[] { "0123456789" }, records);
            }
        }

        [Fact]
        public void A_record_of_exactly_the_limit_is_accepted_when_it_arrives_whole()
        {
            using (Pair pair = Pair.Open())
            {
                pair.Client.Send(s_utf8.GetBytes("0123456789<EOR>"), TestNet.Timeout, TestNet.Token);
                var records = new List<string>();
                pair.Server.ReceiveRecords(s_utf8, "<EOR>", false, 1, 10, TestNet.Timeout, TestNet.Token, (b, o, l) => records.Add(s_utf8.GetString(b, o, l)));
                Assert.Equal(new[] { "0123456789" }, records);
            }
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void UTF16_records_are_split_only_on_whole_characters(bool bigEndian)
        {
            // "\u0A41\u4E00" is 41 0A 00 4E in UTF-16 LE: the bytes of "\n" (0A 00) appear across the two characters.
            // Big endian, "\u0100\u0A41" is 01 00 0A 41, which holds 00 0A the same way.
            var encoding = new UnicodeEncoding(bigEndian, false);
            string text = bigEndian ? "\u0100\u0A41" : "\u0A41\u4E00";
            using (Pair pair = Pair.Open())
            {
                pair.Client.Send(encoding.GetBytes(text + "\nnext\n"), TestNet.Timeout, TestNet.Token);
                var records = new List<string>();
                pair.Server.ReceiveRecords(encoding, "\n", true, 2, 1000, TestNet.Timeout, TestNet.Token, (b, o, l) => records.Add(encoding.GetString(b, o, l)));
                Assert.Equal(new[] { text, "next" }, records);
            }
        }

        [Theory]
        [InlineData(932, "日本語")]
        [InlineData(936, "中文字")]
        [InlineData(949, "한국어")]
        public void A_double_byte_code_page_character_split_across_two_sends_decodes_correctly(int codePage, string text)
        {
            Encoding encoding = TextEncoding.Resolve(codePage);
            byte[] bytes = encoding.GetBytes(text);
            Assert.Equal(6, bytes.Length);
            using (Pair pair = Pair.Open())
            {
                var texts = new List<string>();

                // The first read ends after the lead byte of the second character.
                pair.Client.Send(bytes, 0, 3, TestNet.Timeout, TestNet.Token);
                pair.Server.ReceiveTextChunks(encoding, 1, TestNet.Timeout, TestNet.Token, texts.Add);
                pair.Client.Send(bytes, 3, 3, TestNet.Timeout, TestNet.Token);
                pair.Client.Close(CloseDirection.Send);
                pair.Server.ReceiveTextChunks(encoding, -1, TestNet.Timeout, TestNet.Token, texts.Add);

                Assert.Equal(text, string.Concat(texts));
            }
        }

        [Fact]
        public void Closing_a_socket_while_a_connect_waits_ends_the_connect_with_a_state_error()
        {
            using (var full = new FullListener())
            {
                NetSocket client = NetSocket.Create();
                Task<NetSocket> connect = TestNet.Run(() => client.Connect("127.0.0.1", full.Port, TestNet.Timeout, TestNet.Token));
                Thread.Sleep(200);
                client.Close();
                Exception e = TestNet.AwaitFailure(connect);
                Assert.True(e is InvalidSocketStateException, $"Got {e.GetType().Name} ({(e as SocketException)?.SocketErrorCode}): {e.Message}");
                var state = (InvalidSocketStateException)e;
                Assert.Same(client, state.Socket);
                Assert.Equal(SocketState.Closed, client.State);
            }
        }
    }
}

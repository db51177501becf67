using System;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Text;
using SocketCmdlets.Commands;
using Xunit;

namespace SocketCmdlets.Tests
{
    public sealed class EncodingTests : IClassFixture<RunspaceFixture>, IDisposable
    {
        private readonly RunspaceFixture _ps;
        private readonly Pair _pair;

        public EncodingTests(RunspaceFixture ps)
        {
            _ps = ps;
            _pair = Pair.Open();
        }

        public void Dispose() => _pair.Dispose();

        /// <summary>Sends 'é€' with the given -Encoding argument and returns the bytes the peer got.</summary>
        private byte[] SendWith(string encodingArgument)
        {
            RunResult result = _ps.Run($"Send-SocketData -Socket $c -Data 'Aé' -Encoding {encodingArgument} -PassThru", ("c", _pair.Client)).NoErrors();
            Assert.Same(_pair.Client, result.Single<NetSocket>());
            long sent = _pair.Client.BytesSent;
            TestNet.WaitUntil(() => _pair.Server.BytesReceived + _pair.Server.Socket.Available >= sent, "the bytes have arrived");
            return TestNet.Receive(_pair.Server, (int)(sent - _pair.Server.BytesReceived));
        }

        public static TheoryData<string, int> NamedEncodings()
        {
            var data = new TheoryData<string, int>();
            foreach (string name in TextEncoding.Names)
            {
                data.Add(name, name.ToLowerInvariant() switch
                {
                    "ascii" => 20127,
                    "ansi" => CultureInfo.CurrentCulture.TextInfo.ANSICodePage,
                    "oem" => CultureInfo.CurrentCulture.TextInfo.OEMCodePage,
                    "bigendianunicode" => 1201,
                    "bigendianutf32" => 12001,
                    "latin1" => 28591,
                    "unicode" => 1200,
                    "utf7" => 65000,
                    "utf32" => 12000,
                    _ => 65001,
                });
            }

            return data;
        }

        [Theory]
        [MemberData(nameof(NamedEncodings))]
        public void Every_PowerShell_encoding_name_sends_the_right_bytes_without_a_BOM(string name, int codePage)
        {
            // .NET refuses UTF-7 by code page; its form of "Aé" is plain ASCII.
            byte[] expected = codePage == 65000 ? Encoding.ASCII.GetBytes("A+AOk-") : Encoding.GetEncoding(codePage).GetBytes("Aé");
            Assert.Equal(expected, SendWith(name));
        }

        [Theory]
        [InlineData("28591", new byte[] { 0x41, 0xE9 })]
        [InlineData("1252", new byte[] { 0x41, 0xE9 })]
        [InlineData("65001", new byte[] { 0x41, 0xC3, 0xA9 })]
        [InlineData("1200", new byte[] { 0x41, 0x00, 0xE9, 0x00 })]
        [InlineData("'1201'", new byte[] { 0x00, 0x41, 0x00, 0xE9 })]
        public void Code_page_numbers_select_the_encoding(string argument, byte[] expected)
        {
            Assert.Equal(expected, SendWith(argument));
        }

        [Theory]
        [InlineData("([Text.Encoding]::UTF8)", new byte[] { 0x41, 0xC3, 0xA9 })]
        [InlineData("([Text.Encoding]::Unicode)", new byte[] { 0x41, 0x00, 0xE9, 0x00 })]
        [InlineData("([Text.Encoding]::BigEndianUnicode)", new byte[] { 0x00, 0x41, 0x00, 0xE9 })]
        [InlineData("([Text.Encoding]::UTF32)", new byte[] { 0x41, 0, 0, 0, 0xE9, 0, 0, 0 })]
        [InlineData("([Text.Encoding]::GetEncoding('iso-8859-1'))", new byte[] { 0x41, 0xE9 })]
        public void Encoding_objects_are_used_and_their_BOM_is_never_sent(string argument, byte[] expected)
        {
            Assert.Equal(expected, SendWith(argument));
        }

        [Fact]
        public void The_default_is_UTF8_without_a_BOM()
        {
            _ps.Run("'Aé' | Send-SocketData -Socket $c", ("c", _pair.Client)).NoErrors();
            Assert.Equal(new byte[] { 0x41, 0xC3, 0xA9 }, TestNet.Receive(_pair.Server, 3));
        }

        [Theory]
        [InlineData("unicode", new byte[] { 0xE9, 0x00, 0x3B, 0x00 })]
        [InlineData("bigendianunicode", new byte[] { 0x00, 0xE9, 0x00, 0x3B })]
        [InlineData("latin1", new byte[] { 0xE9, 0x3B })]
        [InlineData("28591", new byte[] { 0xE9, 0x3B })]
        [InlineData("([Text.Encoding]::UTF32)", new byte[] { 0xE9, 0, 0, 0, 0x3B, 0, 0, 0 })]
        public void Receive_SocketData_decodes_with_Encoding(string argument, byte[] wire)
        {
            TestNet.Send(_pair.Client, wire);
            TestNet.WaitUntil(() => _pair.Server.Socket.Available >= wire.Length, "the bytes have arrived");
            RunResult text = _ps.Run($"$s | Receive-SocketData -Encoding {argument} -TimeoutSec 10", ("s", _pair.Server)).NoErrors();
            Assert.Equal("é;", text.Single<string>());

            TestNet.Send(_pair.Client, wire.Concat(wire).ToArray());
            RunResult records = _ps.Run($"$s | Receive-SocketData -Encoding {argument} -Delimiter ';' -Count 2 -TimeoutSec 10", ("s", _pair.Server)).NoErrors();
            Assert.Equal(new object[] { "é", "é" }, records.Objects);
        }

        [Theory]
        [InlineData("nope")]
        [InlineData("''")]
        [InlineData("99999")]
        [InlineData("([datetime]::Now)")]
        public void An_unknown_encoding_is_refused_by_the_binder(string argument)
        {
            RunResult result = _ps.Run($"Send-SocketData -Socket $c -Data 'x' -Encoding {argument}", ("c", _pair.Client));
            ErrorRecord error = Assert.Single(result.Errors);
            Assert.Equal("ParameterArgumentTransformationError,SocketCmdlets.Commands.SendSocketDataCommand", error.FullyQualifiedErrorId);
            Assert.Equal(0, _pair.Client.BytesSent);
        }

        [Fact]
        public void EncodingCompleter_offers_the_names_that_match()
        {
            var completer = new EncodingCompleter();
            string[] all = completer.CompleteArgument("Send-SocketData", "Encoding", "", null, null).Select(c => c.CompletionText).ToArray();
            Assert.Equal(TextEncoding.Names, all);

            string[] utf = completer.CompleteArgument("Send-SocketData", "Encoding", "UTF", null, null).Select(c => c.CompletionText).ToArray();
            Assert.Equal(new[] { "utf7", "utf8", "utf8BOM", "utf8NoBOM", "utf32" }, utf);

            string[] quoted = completer.CompleteArgument("Receive-SocketData", "Encoding", "'big", null, null).Select(c => c.CompletionText).ToArray();
            Assert.Equal(new[] { "bigendianunicode", "bigendianutf32" }, quoted);

            Assert.Empty(completer.CompleteArgument("Send-SocketData", "Encoding", "zzz", null, null));
            Assert.All(completer.CompleteArgument("Send-SocketData", "Encoding", null, null, null), c => Assert.Equal(CompletionResultType.ParameterValue, c.ResultType));
        }

        [Theory]
        [InlineData("Send-SocketData -Encoding utf")]
        [InlineData("Receive-SocketData -Encoding utf")]
        public void Tab_completion_of_Encoding_in_the_session(string line)
        {
            RunResult result = _ps.Run($"(TabExpansion2 -inputScript '{line}' -cursorColumn {line.Length}).CompletionMatches | ForEach-Object CompletionText").NoErrors();
            Assert.Equal(new object[] { "utf7", "utf8", "utf8BOM", "utf8NoBOM", "utf32" }, result.Objects);
        }
    }
}

using System;
using System.Globalization;
using System.Linq;
using System.Text;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    public sealed class CompleteLengthTests
    {
        private static int Complete(Encoding encoding, byte[] bytes, int count) => TextEncoding.CompleteLength(encoding, bytes, 0, count);

        [Fact]
        public void UTF8_whole_characters_are_complete()
        {
            byte[] bytes = Encoding.UTF8.GetBytes("aé€😀");
            Assert.Equal(bytes.Length, Complete(TextEncoding.Default, bytes, bytes.Length));
            Assert.Equal(1, Complete(TextEncoding.Default, bytes, 1));
        }

        [Theory]
        [InlineData("é")]
        [InlineData("€")]
        [InlineData("😀")]
        public void UTF8_a_character_cut_short_is_held_back(string character)
        {
            byte[] bytes = Encoding.UTF8.GetBytes("ab" + character);
            for (int cut = 1; cut < bytes.Length - 2; cut++)
            {
                Assert.Equal(2, Complete(Encoding.UTF8, bytes, 2 + cut));
                Assert.Equal(0, TextEncoding.CompleteLength(Encoding.UTF8, bytes, 2, cut));
            }

            Assert.Equal(bytes.Length, Complete(Encoding.UTF8, bytes, bytes.Length));
        }

        [Theory]
        [InlineData("FF")]
        [InlineData("FE")]
        [InlineData("C0")]
        [InlineData("C1")]
        [InlineData("F5")]
        [InlineData("F8")]
        [InlineData("80")]
        [InlineData("BF BF BF")]
        [InlineData("E0 80")]
        [InlineData("E0 9F")]
        [InlineData("ED A0")]
        [InlineData("F0 80")]
        [InlineData("F0 8F BF")]
        [InlineData("F4 90")]
        [InlineData("F4 90 80")]
        [InlineData("E2 41")]
        public void UTF8_bytes_that_can_never_become_a_character_are_not_held_back(string tail)
        {
            byte[] bytes = Bytes("41 " + tail);
            Assert.Equal(bytes.Length, Complete(TextEncoding.Default, bytes, bytes.Length));
            Assert.Equal(bytes.Length - 1, TextEncoding.CompleteLength(TextEncoding.Default, bytes, 1, bytes.Length - 1));
        }

        [Theory]
        [InlineData("C2", 1)]
        [InlineData("DF", 1)]
        [InlineData("E0 A0", 2)]
        [InlineData("ED 9F", 2)]
        [InlineData("EF BF", 2)]
        [InlineData("F0 90", 2)]
        [InlineData("F0 90 80", 3)]
        [InlineData("F4 8F BF", 3)]
        [InlineData("F3", 1)]
        public void UTF8_the_start_of_a_valid_character_is_held_back(string tail, int held)
        {
            byte[] bytes = Bytes("41 " + tail);
            Assert.Equal(bytes.Length - held, Complete(TextEncoding.Default, bytes, bytes.Length));
        }

        [Fact]
        public void UTF8_a_single_byte_is_held_back_only_when_it_starts_a_valid_sequence()
        {
            for (int b = 0; b < 256; b++)
            {
                bool lead = b >= 0xC2 && b <= 0xF4;
                Assert.True((lead ? 0 : 1) == Complete(TextEncoding.Default, new[] { (byte)b }, 1), $"byte 0x{b:X2}");
            }
        }

        private static byte[] Bytes(string hex) =>
            hex.Split(' ').Select(h => byte.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();

        [Fact]
        public void UTF8_honours_the_start_offset()
        {
            byte[] bytes = Encoding.UTF8.GetBytes("xx€€");
            // From offset 2: "€" (3 bytes) + the first byte of the next one.
            Assert.Equal(3, TextEncoding.CompleteLength(Encoding.UTF8, bytes, 2, 4));
            Assert.Equal(6, TextEncoding.CompleteLength(Encoding.UTF8, bytes, 2, 6));
        }

        [Fact]
        public void Nothing_is_complete_in_nothing()
        {
            Assert.Equal(0, TextEncoding.CompleteLength(Encoding.UTF8, new byte[4], 0, 0));
            Assert.Equal(0, TextEncoding.CompleteLength(Encoding.UTF8, null, 0, 4));
            Assert.Equal(0, TextEncoding.CompleteLength(Encoding.Unicode, new byte[4], 0, -1));
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void UTF16_odd_bytes_and_lone_high_surrogates_are_held_back(bool bigEndian)
        {
            var encoding = new UnicodeEncoding(bigEndian, false);
            byte[] bytes = encoding.GetBytes("ab😀c");
            // a=0-1 b=2-3 high=4-5 low=6-7 c=8-9
            Assert.Equal(0, Complete(encoding, bytes, 1));
            Assert.Equal(2, Complete(encoding, bytes, 2));
            Assert.Equal(2, Complete(encoding, bytes, 3));
            Assert.Equal(4, Complete(encoding, bytes, 4));
            Assert.Equal(4, Complete(encoding, bytes, 5));
            Assert.Equal(4, Complete(encoding, bytes, 6));
            Assert.Equal(4, Complete(encoding, bytes, 7));
            Assert.Equal(8, Complete(encoding, bytes, 8));
            Assert.Equal(8, Complete(encoding, bytes, 9));
            Assert.Equal(10, Complete(encoding, bytes, 10));
            Assert.Equal(0, TextEncoding.CompleteLength(encoding, bytes, 4, 2));
        }

        [Fact]
        public void UTF16_big_and_little_endian_are_not_confused()
        {
            // U+D83D as little endian is 3D D8; read as big endian it would be U+3DD8, an ordinary character.
            byte[] little = new UnicodeEncoding(false, false).GetBytes("😀");
            Assert.Equal(0, Complete(new UnicodeEncoding(false, false), little, 2));
            Assert.Equal(2, Complete(new UnicodeEncoding(true, false), little, 2));
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void UTF32_counts_whole_four_byte_units(bool bigEndian)
        {
            var encoding = new UTF32Encoding(bigEndian, false);
            byte[] bytes = encoding.GetBytes("a😀");
            Assert.Equal(0, Complete(encoding, bytes, 3));
            Assert.Equal(4, Complete(encoding, bytes, 4));
            Assert.Equal(4, Complete(encoding, bytes, 7));
            Assert.Equal(8, Complete(encoding, bytes, 8));
        }

        [Fact]
        public void Single_byte_encodings_are_always_complete()
        {
            byte[] bytes = { 0x41, 0xE9, 0xFF, 0x80 };
            Assert.Equal(4, Complete(Encoding.ASCII, bytes, 4));
            Assert.Equal(3, Complete(Compat.Latin1, bytes, 3));
            Assert.Equal(1, Complete(Compat.Latin1, bytes, 1));
        }
    }

    public sealed class ResolveTests
    {
        /// <summary>
        /// "ansi" and "oem" name the culture's Windows code pages, which .NET (Core) only has once the code-pages
        /// provider is registered. PowerShell registers it at start-up (the runspace suite checks -Encoding ansi and
        /// oem there); the engine relies on its host for that, so these tests play the host.
        /// </summary>
        public ResolveTests() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

        private static int ExpectedCodePage(string name)
        {
            switch (name.ToLowerInvariant())
            {
                case "ascii": return 20127;
                case "ansi": return CultureInfo.CurrentCulture.TextInfo.ANSICodePage;
                case "oem": return CultureInfo.CurrentCulture.TextInfo.OEMCodePage;
                case "bigendianunicode": return 1201;
                case "bigendianutf32": return 12001;
                case "latin1": return 28591;
                case "unicode": return 1200;
                case "utf7": return 65000;
                case "utf32": return 12000;
                default: return 65001;
            }
        }

        public static TheoryData<string> Names()
        {
            var data = new TheoryData<string>();
            foreach (string name in TextEncoding.Names)
            {
                data.Add(name);
            }

            return data;
        }

        [Theory]
        [MemberData(nameof(Names))]
        public void Every_listed_name_resolves_to_its_encoding(string name)
        {
            Encoding encoding = TextEncoding.Resolve(name);
            Assert.Equal(ExpectedCodePage(name), encoding.CodePage);
            Assert.Equal(ExpectedCodePage(name), TextEncoding.Resolve(name.ToUpperInvariant()).CodePage);
            Assert.Equal(ExpectedCodePage(name), TextEncoding.Resolve("  " + name + " ").CodePage);
        }

        [Theory]
        [MemberData(nameof(Names))]
        public void No_named_encoding_emits_a_byte_order_mark(string name)
        {
            Encoding encoding = TextEncoding.Resolve(name);
            Assert.Empty(encoding.GetPreamble());
            byte[] bytes = encoding.GetBytes("A");
            Assert.Equal("A", encoding.GetString(bytes));
            AssertNoBom(bytes);
        }

        [Fact]
        public void The_list_holds_the_PowerShell_7_names()
        {
            string[] expected = { "ascii", "ansi", "bigendianunicode", "bigendianutf32", "latin1", "oem", "unicode", "utf7", "utf8", "utf8BOM", "utf8NoBOM", "utf32" };
            Assert.Equal(expected.OrderBy(n => n, StringComparer.OrdinalIgnoreCase), TextEncoding.Names.OrderBy(n => n, StringComparer.OrdinalIgnoreCase), StringComparer.OrdinalIgnoreCase);
        }

        [Fact]
        public void Utf8_names_are_UTF8_without_a_BOM()
        {
            foreach (string name in new[] { "utf8", "UTF-8", "utf8BOM", "utf8NoBOM" })
            {
                Encoding encoding = TextEncoding.Resolve(name);
                Assert.Equal(65001, encoding.CodePage);
                Assert.Empty(encoding.GetPreamble());
            }

            Assert.Same(TextEncoding.Default, TextEncoding.Resolve(null));
            Assert.Empty(TextEncoding.Default.GetPreamble());
        }

        [Theory]
        [InlineData(65001)]
        [InlineData(1200)]
        [InlineData(1201)]
        [InlineData(12000)]
        [InlineData(20127)]
        [InlineData(28591)]
        public void Code_page_numbers_resolve_as_numbers_and_as_strings(int codePage)
        {
            Assert.Equal(codePage, TextEncoding.Resolve(codePage).CodePage);
            Assert.Equal(codePage, TextEncoding.Resolve(codePage.ToString(CultureInfo.InvariantCulture)).CodePage);
            AssertNoBom(TextEncoding.Resolve(codePage).GetBytes("A"));
        }

        [Fact]
        public void Encoding_objects_are_used_as_they_are_and_send_no_BOM()
        {
            foreach (Encoding given in new[] { Encoding.UTF8, Encoding.Unicode, Encoding.BigEndianUnicode, Encoding.UTF32, Encoding.ASCII, Compat.Latin1 })
            {
                Assert.Same(given, TextEncoding.Resolve(given));
                AssertNoBom(TextEncoding.Resolve(given).GetBytes("A"));
            }
        }

        [Theory]
        [InlineData("no-such-encoding")]
        [InlineData("")]
        [InlineData("   ")]
        [InlineData("99999")]
        [InlineData(-1)]
        [InlineData(99999)]
        [InlineData(12.5)]
        [InlineData(true)]
        public void Bad_names_throw_ArgumentException_or_NotSupportedException(object value)
        {
            Exception e = Record.Exception(() => TextEncoding.Resolve(value));
            Assert.NotNull(e);
            Assert.True(e is ArgumentException || e is NotSupportedException, $"Unexpected {e.GetType()}: {e.Message}");
        }

        private static void AssertNoBom(byte[] bytes)
        {
            byte[][] boms =
            {
                new byte[] { 0xEF, 0xBB, 0xBF },
                new byte[] { 0xFF, 0xFE },
                new byte[] { 0xFE, 0xFF },
                new byte[] { 0x00, 0x00, 0xFE, 0xFF },
                new byte[] { 0x2B, 0x2F, 0x76 },
            };
            foreach (byte[] bom in boms)
            {
                Assert.False(bytes.Length >= bom.Length && bytes.Take(bom.Length).SequenceEqual(bom), "The bytes start with a byte-order mark.");
            }
        }
    }
}

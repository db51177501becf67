using System;
using System.Collections.Generic;
using System.Text;

namespace SocketCmdlets
{
    /// <summary>Text encodings by the names PowerShell 7 uses, code page numbers or <see cref="Encoding"/> objects.</summary>
    internal static class TextEncoding
    {
        /// <summary>UTF-8 without a byte-order mark.</summary>
        public static readonly Encoding Default = new UTF8Encoding(false);

        /// <summary>The names PowerShell 7's -Encoding parameters accept, for tab completion.</summary>
        public static readonly IReadOnlyList<string> Names = new[]
        {
            "ascii", "ansi", "bigendianunicode", "bigendianutf32", "latin1", "oem", "unicode", "utf7", "utf8", "utf8BOM", "utf8NoBOM", "utf32",
        };

        /// <summary>
        /// Resolves a name, a code page number or an <see cref="Encoding"/>. Byte-order marks are never sent, so
        /// utf8BOM and utf8NoBOM are the same here.
        /// </summary>
        public static Encoding Resolve(object value)
        {
            switch (value)
            {
                case null:
                    return Default;
                case Encoding encoding:
                    return encoding;
                case int codePage:
                    return Encoding.GetEncoding(codePage);
                case string name:
                    return ResolveName(name);
                default:
                    throw new ArgumentException($"'{value}' is not an encoding: give a name such as utf8, a code page number or an Encoding object.");
            }
        }

        private static Encoding ResolveName(string name)
        {
            string trimmed = name.Trim();
            if (int.TryParse(trimmed, out int codePage))
            {
                return Encoding.GetEncoding(codePage);
            }

            switch (trimmed.ToLowerInvariant())
            {
                case "":
                    throw new ArgumentException("The encoding name is empty.");
                case "utf8":
                case "utf-8":
                case "utf8bom":
                case "utf8nobom":
                    return Default;
                case "ascii":
                    return Encoding.ASCII;
                case "ansi":
                    return Encoding.GetEncoding(System.Globalization.CultureInfo.CurrentCulture.TextInfo.ANSICodePage);
                case "oem":
                    return Encoding.GetEncoding(System.Globalization.CultureInfo.CurrentCulture.TextInfo.OEMCodePage);
                case "unicode":
                    return new UnicodeEncoding(false, false);
                case "bigendianunicode":
                    return new UnicodeEncoding(true, false);
                case "utf32":
                    return new UTF32Encoding(false, false);
                case "bigendianutf32":
                    return new UTF32Encoding(true, false);
                case "utf7":
#pragma warning disable SYSLIB0001
                    return Encoding.UTF7;
#pragma warning restore SYSLIB0001
                case "latin1":
                    return Encoding.GetEncoding(28591);
                default:
                    return Encoding.GetEncoding(trimmed);
            }
        }

        /// <summary>
        /// True when <paramref name="encoding"/> carries <paramref name="text"/> unchanged: encoded and decoded again it is
        /// the same text. ASCII turns '€' into '?', so a delimiter '€' would silently become '?'.
        /// </summary>
        public static bool CanCarry(Encoding encoding, string text)
        {
            if (string.IsNullOrEmpty(text))
            {
                return true;
            }

            encoding = encoding ?? Default;
            try
            {
                return string.Equals(encoding.GetString(encoding.GetBytes(text)), text, StringComparison.Ordinal);
            }
            catch (EncoderFallbackException)
            {
                return false;
            }
            catch (DecoderFallbackException)
            {
                return false;
            }
        }

        /// <summary>The size in bytes of one code unit: 2 for UTF-16, 4 for UTF-32, else 1.</summary>
        public static int UnitSize(Encoding encoding)
        {
            switch (encoding.CodePage)
            {
                case 1200:
                case 1201:
                    return 2;
                case 12000:
                case 12001:
                    return 4;
                default:
                    return 1;
            }
        }

        /// <summary>
        /// How many of <paramref name="count"/> bytes form whole characters, so a character split across reads is
        /// kept back until the rest arrives.
        /// </summary>
        public static int CompleteLength(Encoding encoding, byte[] buffer, int start, int count)
        {
            if (count <= 0 || buffer == null)
            {
                return 0;
            }

            switch (encoding.CodePage)
            {
                case 65001:
                    return Utf8CompleteLength(buffer, start, count);
                case 1200:
                case 1201:
                    return Utf16CompleteLength(buffer, start, count, encoding.CodePage == 1201);
                case 12000:
                case 12001:
                    return count - (count % 4);
                default:
                    return encoding.IsSingleByte ? count : DecoderCompleteLength(encoding, buffer, start, count);
            }
        }

        /// <summary>
        /// For other multi-byte encodings (Shift-JIS, GBK, EUC-KR, Big5, ...): a decoder that is not flushed keeps an
        /// incomplete last character back, one that is flushed turns it into a replacement; where the two agree, the
        /// bytes end on a whole character.
        /// </summary>
        private static int DecoderCompleteLength(Encoding encoding, byte[] buffer, int start, int count)
        {
            for (int back = 0; back <= Math.Min(3, count); back++)
            {
                int n = count - back;
                if (n == 0)
                {
                    // Only the start of a character so far: wait for the rest.
                    return 0;
                }

                int kept = encoding.GetDecoder().GetCharCount(buffer, start, n, false);
                int flushed = encoding.GetDecoder().GetCharCount(buffer, start, n, true);
                if (kept == flushed)
                {
                    return n;
                }
            }

            return count;
        }

        private static int Utf8CompleteLength(byte[] buffer, int start, int count)
        {
            // Only the start of a sequence that can still become a valid character is held back (at most three bytes):
            // a byte that can never start one (0x80-0xBF alone, 0xC0, 0xC1, 0xF5-0xFF) or a lead followed by a byte it
            // cannot take decodes now, as a replacement character, instead of waiting for bytes that cannot mend it.
            int end = start + count;
            for (int back = 1; back <= Math.Min(3, count); back++)
            {
                byte b = buffer[end - back];
                if ((b & 0xC0) == 0x80)
                {
                    continue;
                }

                int needed = Utf8SequenceLength(b);
                if (needed <= back)
                {
                    return count;
                }

                return back == 1 || Utf8CanFollow(b, buffer[end - back + 1]) ? count - back : count;
            }

            return count;
        }

        /// <summary>The length of the UTF-8 sequence a lead byte starts; 0 for a byte that starts none.</summary>
        private static int Utf8SequenceLength(byte lead) =>
            lead < 0x80 ? 1 : lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;

        /// <summary>True when <paramref name="second"/> may follow <paramref name="lead"/> (no overlong form, surrogate or code point over U+10FFFF).</summary>
        private static bool Utf8CanFollow(byte lead, byte second)
        {
            switch (lead)
            {
                case 0xE0: return second >= 0xA0 && second <= 0xBF;
                case 0xED: return second >= 0x80 && second <= 0x9F;
                case 0xF0: return second >= 0x90 && second <= 0xBF;
                case 0xF4: return second >= 0x80 && second <= 0x8F;
                default: return second >= 0x80 && second <= 0xBF;
            }
        }

        private static int Utf16CompleteLength(byte[] buffer, int start, int count, bool bigEndian)
        {
            int even = count - (count % 2);
            if (even < 2)
            {
                return 0;
            }

            int last = start + even - 2;
            int unit = bigEndian ? (buffer[last] << 8) | buffer[last + 1] : buffer[last] | (buffer[last + 1] << 8);
            bool highSurrogate = unit >= 0xD800 && unit <= 0xDBFF;
            return highSurrogate ? even - 2 : even;
        }
    }
}

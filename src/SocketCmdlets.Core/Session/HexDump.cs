using System;
using System.Collections.Generic;
using System.Text;

namespace SocketCmdlets
{
    /// <summary>
    /// Hex dump rows like Format-Hex: an offset, 16 bytes in hex, and the printable ASCII characters (others as '.').
    /// A row is 8 + 3 + 47 + 2 + 16 = 76 characters, so it fits an 80-column console.
    /// </summary>
    internal static class HexDump
    {
        /// <summary>Bytes per row.</summary>
        public const int RowBytes = 16;

        /// <summary>The rows for <paramref name="count"/> bytes of <paramref name="data"/>, numbered from <paramref name="streamOffset"/>.</summary>
        public static IEnumerable<string> Rows(byte[] data, int start, int count, long streamOffset)
        {
            if (data == null)
            {
                throw new ArgumentNullException(nameof(data));
            }

            if (start < 0 || count < 0 || start + count > data.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(count));
            }

            for (int row = 0; row < count; row += RowBytes)
            {
                yield return Row(data, start + row, Math.Min(RowBytes, count - row), streamOffset + row);
            }
        }

        /// <summary>The rows for a whole array.</summary>
        public static IEnumerable<string> Rows(byte[] data, long streamOffset) => Rows(data, 0, data?.Length ?? 0, streamOffset);

        private static string Row(byte[] data, int start, int count, long offset)
        {
            var text = new StringBuilder(80);
            text.Append((offset & 0xFFFFFFFFL).ToString("X8", System.Globalization.CultureInfo.InvariantCulture)).Append("   ");
            for (int i = 0; i < RowBytes; i++)
            {
                if (i > 0)
                {
                    text.Append(' ');
                }

                text.Append(i < count ? data[start + i].ToString("X2", System.Globalization.CultureInfo.InvariantCulture) : "  ");
            }

            text.Append("  ");
            for (int i = 0; i < count; i++)
            {
                byte b = data[start + i];
                text.Append(b >= 0x20 && b < 0x7F ? (char)b : '.');
            }

            return text.ToString();
        }
    }
}

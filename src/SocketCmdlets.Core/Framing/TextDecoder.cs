using System.Text;

namespace SocketCmdlets
{
    /// <summary>
    /// The one place received bytes become text, for both layers: whole records and payloads, and streamed text where
    /// a character split across reads is held back until it is complete.
    /// </summary>
    internal static class TextDecoder
    {
        /// <summary>Decodes bytes that hold whole characters (a record, a datagram, a counted read).</summary>
        public static string Decode(Encoding encoding, byte[] buffer, int offset, int count) =>
            (encoding ?? TextEncoding.Default).GetString(buffer, offset, count);

        /// <summary>Decodes a whole array.</summary>
        public static string Decode(Encoding encoding, byte[] bytes) => Decode(encoding, bytes, 0, bytes.Length);

        /// <summary>
        /// Takes the whole characters among the first <paramref name="max"/> pending bytes of <paramref name="buffer"/>
        /// as text; null when they hold only the start of a character (more bytes are needed).
        /// </summary>
        public static string TakeComplete(ReceiveBuffer buffer, Encoding encoding, int max)
        {
            int available = max < buffer.Count ? max : buffer.Count;
            int complete = TextEncoding.CompleteLength(encoding, buffer.Array, buffer.Start, available);
            if (complete == 0)
            {
                return null;
            }

            string text = encoding.GetString(buffer.Array, buffer.Start, complete);
            buffer.Consume(complete);
            return text;
        }

        /// <summary>At the end of the stream: what is left (a character cut short decodes as a replacement); null when nothing is.</summary>
        public static string TakeRest(ReceiveBuffer buffer, Encoding encoding)
        {
            if (buffer.Count == 0)
            {
                return null;
            }

            string text = encoding.GetString(buffer.Array, buffer.Start, buffer.Count);
            buffer.ConsumeAll();
            return text;
        }
    }
}

using System.Collections;
using System.IO;
using System.Management.Automation;
using System.Text;

namespace SocketCmdlets
{
    /// <summary>
    /// The one conversion of pipeline objects to bytes, shared by the stream path (Send-SocketData, Invoke-SocketRequest)
    /// and the datagram path (Send-SocketData over UDP), so an object is the same bytes on either.
    /// </summary>
    /// <remarks>
    /// Byte arrays and single bytes go as they are; strings, characters and character arrays are encoded (followed by
    /// the line ending when one is given); a received datagram goes as its bytes; the items of a collection one level
    /// deep are converted one by one and follow each other; anything else goes as its string form. Over a stream the
    /// bytes of successive objects follow each other; over UDP the bytes of one object are one datagram.
    /// </remarks>
    internal static class Payload
    {
        /// <summary>Adds the bytes of <paramref name="data"/> to <paramref name="buffer"/>, which sends them on a stream.</summary>
        public static void Append(SendBuffer buffer, object data, Encoding encoding, string newLine) =>
            Walk(new BufferTarget(buffer), data, encoding, newLine, 0);

        /// <summary>
        /// The bytes of <paramref name="data"/> as one datagram, or null for null (nothing to send). An empty string or
        /// an empty array makes an empty datagram.
        /// </summary>
        public static byte[] ToDatagram(object data, Encoding encoding, string newLine)
        {
            object value = data is PSObject ps ? ps.BaseObject : data;
            switch (value)
            {
                case null:
                    return null;
                case byte[] bytes:
                    return bytes;
                case SocketDatagram datagram:
                    return datagram.Data;
            }

            var target = new DatagramTarget();
            Walk(target, value, encoding, newLine, 0);
            return target.ToArray();
        }

        private static void Walk<T>(T target, object data, Encoding encoding, string newLine, int depth)
            where T : IPayloadTarget
        {
            switch (data)
            {
                case null:
                    return;
                case byte[] bytes:
                    target.Add(bytes);
                    return;
                case byte single:
                    target.Add(single);
                    return;
                case string text:
                    AddText(target, text, encoding, newLine);
                    return;
                case char c:
                    AddText(target, c.ToString(), encoding, newLine);
                    return;
                case char[] chars:
                    AddText(target, new string(chars), encoding, newLine);
                    return;
                case SocketDatagram datagram:
                    target.Add(datagram.Data);
                    return;
                case PSObject ps:
                    Walk(target, ps.BaseObject, encoding, newLine, depth);
                    return;
                case IEnumerable items when depth == 0:
                    foreach (object item in items)
                    {
                        Walk(target, item, encoding, newLine, depth + 1);
                    }

                    return;
                default:
                    AddText(target, LanguagePrimitives.ConvertTo<string>(data), encoding, newLine);
                    return;
            }
        }

        private static void AddText<T>(T target, string text, Encoding encoding, string newLine)
            where T : IPayloadTarget
        {
            target.Add(text, encoding);
            if (newLine != null)
            {
                target.Add(newLine, encoding);
            }
        }

        private interface IPayloadTarget
        {
            void Add(byte[] bytes);

            void Add(byte value);

            void Add(string text, Encoding encoding);
        }

        /// <summary>A stream send: the bytes go to the socket's send buffer, which gathers small pieces.</summary>
        private readonly struct BufferTarget : IPayloadTarget
        {
            private readonly SendBuffer _buffer;

            public BufferTarget(SendBuffer buffer) => _buffer = buffer;

            public void Add(byte[] bytes) => _buffer.Append(bytes);

            public void Add(byte value) => _buffer.Append(value);

            public void Add(string text, Encoding encoding) => _buffer.Append(text, encoding);
        }

        /// <summary>One datagram: the bytes are gathered in memory (a datagram is at most 64 KiB).</summary>
        private sealed class DatagramTarget : IPayloadTarget
        {
            private readonly MemoryStream _bytes = new MemoryStream();

            public void Add(byte[] bytes) => _bytes.Write(bytes, 0, bytes.Length);

            public void Add(byte value) => _bytes.WriteByte(value);

            public void Add(string text, Encoding encoding)
            {
                if (!string.IsNullOrEmpty(text))
                {
                    byte[] encoded = (encoding ?? TextEncoding.Default).GetBytes(text);
                    _bytes.Write(encoded, 0, encoded.Length);
                }
            }

            public byte[] ToArray() => _bytes.ToArray();
        }
    }
}

using System.Collections;
using System.IO;
using System.Management.Automation;
using System.Text;

namespace SocketCmdlets
{
    /// <summary>
    /// The one conversion of pipeline objects to bytes, used by every cmdlet that sends objects (Send-SocketData over a
    /// stream or as datagrams, Invoke-SocketRequest, Enter-SocketSession's typed lines), so an object is the same bytes
    /// on every path.
    /// </summary>
    /// <remarks>
    /// Byte arrays and single bytes go as they are; strings, characters and character arrays are encoded (followed by
    /// the line ending when one is given); a received datagram goes as its bytes; the items of a collection one level
    /// deep are converted one by one and follow each other; anything else goes as its string form. Where the bytes go is
    /// the sink's business: a stream sink appends them to what came before, a datagram sink makes one datagram of one
    /// object.
    /// </remarks>
    internal sealed class PayloadEncoder
    {
        /// <summary>An encoder for <paramref name="encoding"/> (UTF-8 when null), adding <paramref name="newLine"/> after each text when not null.</summary>
        public PayloadEncoder(Encoding encoding, string newLine)
        {
            Encoding = encoding ?? TextEncoding.Default;
            NewLine = newLine;
        }

        /// <summary>How text is encoded (never with a byte-order mark).</summary>
        public Encoding Encoding { get; }

        /// <summary>The line ending added after each text, or null for none.</summary>
        public string NewLine { get; }

        /// <summary>Adds the bytes of <paramref name="data"/> to <paramref name="sink"/>; null adds nothing.</summary>
        public void Encode<T>(T sink, object data)
            where T : IPayloadSink =>
            Walk(sink, data, 0);

        /// <summary>
        /// The bytes of <paramref name="data"/> as one piece (a datagram, a typed line), or null for null (nothing to
        /// send). An empty string or an empty array makes an empty piece.
        /// </summary>
        public byte[] ToBytes(object data)
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

            var memory = new MemorySink();
            Walk(memory, value, 0);
            return memory.ToArray();
        }

        private void Walk<T>(T sink, object data, int depth)
            where T : IPayloadSink
        {
            switch (data)
            {
                case null:
                    return;
                case byte[] bytes:
                    sink.Add(bytes);
                    return;
                case byte single:
                    sink.Add(single);
                    return;
                case string text:
                    AddText(sink, text);
                    return;
                case char c:
                    AddText(sink, c.ToString());
                    return;
                case char[] chars:
                    AddText(sink, new string(chars));
                    return;
                case SocketDatagram datagram:
                    sink.Add(datagram.Data);
                    return;
                case PSObject ps:
                    Walk(sink, ps.BaseObject, depth);
                    return;
                case IEnumerable items when depth == 0:
                    foreach (object item in items)
                    {
                        Walk(sink, item, depth + 1);
                    }

                    return;
                default:
                    AddText(sink, LanguagePrimitives.ConvertTo<string>(data));
                    return;
            }
        }

        private void AddText<T>(T sink, string text)
            where T : IPayloadSink
        {
            sink.Add(text, Encoding);
            if (NewLine != null)
            {
                sink.Add(NewLine, Encoding);
            }
        }

        /// <summary>The bytes of one piece, gathered in memory (a datagram is at most 64 KiB, a typed line short).</summary>
        private sealed class MemorySink : IPayloadSink
        {
            private readonly MemoryStream _bytes = new MemoryStream();

            public void Add(byte[] bytes) => _bytes.Write(bytes, 0, bytes.Length);

            public void Add(byte value) => _bytes.WriteByte(value);

            public void Add(string text, Encoding encoding)
            {
                if (!string.IsNullOrEmpty(text))
                {
                    byte[] encoded = encoding.GetBytes(text);
                    _bytes.Write(encoded, 0, encoded.Length);
                }
            }

            public byte[] ToArray() => _bytes.ToArray();
        }
    }

    /// <summary>Where <see cref="PayloadEncoder"/> puts the bytes of an object: raw bytes, one byte, or text to encode.</summary>
    internal interface IPayloadSink
    {
        void Add(byte[] bytes);

        void Add(byte value);

        void Add(string text, Encoding encoding);
    }

    /// <summary>A stream send: the bytes go to the socket's send buffer, which gathers small pieces into larger sends.</summary>
    internal readonly struct SendBufferSink : IPayloadSink
    {
        private readonly SendBuffer _buffer;

        public SendBufferSink(SendBuffer buffer) => _buffer = buffer;

        public void Add(byte[] bytes) => _buffer.Append(bytes);

        public void Add(byte value) => _buffer.Append(value);

        public void Add(string text, Encoding encoding) => _buffer.Append(text, encoding);
    }
}

using System.Collections;
using System.Management.Automation;
using System.Text;

namespace SocketCmdlets
{
    /// <summary>How objects from the pipeline become bytes on a stream socket (Send-SocketData, Invoke-SocketRequest).</summary>
    internal static class Payload
    {
        /// <summary>
        /// Adds <paramref name="data"/> to <paramref name="buffer"/>: byte arrays and single bytes as they are, strings and
        /// characters encoded (followed by <paramref name="newLine"/> when it is not null), a datagram's bytes, the items
        /// of a collection one level deep, and anything else as its string form.
        /// </summary>
        public static void Append(SendBuffer buffer, object data, Encoding encoding, string newLine, int depth = 0)
        {
            switch (data)
            {
                case null:
                    return;
                case byte[] bytes:
                    buffer.Append(bytes);
                    return;
                case byte single:
                    buffer.Append(single);
                    return;
                case string text:
                    AppendText(buffer, text, encoding, newLine);
                    return;
                case char c:
                    AppendText(buffer, c.ToString(), encoding, newLine);
                    return;
                case char[] chars:
                    AppendText(buffer, new string(chars), encoding, newLine);
                    return;
                case SocketDatagram datagram:
                    buffer.Append(datagram.Data);
                    return;
                case PSObject ps:
                    Append(buffer, ps.BaseObject, encoding, newLine, depth);
                    return;
                case IEnumerable items when depth == 0:
                    foreach (object item in items)
                    {
                        Append(buffer, item, encoding, newLine, depth + 1);
                    }

                    return;
                default:
                    AppendText(buffer, LanguagePrimitives.ConvertTo<string>(data), encoding, newLine);
                    return;
            }
        }

        private static void AppendText(SendBuffer buffer, string text, Encoding encoding, string newLine)
        {
            buffer.Append(text, encoding);
            if (newLine != null)
            {
                buffer.Append(newLine, encoding);
            }
        }
    }
}

using System;
using System.IO;
using System.Text;

namespace SocketCmdlets
{
    /// <summary>
    /// The transcript of an interactive session: one timestamped entry per line (or part of a line, as it arrived),
    /// "&gt;" for what was sent, "&lt;" for what was received, "#" for the session's own notes.
    /// </summary>
    internal sealed class SessionTranscript : IDisposable
    {
        private readonly TextWriter _writer;
        private readonly Func<DateTimeOffset> _clock;

        /// <summary>Creates (or overwrites) the transcript file.</summary>
        public SessionTranscript(string path, Func<DateTimeOffset> clock = null)
            : this(new StreamWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read), new UTF8Encoding(false)), clock)
        {
        }

        /// <summary>A transcript written to <paramref name="writer"/>.</summary>
        public SessionTranscript(TextWriter writer, Func<DateTimeOffset> clock = null)
        {
            _writer = writer ?? throw new ArgumentNullException(nameof(writer));
            _clock = clock ?? (() => DateTimeOffset.Now);
        }

        /// <summary>Records text sent to the peer.</summary>
        public void Sent(string text) => Entry('>', text);

        /// <summary>Records text received from the peer.</summary>
        public void Received(string text) => Entry('<', text);

        /// <summary>Records a note of the session (start, half-close, end).</summary>
        public void Note(string text) => Entry('#', text);

        /// <summary>Flushes and closes the file.</summary>
        public void Dispose() => _writer.Dispose();

        private void Entry(char direction, string text)
        {
            if (string.IsNullOrEmpty(text))
            {
                return;
            }

            string stamp = _clock().ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", System.Globalization.CultureInfo.InvariantCulture);
            int start = 0;
            while (start < text.Length)
            {
                int end = text.IndexOf('\n', start);
                int next = end < 0 ? text.Length : end + 1;
                int length = (end < 0 ? text.Length : end) - start;
                if (length > 0 && text[start + length - 1] == '\r')
                {
                    length--;
                }

                _writer.Write(stamp);
                _writer.Write(' ');
                _writer.Write(direction);
                _writer.Write(' ');
                _writer.Write(Visible(text, start, length));
                _writer.Write('\n');
                start = next;
            }

            _writer.Flush();
        }

        // Control characters other than tab are written as \xNN, so an entry stays one line and readable.
        private static string Visible(string text, int start, int length)
        {
            var visible = new StringBuilder(length);
            for (int i = start; i < start + length; i++)
            {
                char c = text[i];
                if (c < 0x20 && c != '\t' || c == 0x7F)
                {
                    visible.Append("\\x").Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                }
                else
                {
                    visible.Append(c);
                }
            }

            return visible.ToString();
        }
    }
}

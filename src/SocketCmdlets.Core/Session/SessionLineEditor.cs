using System.Text;

namespace SocketCmdlets
{
    /// <summary>What a key press means to an interactive session.</summary>
    internal enum SessionKeyAction
    {
        /// <summary>The key does nothing (an arrow, a function key, a backspace on an empty line).</summary>
        Ignored,
        /// <summary>A character was added to the line; <see cref="SessionLineEditor.Echo"/> shows it.</summary>
        Inserted,
        /// <summary>The last character was removed; <see cref="SessionLineEditor.Erased"/> cells must be blanked.</summary>
        Erased,
        /// <summary>Enter: <see cref="SessionLineEditor.Completed"/> holds the line to send (without its line ending).</summary>
        Line,
        /// <summary>Ctrl+D, or Ctrl+Z then Enter: the end of the input (half-close); <see cref="SessionLineEditor.Completed"/> holds text typed before it.</summary>
        EndOfInput,
        /// <summary>Ctrl+C read as a key: the session ends.</summary>
        Interrupt,
    }

    /// <summary>
    /// The line being typed in an interactive session, fed key by key: printable characters are added, Backspace
    /// removes, Enter completes a line, Ctrl+D (or Ctrl+Z then Enter, as on Windows) ends the input. Pure logic, no
    /// console: the caller echoes what it is told.
    /// </summary>
    internal sealed class SessionLineEditor
    {
        private const char CtrlC = '\u0003';
        private const char CtrlD = '\u0004';
        private const char CtrlZ = '\u001A';
        private readonly StringBuilder _line = new StringBuilder();

        /// <summary>The text typed so far on the current line.</summary>
        public string Text => _line.ToString();

        /// <summary>What the screen shows of the current line (control characters as ^X).</summary>
        public string Display
        {
            get
            {
                var display = new StringBuilder(_line.Length);
                foreach (char c in _line.ToString())
                {
                    display.Append(Show(c));
                }

                return display.ToString();
            }
        }

        /// <summary>After <see cref="SessionKeyAction.Inserted"/>: what to write.</summary>
        public string Echo { get; private set; }

        /// <summary>After <see cref="SessionKeyAction.Erased"/>: how many cells to blank.</summary>
        public int Erased { get; private set; }

        /// <summary>After <see cref="SessionKeyAction.Line"/> or <see cref="SessionKeyAction.EndOfInput"/>: the text typed.</summary>
        public string Completed { get; private set; }

        /// <summary>Feeds one key: its character (0 for keys without one) and whether it was Enter or Backspace by key code.</summary>
        public SessionKeyAction Key(char character, bool isEnter = false, bool isBackspace = false)
        {
            Echo = null;
            Erased = 0;
            Completed = null;
            if (isEnter || character == '\r' || character == '\n')
            {
                string line = _line.ToString();
                _line.Clear();
                if (line.Length > 0 && line[line.Length - 1] == CtrlZ)
                {
                    Completed = line.Substring(0, line.Length - 1);
                    return SessionKeyAction.EndOfInput;
                }

                Completed = line;
                return SessionKeyAction.Line;
            }

            if (isBackspace || character == '\b' || character == '\u007F')
            {
                if (_line.Length == 0)
                {
                    return SessionKeyAction.Ignored;
                }

                int remove = _line.Length >= 2 && char.IsLowSurrogate(_line[_line.Length - 1]) && char.IsHighSurrogate(_line[_line.Length - 2]) ? 2 : 1;
                Erased = remove == 2 ? 1 : Show(_line[_line.Length - 1]).Length;
                _line.Length -= remove;
                return SessionKeyAction.Erased;
            }

            switch (character)
            {
                case CtrlC:
                    return SessionKeyAction.Interrupt;
                case CtrlD:
                    Completed = _line.ToString();
                    _line.Clear();
                    return SessionKeyAction.EndOfInput;
                case '\0':
                    return SessionKeyAction.Ignored;
            }

            if (character < ' ' && character != '\t' && character != CtrlZ)
            {
                // Other control keys (Escape, Ctrl+letters) are not sent: they would surprise the peer.
                return SessionKeyAction.Ignored;
            }

            _line.Append(character);
            Echo = Show(character);
            return SessionKeyAction.Inserted;
        }

        /// <summary>Forgets the current line.</summary>
        public void Clear() => _line.Clear();

        private static string Show(char c) =>
            c == CtrlZ ? "^Z" : c == '\t' ? " " : c.ToString();
    }
}

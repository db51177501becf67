using System;
using System.Management.Automation.Host;
using System.Text;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// The screen of an interactive session, written only through the host and only from the pipeline thread. What
    /// arrives is shown while a line is being typed: the typed line is taken off the screen, the received text written,
    /// and the typed line drawn again after it.
    /// </summary>
    internal sealed class SessionConsole
    {
        // A received line longer than this is not redrawn; the typed line then starts on a line of its own.
        private const int MaxRedraw = 2048;

        private readonly PSHostUserInterface _ui;
        private readonly bool _virtualTerminal;
        private readonly StringBuilder _partial = new StringBuilder();
        private string _input = string.Empty;

        public SessionConsole(PSHostUserInterface ui)
        {
            _ui = ui;
            _virtualTerminal = SupportsVirtualTerminal(ui);
        }

        /// <summary>True when the last thing written was not a line ending.</summary>
        public bool MidLine => _partial.Length > 0 || _input.Length > 0;

        /// <summary>Echoes a typed character (or its display, ^Z).</summary>
        public void Echo(string text, string inputDisplay)
        {
            _ui.Write(text);
            _input = inputDisplay;
        }

        /// <summary>Blanks the last <paramref name="cells"/> typed cells.</summary>
        public void Erase(int cells, string inputDisplay)
        {
            string back = new string('\b', cells);
            _ui.Write(back + new string(' ', cells) + back);
            _input = inputDisplay;
        }

        /// <summary>Ends the typed line on the screen (Enter).</summary>
        public void EndInputLine()
        {
            _ui.WriteLine();
            _input = string.Empty;
            _partial.Clear();
        }

        /// <summary>Shows received text (or hex rows), keeping the line being typed after it.</summary>
        public void Show(string text)
        {
            if (string.IsNullOrEmpty(text))
            {
                return;
            }

            string input = _input;
            TakeInputOff();
            _ui.Write(text);
            Track(text);
            PutInputBack(input);
        }

        /// <summary>Runs <paramref name="write"/> (a verbose or error line) on a line of its own, keeping the typed line after it.</summary>
        public void Around(Action write)
        {
            string input = _input;
            TakeInputOff();
            if (_partial.Length > 0)
            {
                _ui.WriteLine();
                _partial.Clear();
            }

            write();
            PutInputBack(input);
        }

        /// <summary>Leaves the cursor at the start of a line, so the prompt that follows the session is where it belongs.</summary>
        public void Finish()
        {
            if (MidLine)
            {
                _ui.WriteLine();
            }

            _partial.Clear();
            _input = string.Empty;
        }

        private void TakeInputOff()
        {
            if (_input.Length == 0)
            {
                return;
            }

            int width = Width();
            int cells = _partial.Length + _input.Length;
            if (_virtualTerminal && _partial.Length <= MaxRedraw && width > 0)
            {
                // Back to the start of the block of rows that holds the received part line and the typed text, clear
                // to the end of the screen, and write the received part again.
                int rows = (cells - 1) / width;
                _ui.Write("\r" + (rows > 0 ? $"\u001b[{rows}A" : string.Empty) + "\u001b[J" + _partial);
            }
            else
            {
                // Without cursor control the typed text stays where it is; what arrives starts on a new line.
                _ui.WriteLine();
                _partial.Clear();
            }

            _input = string.Empty;
        }

        private void PutInputBack(string input)
        {
            if (input.Length > 0)
            {
                _ui.Write(input);
                _input = input;
            }
        }

        private void Track(string text)
        {
            int newline = text.LastIndexOf('\n');
            if (newline >= 0)
            {
                _partial.Clear();
                _partial.Append(text, newline + 1, text.Length - newline - 1);
            }
            else
            {
                _partial.Append(text);
            }

            // A carriage return moves back to the start of the line: what follows it is what shows first.
            string partial = _partial.ToString();
            int carriage = partial.LastIndexOf('\r');
            if (carriage >= 0)
            {
                _partial.Remove(0, carriage + 1);
            }

            if (_partial.Length > MaxRedraw * 2)
            {
                _partial.Remove(0, _partial.Length - MaxRedraw * 2);
            }
        }

        private int Width()
        {
            try
            {
                return _ui.RawUI.BufferSize.Width;
            }
            catch (Exception e) when (e is HostException || e is NotImplementedException || e is InvalidOperationException)
            {
                return 0;
            }
        }

        private static bool SupportsVirtualTerminal(PSHostUserInterface ui)
        {
            // PSHostUserInterface.SupportsVirtualTerminal exists from PowerShell 7 on; Windows PowerShell hosts have none.
            System.Reflection.PropertyInfo property = ui.GetType().GetProperty("SupportsVirtualTerminal");
            return property != null && property.GetValue(ui) is bool supported && supported;
        }
    }
}

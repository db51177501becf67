using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;

namespace SocketCmdlets.Commands
{
    /// <summary>Turns a name (utf8, ascii, ...), a code page number or an Encoding object into an Encoding.</summary>
    public sealed class EncodingTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            object value = inputData is PSObject ps ? ps.BaseObject : inputData;
            try
            {
                return TextEncoding.Resolve(value);
            }
            catch (Exception e) when (e is ArgumentException || e is NotSupportedException)
            {
                throw new ArgumentTransformationMetadataException(
                    $"'{value}' is not a known encoding. Use one of {string.Join(", ", TextEncoding.Names)}, a code page number or an Encoding object.", e);
            }
        }
    }

    /// <summary>Tab completion for -Encoding.</summary>
    public sealed class EncodingCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
            return TextEncoding.Names
                .Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
        }
    }
}

namespace SocketCmdlets.Commands
{
    /// <summary>Tab completion for a local -Address.</summary>
    public sealed class AddressCompleter : IArgumentCompleter
    {
        private static readonly string[] s_values = { "Any", "Loopback", "127.0.0.1", "::1" };

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
            return s_values
                .Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(n => new CompletionResult(n.Contains(":") ? $"'{n}'" : n, n, CompletionResultType.ParameterValue, n));
        }
    }
}

namespace SocketCmdlets.Commands
{
    /// <summary>Tab completion for -Id: the ids of the open sockets.</summary>
    public sealed class SocketIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string prefix = wordToComplete ?? string.Empty;
            return SocketRegistry.Snapshot()
                .Where(s => s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture).StartsWith(prefix, StringComparison.Ordinal))
                .Select(s => new CompletionResult(s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), CompletionResultType.ParameterValue, s.ToString()));
        }
    }

    /// <summary>Tab completion for -Name: the names of the open sockets, quoted only when the bare text would not read back as the name.</summary>
    public sealed class SocketNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string typed = wordToComplete ?? string.Empty;
            char quote = typed.Length > 0 && (typed[0] == '\'' || typed[0] == '"') ? typed[0] : '\0';
            string prefix = typed.Trim('\'', '"');
            return SocketRegistry.Snapshot()
                .Where(s => !string.IsNullOrEmpty(s.Name) && s.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(s => s.Name)
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .Select(n => new CompletionResult(Quote(WildcardPattern.Escape(n), quote), n, CompletionResultType.ParameterValue, n));
        }

        /// <summary>
        /// The text to insert for <paramref name="value"/>: bare when PowerShell reads it back as exactly that string,
        /// else in the quote the user started with (single quotes by default).
        /// </summary>
        internal static string Quote(string value, char quote)
        {
            if (quote == '\0' && ReadsBackBare(value))
            {
                return value;
            }

            return quote == '"'
                ? "\"" + value.Replace("`", "``").Replace("\"", "`\"").Replace("$", "`$") + "\""
                : "'" + value.Replace("'", "''") + "'";
        }

        private static bool ReadsBackBare(string value)
        {
            if (value.Length == 0)
            {
                return false;
            }

            // Tokenize it as a command argument: one plain word with the same value, nothing expanded or split.
            Parser.ParseInput("x " + value, out Token[] tokens, out ParseError[] errors);
            if (errors.Length != 0 || tokens.Length != 3 || tokens[1].Text != value)
            {
                return false;
            }

            return tokens[1].Kind == TokenKind.Identifier
                || (tokens[1].Kind == TokenKind.Generic && tokens[1] is StringLiteralToken word && word.Value == value);
        }
    }
}

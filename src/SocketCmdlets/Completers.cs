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

    /// <summary>Tab completion for -Name: the names of the open sockets.</summary>
    public sealed class SocketNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
            return SocketRegistry.Snapshot()
                .Where(s => !string.IsNullOrEmpty(s.Name) && s.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(s => s.Name)
                .Distinct()
                .Select(n => new CompletionResult($"'{n.Replace("'", "''")}'", n, CompletionResultType.ParameterValue, n));
        }
    }
}

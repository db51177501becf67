using System;
using System.Management.Automation;
using System.Text;

namespace SocketCmdlets.Commands
{
    /// <summary>Checks of record parameters made before any socket call.</summary>
    internal static class RecordChecks
    {
        /// <summary>
        /// An error when <paramref name="encoding"/> cannot carry <paramref name="value"/> (a -Delimiter or -NewLine) unchanged,
        /// else null: records would be cut at, or lines ended with, other bytes than the ones asked for.
        /// </summary>
        public static ErrorRecord Unencodable(string value, string parameterName, Encoding encoding)
        {
            if (value == null || TextEncoding.CanCarry(encoding, value))
            {
                return null;
            }

            string became = encoding.GetString(encoding.GetBytes(value));
            return ErrorFactory.Create(new ArgumentException($"The encoding {encoding.WebName} cannot carry the {parameterName} '{value}'."),
                "DelimiterNotEncodable", ErrorCategory.InvalidArgument, value,
                $"-{parameterName} '{Escape(value)}' cannot be written in the encoding {encoding.WebName}: it would become '{Escape(became)}'. "
                + "Use an encoding that has its characters (utf8, the default), or a delimiter made of characters the encoding has.");
        }

        private static string Escape(string text) => text.Replace("\r", "`r").Replace("\n", "`n").Replace("\0", "`0");
    }
}

using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SocketCmdlets
{
    /// <summary>
    /// Splits the one-argument endpoint forms people type after ssh, curl or Test-NetConnection: <c>host:port</c>,
    /// <c>[v6]:port</c> and <c>[v6]</c>. Pure text work: nothing is resolved or connected here.
    /// </summary>
    internal static class HostPort
    {
        /// <summary>
        /// Parses <paramref name="text"/>. <paramref name="port"/> is null when the text names no port. A bare IPv6
        /// address (<c>::1</c>, two or more colons, no brackets) is a host: its last group is never read as a port.
        /// On failure <paramref name="error"/> says what is wrong with the text, for a person.
        /// </summary>
        public static bool TryParse(string text, out string host, out int? port, out string error)
        {
            host = null;
            port = null;
            error = null;
            if (string.IsNullOrWhiteSpace(text))
            {
                error = "the host is empty.";
                return false;
            }

            text = text.Trim();
            if (text[0] == '[')
            {
                int close = text.IndexOf(']');
                if (close < 0)
                {
                    error = $"'{text}' opens a bracket for an IPv6 address but never closes it: write [address] or [address]:port.";
                    return false;
                }

                string inner = text.Substring(1, close - 1);
                if (!IPAddress.TryParse(inner, out IPAddress address) || address.AddressFamily != AddressFamily.InterNetworkV6)
                {
                    error = $"'{text}' puts '{inner}' in brackets, which is not an IPv6 address: brackets are only for IPv6 addresses, as in [::1]:8080.";
                    return false;
                }

                string rest = text.Substring(close + 1);
                if (rest.Length == 0)
                {
                    host = inner;
                    return true;
                }

                if (rest[0] != ':')
                {
                    error = $"'{text}' has '{rest}' after the closing bracket: only :port may follow, as in [::1]:8080.";
                    return false;
                }

                if (!TryPort(text, rest.Substring(1), ref port, ref error))
                {
                    return false;
                }

                host = inner;
                return true;
            }

            int first = text.IndexOf(':');
            if (first < 0)
            {
                host = text;
                return true;
            }

            if (text.IndexOf(':', first + 1) >= 0)
            {
                // Two or more colons: an IPv6 address without a port, the way ping and ssh read it.
                if (!IPAddress.TryParse(text, out IPAddress address) || address.AddressFamily != AddressFamily.InterNetworkV6)
                {
                    error = $"'{text}' is neither host:port nor an IPv6 address: put an IPv6 address in brackets to add a port, as in [::1]:8080.";
                    return false;
                }

                host = text;
                return true;
            }

            if (first == 0)
            {
                error = $"'{text}' names a port but no host: write host:port, as in localhost:8080.";
                return false;
            }

            if (!TryPort(text, text.Substring(first + 1), ref port, ref error))
            {
                return false;
            }

            host = text.Substring(0, first);
            return true;
        }

        private static bool TryPort(string text, string digits, ref int? port, ref string error)
        {
            if (digits.Length == 0 || digits.Length > 5 || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
                || value < 1 || value > 65535)
            {
                error = $"'{text}' ends in '{digits}', which is not a port: a port is a number from 1 to 65535.";
                return false;
            }

            port = value;
            return true;
        }
    }
}

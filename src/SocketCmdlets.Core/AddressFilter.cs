using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SocketCmdlets
{
    /// <summary>
    /// Who may connect: lists of IP addresses and CIDR ranges (IPv4 and IPv6) to allow and to deny. A denied address
    /// is refused even when it is also allowed; an empty allow list allows every address that is not denied.
    /// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are compared as the IPv4 address they carry.
    /// </summary>
    internal sealed class AddressFilter
    {
        private readonly Range[] _allow;
        private readonly Range[] _deny;

        private AddressFilter(Range[] allow, Range[] deny)
        {
            _allow = allow;
            _deny = deny;
        }

        /// <summary>True when the filter lets every address through.</summary>
        public bool IsEmpty => _allow.Length == 0 && _deny.Length == 0;

        /// <summary>
        /// A filter from lists of addresses and CIDR ranges (either list may be null). A malformed entry throws an
        /// <see cref="ArgumentException"/> whose message names it.
        /// </summary>
        public static AddressFilter Create(string[] allow, string[] deny) =>
            new AddressFilter(Parse(allow, "allow"), Parse(deny, "deny"));

        /// <summary>
        /// True when <paramref name="address"/> may connect. A null address (a Unix domain socket peer) is allowed
        /// only by an empty filter.
        /// </summary>
        public bool IsAllowed(IPAddress address)
        {
            if (address == null)
            {
                return IsEmpty;
            }

            byte[] bytes = Canonical(address).GetAddressBytes();
            foreach (Range range in _deny)
            {
                if (range.Contains(bytes))
                {
                    return false;
                }
            }

            if (_allow.Length == 0)
            {
                return true;
            }

            foreach (Range range in _allow)
            {
                if (range.Contains(bytes))
                {
                    return true;
                }
            }

            return false;
        }

        private static Range[] Parse(string[] entries, string list)
        {
            var ranges = new List<Range>();
            foreach (string entry in entries ?? Array.Empty<string>())
            {
                ranges.Add(ParseEntry(entry, list));
            }

            return ranges.ToArray();
        }

        private static Range ParseEntry(string entry, string list)
        {
            string text = entry?.Trim();
            if (string.IsNullOrEmpty(text))
            {
                throw new ArgumentException($"An empty entry in the {list} list is not an IP address or a CIDR range.", list);
            }

            string addressText = text;
            int? prefix = null;
            int slash = text.IndexOf('/');
            if (slash >= 0)
            {
                addressText = text.Substring(0, slash);
                if (!int.TryParse(text.Substring(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int bits))
                {
                    throw Bad(entry, list, "the prefix length after '/' is not a number");
                }

                prefix = bits;
            }

            if (!TryParseAddress(addressText, out IPAddress address))
            {
                throw Bad(entry, list, "it is not an IP address");
            }

            bool mapped = address.AddressFamily == AddressFamily.InterNetworkV6 && IsV4Mapped(address);
            int maxBits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            int length = prefix ?? maxBits;
            if (length < 0 || length > maxBits)
            {
                throw Bad(entry, list, $"the prefix length must be between 0 and {maxBits}");
            }

            if (mapped)
            {
                // ::ffff:10.0.0.0/104 is the IPv4 range 10.0.0.0/8; a shorter prefix reaches beyond the mapped block.
                if (length < 96)
                {
                    throw Bad(entry, list, "an IPv4-mapped range needs a prefix length of at least 96");
                }

                address = Canonical(address);
                length -= 96;
            }

            return new Range(address.GetAddressBytes(), length);
        }

        private static ArgumentException Bad(string entry, string list, string why) =>
            new ArgumentException($"'{entry}' in the {list} list is not an IP address or a CIDR range (such as 10.0.0.0/8 or ::1): {why}.", list);

        private static bool TryParseAddress(string text, out IPAddress address)
        {
            address = null;
            if (text.Length == 0)
            {
                return false;
            }

            // IPAddress.TryParse takes "10" and "10.1" as shorthand IPv4 forms; an allow list must say all four parts.
            if (text.IndexOf(':') < 0)
            {
                string[] parts = text.Split('.');
                if (parts.Length != 4)
                {
                    return false;
                }

                foreach (string part in parts)
                {
                    if (part.Length == 0 || part.Length > 3 || !byte.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                    {
                        return false;
                    }
                }
            }

            if (text.StartsWith("[", StringComparison.Ordinal) && text.EndsWith("]", StringComparison.Ordinal))
            {
                text = text.Substring(1, text.Length - 2);
            }

            return IPAddress.TryParse(text, out address);
        }

        private static IPAddress Canonical(IPAddress address)
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && IsV4Mapped(address))
            {
                byte[] bytes = address.GetAddressBytes();
                return new IPAddress(new[] { bytes[12], bytes[13], bytes[14], bytes[15] });
            }

            if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
            {
                // fe80::1%eth0 and fe80::1 are the same address for a filter.
                return new IPAddress(address.GetAddressBytes());
            }

            return address;
        }

        // IPAddress.IsIPv4MappedToIPv6 is missing from netstandard2.0.
        private static bool IsV4Mapped(IPAddress address)
        {
            byte[] bytes = address.GetAddressBytes();
            if (bytes.Length != 16)
            {
                return false;
            }

            for (int i = 0; i < 10; i++)
            {
                if (bytes[i] != 0)
                {
                    return false;
                }
            }

            return bytes[10] == 0xff && bytes[11] == 0xff;
        }

        private readonly struct Range
        {
            private readonly byte[] _network;
            private readonly int _prefix;

            public Range(byte[] network, int prefix)
            {
                _network = network;
                _prefix = prefix;
            }

            public bool Contains(byte[] address)
            {
                if (address.Length != _network.Length)
                {
                    return false;
                }

                int full = _prefix / 8;
                for (int i = 0; i < full; i++)
                {
                    if (address[i] != _network[i])
                    {
                        return false;
                    }
                }

                int rest = _prefix % 8;
                if (rest == 0)
                {
                    return true;
                }

                int mask = 0xff << (8 - rest) & 0xff;
                return (address[full] & mask) == (_network[full] & mask);
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SocketCmdlets
{
    /// <summary>
    /// Who may connect: IP addresses and CIDR ranges (IPv4 and IPv6) to allow and to deny. Deny wins over allow; an
    /// empty allow list allows every address not denied. IPv4-mapped IPv6 addresses are compared as IPv4.
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
        /// Parses the lists. An entry that is neither an address nor a CIDR range throws <see cref="ArgumentException"/>
        /// naming it, so a typo is refused before anything is bound.
        /// </summary>
        public static AddressFilter Create(string[] allow, string[] deny) =>
            new AddressFilter(Parse(allow, "allow"), Parse(deny, "deny"));

        /// <summary>True when <paramref name="address"/> may connect.</summary>
        public bool IsAllowed(IPAddress address)
        {
            if (address == null)
            {
                return _allow.Length == 0 && _deny.Length == 0;
            }

            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            byte[] bytes = address.GetAddressBytes();
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
            foreach (string raw in entries ?? Array.Empty<string>())
            {
                string entry = raw?.Trim();
                if (string.IsNullOrEmpty(entry))
                {
                    throw new ArgumentException($"The {list} list has an empty entry; give IP addresses or CIDR ranges such as 10.0.0.0/8 or ::1.");
                }

                ranges.Add(ParseOne(entry, list));
            }

            return ranges.ToArray();
        }

        private static Range ParseOne(string entry, string list)
        {
            int slash = entry.IndexOf('/');
            string addressText = slash < 0 ? entry : entry.Substring(0, slash);
            if (!IPAddress.TryParse(addressText.Trim('[', ']'), out IPAddress address)
                || (address.AddressFamily != AddressFamily.InterNetwork && address.AddressFamily != AddressFamily.InterNetworkV6))
            {
                throw new ArgumentException($"'{entry}' in the {list} list is not an IP address or a CIDR range (such as 10.0.0.0/8 or fd00::/8).");
            }

            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            byte[] bytes = address.GetAddressBytes();
            int maxBits = bytes.Length * 8;
            int bits = maxBits;
            if (slash >= 0)
            {
                string prefix = entry.Substring(slash + 1);
                if (!int.TryParse(prefix, NumberStyles.None, CultureInfo.InvariantCulture, out bits) || bits < 0 || bits > maxBits)
                {
                    throw new ArgumentException($"'{entry}' in the {list} list has an invalid prefix length: it must be 0 to {maxBits} for this address family.");
                }
            }

            return new Range(bytes, bits);
        }

        private readonly struct Range
        {
            private readonly byte[] _network;
            private readonly int _bits;

            public Range(byte[] network, int bits)
            {
                _network = network;
                _bits = bits;
            }

            public bool Contains(byte[] address)
            {
                if (address.Length != _network.Length)
                {
                    return false;
                }

                int full = _bits / 8;
                for (int i = 0; i < full; i++)
                {
                    if (address[i] != _network[i])
                    {
                        return false;
                    }
                }

                int rest = _bits % 8;
                if (rest == 0)
                {
                    return true;
                }

                int mask = (0xFF << (8 - rest)) & 0xFF;
                return (address[full] & mask) == (_network[full] & mask);
            }
        }
    }
}

using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace SocketCmdlets
{
    /// <summary>Turns the -Address words of the cmdlets into addresses.</summary>
    public static class AddressResolver
    {
        /// <summary>
        /// The local address for a bind: null for Any (every interface), the loopback address of the socket's family
        /// for Loopback, a literal address, or the first address of a host name that fits the socket.
        /// </summary>
        public static IPAddress ForBinding(string address, NetSocket socket)
        {
            if (socket == null)
            {
                throw new ArgumentNullException(nameof(socket));
            }

            string text = (address ?? string.Empty).Trim();
            if (text.Length == 0 || text == "*" || text.Equals("Any", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            bool ipv6Only = socket.Socket.AddressFamily == AddressFamily.InterNetworkV6 && !socket.DualMode;
            if (text.Equals("Loopback", StringComparison.OrdinalIgnoreCase))
            {
                return ipv6Only ? IPAddress.IPv6Loopback : IPAddress.Loopback;
            }

            if (IPAddress.TryParse(text.Trim('[', ']'), out IPAddress literal))
            {
                return literal.IsIPv4MappedToIPv6 ? literal.MapToIPv4() : literal;
            }

            IPAddress[] addresses = Dns.GetHostAddresses(text);
            IPAddress fit = addresses.FirstOrDefault(a => a.AddressFamily == socket.Socket.AddressFamily)
                ?? addresses.FirstOrDefault(a => socket.DualMode && a.AddressFamily == AddressFamily.InterNetwork);
            if (fit == null)
            {
                throw new SocketException((int)(addresses.Length == 0 ? SocketError.HostNotFound : SocketError.AddressFamilyNotSupported));
            }

            return fit;
        }

        /// <summary>
        /// The address to send datagrams to: a literal address, or the first address of a host name that the socket
        /// can reach (IPv4 first on a dual-mode socket, as localhost servers usually bind IPv4).
        /// </summary>
        public static IPAddress ForDestination(string host, NetSocket socket)
        {
            if (socket == null)
            {
                throw new ArgumentNullException(nameof(socket));
            }

            if (string.IsNullOrWhiteSpace(host))
            {
                throw new ArgumentException("A host name or address is required.", nameof(host));
            }

            if (IPAddress.TryParse(host.Trim().Trim('[', ']'), out IPAddress literal))
            {
                return literal.IsIPv4MappedToIPv6 ? literal.MapToIPv4() : literal;
            }

            IPAddress[] addresses = Dns.GetHostAddresses(host.Trim());
            AddressFamily family = socket.Socket.AddressFamily;
            IPAddress fit = socket.DualMode
                ? addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault(a => a.AddressFamily == family)
                : addresses.FirstOrDefault(a => a.AddressFamily == family);
            if (fit == null)
            {
                throw new SocketException((int)(addresses.Length == 0 ? SocketError.HostNotFound : SocketError.AddressFamilyNotSupported));
            }

            return fit;
        }
    }
}

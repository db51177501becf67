using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>Turns the -Address words of the cmdlets into addresses.</summary>
    internal static class AddressResolver
    {
        /// <summary>
        /// The local address for a bind: null for Any (every interface), the loopback address of the socket's family
        /// for Loopback, a literal address, or the first address of a host name that fits the socket. A name lookup
        /// waits without limit but cannot be cancelled: prefer the overload with a timeout and a token.
        /// </summary>
        public static IPAddress ForBinding(string address, NetSocket socket) =>
            ForBinding(address, socket, Timeout.InfiniteTimeSpan, CancellationToken.None);

        /// <summary>
        /// The local address for a bind, as <see cref="ForBinding(string, NetSocket)"/>; a host name is resolved within
        /// <paramref name="timeout"/> (infinite: no limit) and the lookup ends at once when
        /// <paramref name="cancellationToken"/> is cancelled. <paramref name="trace"/> hears about the lookup.
        /// </summary>
        public static IPAddress ForBinding(string address, NetSocket socket, TimeSpan timeout, CancellationToken cancellationToken, Action<string> trace = null)
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

            IPAddress[] addresses = Resolver.Resolve(text, Deadline.After(timeout), cancellationToken, SocketOperation.Resolve, trace);
            if (addresses.Length == 1 && IPAddress.TryParse(text.Trim('[', ']'), out _))
            {
                // A literal is taken as written (an IPv4-mapped one as IPv4), whatever the socket's family.
                return addresses[0].IsIPv4MappedToIPv6 ? addresses[0].MapToIPv4() : addresses[0];
            }

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
        /// can reach (IPv4 first on a dual-mode socket, as localhost servers usually bind IPv4). A name lookup waits
        /// without limit but cannot be cancelled: prefer the overload with a timeout and a token.
        /// </summary>
        public static IPAddress ForDestination(string host, NetSocket socket) =>
            ForDestination(host, socket, Timeout.InfiniteTimeSpan, CancellationToken.None);

        /// <summary>
        /// The address to send datagrams to, as <see cref="ForDestination(string, NetSocket)"/>; a host name is resolved
        /// within <paramref name="timeout"/> (infinite: no limit) and the lookup ends at once when
        /// <paramref name="cancellationToken"/> is cancelled.
        /// </summary>
        public static IPAddress ForDestination(string host, NetSocket socket, TimeSpan timeout, CancellationToken cancellationToken, Action<string> trace = null)
        {
            if (socket == null)
            {
                throw new ArgumentNullException(nameof(socket));
            }

            if (string.IsNullOrWhiteSpace(host))
            {
                throw new ArgumentException("A host name or address is required.", nameof(host));
            }

            IPAddress[] addresses = Resolver.Resolve(host, Deadline.After(timeout), cancellationToken, SocketOperation.Resolve, trace);
            if (addresses.Length == 1 && IPAddress.TryParse(host.Trim().Trim('[', ']'), out _))
            {
                return addresses[0].IsIPv4MappedToIPv6 ? addresses[0].MapToIPv4() : addresses[0];
            }

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

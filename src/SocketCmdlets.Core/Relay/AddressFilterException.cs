using System;

namespace SocketCmdlets
{
    /// <summary>An -AllowAddress or -DenyAddress entry is not an IP address or CIDR range.</summary>
    public sealed class AddressFilterException : ArgumentException
    {
        public AddressFilterException(string message)
            : base(message)
        {
        }
    }
}

using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace SocketCmdlets
{
    /// <summary>
    /// connect() called directly on Linux. Socket.Connect on a non-blocking socket reports the expected EINPROGRESS by
    /// throwing, which costs more CPU than the system call itself; a scan makes one per port. Elsewhere (and for TLS
    /// probes, whose stream needs the managed socket to know it connected) Socket.Connect is used.
    /// </summary>
    internal static class RawConnect
    {
        private const int EInProgress = 115;

        /// <summary>
        /// True where the direct call is used: .NET on Linux, whose SocketAddress is the system's sockaddr. Mono's follows
        /// .NET Framework's (Windows) layout, whose IPv6 family number Linux does not know.
        /// </summary>
        public static readonly bool IsAvailable = RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && !RuntimeFacts.IsMono;

        [DllImport("libc", EntryPoint = "connect", SetLastError = true)]
        private static extern int NativeConnect(IntPtr socket, byte[] address, int length);

        /// <summary>Starts a connect: null while it is pending, Success when done at once, else the error.</summary>
        public static SocketError? Start(Socket socket, IPEndPoint endPoint)
        {
            SocketAddress address = endPoint.Serialize();
            var bytes = new byte[address.Size];
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = address[i];
            }

            if (NativeConnect(socket.Handle, bytes, bytes.Length) == 0)
            {
                return SocketError.Success;
            }

            int errno = Marshal.GetLastWin32Error();
            return errno == EInProgress ? (SocketError?)null : FromErrno(errno);
        }

        private static SocketError FromErrno(int errno)
        {
            switch (errno)
            {
                case 111: return SocketError.ConnectionRefused;
                case 101: return SocketError.NetworkUnreachable;
                case 113: return SocketError.HostUnreachable;
                case 110: return SocketError.TimedOut;
                case 99: return SocketError.AddressNotAvailable;
                case 97: return SocketError.AddressFamilyNotSupported;
                case 1:
                case 13: return SocketError.AccessDenied;
                case 22: return SocketError.InvalidArgument;
                case 11: return SocketError.NoBufferSpaceAvailable;
                case 104: return SocketError.ConnectionReset;
                case 100: return SocketError.NetworkDown;
                case 112: return SocketError.HostDown;
                default: return SocketError.SocketError;
            }
        }
    }
}

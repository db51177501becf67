using System;
using System.IO;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace SocketCmdlets
{
    /// <summary>What is at a Unix socket path, found without opening it (opening a FIFO blocks).</summary>
    public enum UnixPathKind
    {
        /// <summary>Nothing: the path can be bound.</summary>
        None,
        /// <summary>A socket file.</summary>
        Socket,
        /// <summary>A directory.</summary>
        Directory,
        /// <summary>A FIFO (named pipe).</summary>
        Fifo,
        /// <summary>A regular file.</summary>
        RegularFile,
        /// <summary>A symbolic link (not followed).</summary>
        SymbolicLink,
        /// <summary>A character or block device.</summary>
        Device,
        /// <summary>A file whose type could not be learnt.</summary>
        Other,
    }

    /// <summary>
    /// Looks at a Unix socket path without side effects: its file type by lstat(), and whether a socket file still has a
    /// live socket behind it, without ever connecting a stream to it (so a live server never sees a phantom connection)
    /// and without blocking.
    /// </summary>
    internal static class UnixPath
    {
        // The file type bits of the mode .NET's own native shim reports (the POSIX values, normalized on every OS).
        private const int TypeMask = 0xF000;
        private const int TypeFifo = 0x1000;
        private const int TypeCharacter = 0x2000;
        private const int TypeDirectory = 0x4000;
        private const int TypeBlock = 0x6000;
        private const int TypeRegular = 0x8000;
        private const int TypeLink = 0xA000;
        private const int TypeSocket = 0xC000;

        private static bool s_noNative;

        /// <summary>What is at <paramref name="path"/>; symbolic links are not followed.</summary>
        internal static UnixPathKind KindOf(string path)
        {
            if (!s_noNative && !RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                try
                {
                    // libSystem.Native ships with every .NET Core runtime on Unix; its FileStatus starts with two int32
                    // fields, Flags and Mode, in every version, so a generous buffer and the second int are enough.
                    var status = new byte[512];
                    if (LStat(path, status) != 0)
                    {
                        // ENOENT and ENOTDIR (and anything else lstat refuses): treated as nothing there; bind() then says.
                        return File.Exists(path) || Directory.Exists(path) ? UnixPathKind.Other : UnixPathKind.None;
                    }

                    switch (BitConverter.ToInt32(status, 4) & TypeMask)
                    {
                        case TypeSocket: return UnixPathKind.Socket;
                        case TypeDirectory: return UnixPathKind.Directory;
                        case TypeFifo: return UnixPathKind.Fifo;
                        case TypeRegular: return UnixPathKind.RegularFile;
                        case TypeLink: return UnixPathKind.SymbolicLink;
                        case TypeCharacter:
                        case TypeBlock: return UnixPathKind.Device;
                        default: return UnixPathKind.Other;
                    }
                }
                catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException || e is BadImageFormatException)
                {
                    s_noNative = true;
                }
            }

            if (Directory.Exists(path))
            {
                return UnixPathKind.Directory;
            }

            if (!File.Exists(path))
            {
                return UnixPathKind.None;
            }

            // Windows shows an AF_UNIX socket file as a reparse point; elsewhere (no native shim) the type is unknown.
            return RuntimeInformation.IsOSPlatform(OSPlatform.Windows) && (File.GetAttributes(path) & FileAttributes.ReparsePoint) != 0
                ? UnixPathKind.Socket
                : UnixPathKind.Other;
        }

        /// <summary>
        /// True when no socket is bound behind the socket file at <paramref name="path"/> any more (its server is gone).
        /// The probe is a datagram socket's connect(): the kernel answers at once, ECONNREFUSED when no socket holds the
        /// file, EPROTOTYPE for a live stream socket (listening or only bound), success for a live datagram socket. No
        /// connection is queued, so a live server never accepts a phantom. Where datagram Unix sockets do not exist
        /// (Windows), a non-blocking stream connect is closed at once instead; only a refusal counts as stale.
        /// </summary>
        internal static bool IsStale(string path, out SocketError answer)
        {
            System.Net.EndPoint endPoint = UnixEndPoints.Create(path);
            Socket probe;
            try
            {
                probe = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            }
            catch (SocketException)
            {
                probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            }

            using (probe)
            {
                probe.Blocking = false;
                try
                {
                    probe.Connect(endPoint);
                    answer = SocketError.Success;
                }
                catch (SocketException e)
                {
                    answer = e.SocketErrorCode;
                }
            }

            return answer == SocketError.ConnectionRefused;
        }

        [DllImport("libSystem.Native", EntryPoint = "SystemNative_LStat")]
        private static extern int LStatNative(byte[] path, byte[] status);

        // The path as the NUL-terminated UTF-8 the shim expects (netstandard2.0 has no UTF-8 string marshalling).
        private static int LStat(string path, byte[] status) => LStatNative(System.Text.Encoding.UTF8.GetBytes(path + "\0"), status);
    }
}

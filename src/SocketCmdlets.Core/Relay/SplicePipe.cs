using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace SocketCmdlets
{
    /// <summary>
    /// Zero-copy forwarding on Linux: splice(2) moves bytes from one socket into a pipe and from the pipe into the other
    /// socket inside the kernel, never through a buffer of ours (HAProxy and nginx relay the same way). One pipe per
    /// direction, non-blocking, as large as the system allows up to 1 MiB. Where splice is missing (other systems, Mono),
    /// <see cref="TryCreate"/> returns null and the relay copies through its buffer.
    /// </summary>
    internal sealed class SplicePipe : IDisposable
    {
        private const uint SpliceMove = 1;
        private const uint SpliceNonBlock = 2;
        private const int ONonBlock = 0x800;
        private const int OCloseOnExec = 0x80000;
        private const int SetPipeSize = 1031;
        private const int EAgain = 11;
        private const int EInterrupted = 4;

        private static readonly bool s_available = RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && !RuntimeFacts.IsMono
            && RuntimeInformation.ProcessArchitecture != Architecture.X86 && RuntimeInformation.ProcessArchitecture != Architecture.Arm;

        private readonly int _read;
        private readonly int _write;
        private bool _disposed;

        private SplicePipe(int read, int write)
        {
            _read = read;
            _write = write;
        }

        /// <summary>Bytes in the pipe, taken from the source and not yet given to the target.</summary>
        public int Pending { get; private set; }

        /// <summary>A pipe for one direction, or null where splice cannot be used.</summary>
        public static SplicePipe TryCreate(int size)
        {
            if (!s_available)
            {
                return null;
            }

            try
            {
                var fds = new int[2];
                if (pipe2(fds, ONonBlock | OCloseOnExec) != 0)
                {
                    return null;
                }

                // A larger pipe moves more per call; the system may refuse (a limit for unprivileged users): fine.
                fcntl(fds[1], SetPipeSize, size);
                return new SplicePipe(fds[0], fds[1]);
            }
            catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException)
            {
                return null;
            }
        }

        /// <summary>
        /// Moves what the source socket has into the pipe: the bytes moved, 0 at the end of the stream, -1 when nothing is
        /// there yet; throws <see cref="SocketException"/> for an error of the socket.
        /// </summary>
        public int Fill(Socket from, int most)
        {
            long moved = Splice(from.Handle, _write, most, SpliceMove | SpliceNonBlock);
            if (moved > 0)
            {
                Pending += (int)moved;
            }

            return (int)moved;
        }

        /// <summary>Moves what the pipe holds into the target socket: the bytes moved, -1 when the socket takes none now.</summary>
        public int Drain(Socket to)
        {
            long moved = Splice(new IntPtr(_read), (int)to.Handle, Pending, SpliceMove | SpliceNonBlock);
            if (moved > 0)
            {
                Pending -= (int)moved;
            }

            return (int)moved;
        }

        private static long Splice(IntPtr from, int to, int count, uint flags)
        {
            while (true)
            {
                long moved = (long)splice((int)from, IntPtr.Zero, to, IntPtr.Zero, new UIntPtr((uint)count), flags);
                if (moved >= 0)
                {
                    return moved;
                }

                int errno = Marshal.GetLastWin32Error();
                if (errno == EInterrupted)
                {
                    continue;
                }

                if (errno == EAgain)
                {
                    return -1;
                }

                throw new SocketException(SocketErrorOf(errno));
            }
        }

        private static int SocketErrorOf(int errno)
        {
            switch (errno)
            {
                case 104: return (int)SocketError.ConnectionReset;
                case 32: return (int)SocketError.Shutdown;
                case 103: return (int)SocketError.ConnectionAborted;
                case 107: return (int)SocketError.NotConnected;
                case 110: return (int)SocketError.TimedOut;
                case 9: return (int)SocketError.OperationAborted;
                default: return (int)SocketError.SocketError;
            }
        }

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            close(_read);
            close(_write);
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int pipe2(int[] fds, int flags);

        [DllImport("libc", SetLastError = true)]
        private static extern int fcntl(int fd, int command, int argument);

        [DllImport("libc", SetLastError = true)]
        private static extern IntPtr splice(int fdIn, IntPtr offIn, int fdOut, IntPtr offOut, UIntPtr length, uint flags);

        [DllImport("libc", SetLastError = true)]
        private static extern int close(int fd);
    }
}

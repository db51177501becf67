using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SocketCmdlets
{
    /// <summary>What a relay pump waits for on a socket, and what poll() reported (the POSIX poll bits).</summary>
    [Flags]
    internal enum PollEvents : short
    {
        None = 0,

        /// <summary>Bytes (or the end of the stream) to read.</summary>
        Read = 0x1,

        /// <summary>Room to write.</summary>
        Write = 0x4,

        /// <summary>An error is pending (reported whether asked or not).</summary>
        Error = 0x8,

        /// <summary>Both directions are shut down (reported whether asked or not).</summary>
        HangUp = 0x10,

        /// <summary>The descriptor is not open.</summary>
        Invalid = 0x20,
    }

    /// <summary>
    /// Waits for the two sockets of a plain relay. On Linux with .NET this is one poll(2) on both descriptors with a
    /// preallocated array: no lists to build and filter, as <see cref="Socket.Select"/> does at every wake-up, and a
    /// socket with nothing wanted is left out. Elsewhere (Windows, macOS, Mono) the wait is <see cref="Socket.Select"/>.
    /// </summary>
    internal sealed class RelayPoller
    {
        private static readonly Func<Socket, SafeHandle> s_safeHandle = FindSafeHandle();
        private static readonly bool s_native = RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && !RuntimeFacts.IsMono && s_safeHandle != null;

        private readonly Socket _first;
        private readonly Socket _second;
        private readonly SafeHandle _firstHandle;
        private readonly SafeHandle _secondHandle;
        private readonly PollFd[] _fds = new PollFd[2];
        private readonly List<Socket> _read = new List<Socket>(2);
        private readonly List<Socket> _write = new List<Socket>(2);
        private readonly List<Socket> _error = new List<Socket>(2);
        private readonly bool _native;

        public RelayPoller(Socket first, Socket second, bool native = true)
        {
            _first = first;
            _second = second;
            _native = native && s_native;
            if (_native)
            {
                _firstHandle = s_safeHandle(first);
                _secondHandle = s_safeHandle(second);
            }
        }

        /// <summary>True when the waits are poll(2) calls of ours (Linux, .NET), false for <see cref="Socket.Select"/>.</summary>
        public bool IsNative => _native;

        /// <summary>
        /// Waits up to <paramref name="timeoutMilliseconds"/> until one of the wanted events (or an error or hang-up) is
        /// there; the ready events of each socket come back (None for both after the timeout). A socket with nothing
        /// wanted is not polled. Throws <see cref="ObjectDisposedException"/> or <see cref="SocketException"/> when a
        /// socket was closed by another thread.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        public void Wait(PollEvents wantFirst, PollEvents wantSecond, int timeoutMilliseconds, out PollEvents readyFirst, out PollEvents readySecond)
        {
            if (!_native)
            {
                Select(wantFirst, wantSecond, timeoutMilliseconds, out readyFirst, out readySecond);
                return;
            }

            SafeHandle first = _firstHandle;
            SafeHandle second = _secondHandle;
            bool firstAdded = false;
            bool secondAdded = false;

            // The references keep both descriptors open (not reused by another socket) while poll() looks at them.
            try
            {
                first.DangerousAddRef(ref firstAdded);
                second.DangerousAddRef(ref secondAdded);
                PollFd[] fds = _fds;
                fds[0] = new PollFd { Fd = wantFirst == PollEvents.None ? -1 : (int)first.DangerousGetHandle(), Events = wantFirst };
                fds[1] = new PollFd { Fd = wantSecond == PollEvents.None ? -1 : (int)second.DangerousGetHandle(), Events = wantSecond };
                int ready = Poll(fds, timeoutMilliseconds);
                readyFirst = ready > 0 ? fds[0].Returned : PollEvents.None;
                readySecond = ready > 0 ? fds[1].Returned : PollEvents.None;
            }
            finally
            {
                if (firstAdded)
                {
                    first.DangerousRelease();
                }

                if (secondAdded)
                {
                    second.DangerousRelease();
                }
            }
        }

        [MethodImpl(HotPath.Optimize)]
        private static int Poll(PollFd[] fds, int timeoutMilliseconds)
        {
            while (true)
            {
                fds[0].Returned = fds[1].Returned = PollEvents.None;
                int ready = poll(fds, new UIntPtr(2), timeoutMilliseconds);
                if (ready >= 0)
                {
                    return ready;
                }

                int errno = Marshal.GetLastWin32Error();

                // EINTR: a signal (the runtime's own, for a GC suspension) interrupted the wait; wait again.
                if (errno != 4)
                {
                    throw new SocketException((int)SocketError.SocketError);
                }
            }
        }

        private void Select(PollEvents wantFirst, PollEvents wantSecond, int timeoutMilliseconds, out PollEvents readyFirst, out PollEvents readySecond)
        {
            _read.Clear();
            _write.Clear();
            _error.Clear();
            Add(_first, wantFirst);
            Add(_second, wantSecond);
            Socket.Select(_read, _write, _error, timeoutMilliseconds < 0 ? -1 : timeoutMilliseconds * 1000);
            readyFirst = Returned(_first);
            readySecond = Returned(_second);
        }

        private void Add(Socket socket, PollEvents want)
        {
            if ((want & PollEvents.Read) != 0)
            {
                _read.Add(socket);
            }

            if ((want & PollEvents.Write) != 0)
            {
                _write.Add(socket);
            }

            if (want != PollEvents.None)
            {
                _error.Add(socket);
            }
        }

        private PollEvents Returned(Socket socket) =>
            (_read.Contains(socket) ? PollEvents.Read : PollEvents.None)
            | (_write.Contains(socket) ? PollEvents.Write : PollEvents.None)
            | (_error.Contains(socket) ? PollEvents.Error : PollEvents.None);

        /// <summary>Socket.SafeHandle (.NET Core 3.0 and later), which netstandard2.0 cannot name; null where it is missing.</summary>
        private static Func<Socket, SafeHandle> FindSafeHandle()
        {
            try
            {
                MethodInfo getter = typeof(Socket).GetProperty("SafeHandle", BindingFlags.Public | BindingFlags.Instance)?.GetGetMethod();
                if (getter == null || !typeof(SafeHandle).IsAssignableFrom(getter.ReturnType))
                {
                    return null;
                }

                // A delegate straight to the getter: the return type (SafeSocketHandle) converts by covariance.
                return (Func<Socket, SafeHandle>)Delegate.CreateDelegate(typeof(Func<Socket, SafeHandle>), getter);
            }
            catch (Exception e) when (e is AmbiguousMatchException || e is MemberAccessException || e is ArgumentException)
            {
                return null;
            }
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct PollFd
        {
            public int Fd;
            public PollEvents Events;
            public PollEvents Returned;
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int poll([In, Out] PollFd[] fds, UIntPtr count, int timeout);
    }
}

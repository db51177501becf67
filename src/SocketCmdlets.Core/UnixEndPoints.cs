using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace SocketCmdlets
{
    /// <summary>
    /// Unix domain socket addresses. netstandard2.0 does not name UnixDomainSocketEndPoint, but every runtime that
    /// can use Unix sockets (.NET Core 2.1 and later: PowerShell 7 on Linux, macOS and Windows 10+) has it, so it is
    /// found at run time; elsewhere (Windows PowerShell 5.1) Unix sockets are reported as unsupported.
    /// </summary>
    internal static class UnixEndPoints
    {
        private static readonly Type s_type = Type.GetType("System.Net.Sockets.UnixDomainSocketEndPoint, System.Net.Sockets", throwOnError: false);

        /// <summary>True when this runtime can make Unix domain socket addresses.</summary>
        public static bool IsSupported => s_type != null;

        /// <summary>The longest path, in UTF-8 bytes, a socket address holds on this platform.</summary>
        public static int MaxPathBytes => RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? 103 : 107;

        /// <summary>Makes the address of <paramref name="path"/>, checking its length and folder first.</summary>
        public static EndPoint Create(string path)
        {
            RequireSupport();
            if (string.IsNullOrEmpty(path))
            {
                throw new ArgumentException("A Unix socket path is required.", nameof(path));
            }

            if (Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
            {
                throw new PathTooLongException($"The Unix socket path '{path}' is {Encoding.UTF8.GetByteCount(path)} bytes long; this platform allows at most {MaxPathBytes}. Use a shorter path, for example under /tmp.");
            }

            try
            {
                return (EndPoint)Activator.CreateInstance(s_type, path);
            }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                throw e.InnerException;
            }
        }

        /// <summary>The path of a Unix socket address, or null.</summary>
        public static string GetPath(EndPoint endPoint)
        {
            if (endPoint == null || s_type == null || !s_type.IsInstanceOfType(endPoint))
            {
                return null;
            }

            string text = endPoint.ToString();
            return string.IsNullOrEmpty(text) ? null : text;
        }

        /// <summary>Throws <see cref="PlatformNotSupportedException"/> where Unix domain sockets cannot be used.</summary>
        public static void RequireSupport()
        {
            if (s_type == null)
            {
                throw new PlatformNotSupportedException("Unix domain sockets need PowerShell 7 (.NET Core 2.1 or later) on Linux, macOS or Windows 10 1803 and later.");
            }
        }

        /// <summary>
        /// Makes <paramref name="path"/> free to bind: a socket file left by a server that is gone (no socket is bound
        /// behind it) is removed, and true returned; nothing there returns false. Anything else throws
        /// <see cref="PathInUseException"/> saying what is there: a live socket, a directory, a FIFO, a regular file. The
        /// check never opens the file (a FIFO would block), never connects a stream to a live server, and never waits.
        /// </summary>
        internal static bool RemoveIfStale(string path)
        {
            UnixPathKind kind = UnixPath.KindOf(path);
            if (kind == UnixPathKind.None)
            {
                return false;
            }

            if (kind != UnixPathKind.Socket)
            {
                // Never delete a file that is not a socket.
                throw new PathInUseException(path, kind);
            }

            if (!UnixPath.IsStale(path, out _))
            {
                throw new PathInUseException(path, UnixPathKind.Socket);
            }

            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new PathInUseException(path, UnixPathKind.Socket, e);
            }

            return true;
        }
    }
}

using System;
using System.IO;
using System.Net.Sockets;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>Unix domain stream sockets: bound to and connected by a file path.</summary>
    public sealed partial class NetSocket
    {
        private bool _boundPath;

        /// <summary>
        /// Binds a Unix domain socket to <paramref name="path"/>. A socket file left by a server that is gone is
        /// replaced; a live server's socket, or any other file, makes the bind fail with AddressAlreadyInUse.
        /// </summary>
        public NetSocket BindPath(string path, Action<string> trace = null)
        {
            RequireUnix("bind to a path");
            path = System.IO.Path.GetFullPath(path);
            var endPoint = UnixEndPoints.Create(path);
            string folder = System.IO.Path.GetDirectoryName(path);
            if (!Directory.Exists(folder))
            {
                throw new DirectoryNotFoundException($"The folder '{folder}' of the Unix socket path does not exist.");
            }

            lock (_gate)
            {
                RequireState("bind", "binding needs a new socket (New-Socket -AddressFamily Unix).", SocketState.Created);
                if (UnixEndPoints.RemoveIfStale(path))
                {
                    trace?.Invoke($"Removed the stale socket file '{path}' (no server accepted on it).");
                }

                if (File.Exists(path))
                {
                    throw new PathInUseException(path);
                }

                _socket.Bind(endPoint);
                Path = path;
                LocalPath = path;
                _boundPath = true;
                _state = SocketState.Bound;
            }

            return this;
        }

        /// <summary>Connects a Unix domain socket to the server listening on <paramref name="path"/>.</summary>
        public NetSocket ConnectPath(string path, TimeSpan timeout, CancellationToken cancellationToken)
        {
            RequireUnix("connect to a path");
            RequireState("connect", "connecting needs a new socket (New-Socket -AddressFamily Unix).", SocketState.Created);
            path = System.IO.Path.GetFullPath(path);
            var endPoint = UnixEndPoints.Create(path);
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"No Unix socket exists at '{path}'; is the server running?", path);
            }

            ConnectEndPoint(endPoint, path, Deadline.After(timeout), cancellationToken);
            lock (_gate)
            {
                Path = path;
                RemotePath = path;
            }

            return this;
        }

        /// <summary>The path this Unix domain socket is bound to or accepted on (a listener or a server-side connection).</summary>
        public string LocalPath { get; private set; }

        /// <summary>The path this Unix domain socket connected to (a client).</summary>
        public string RemotePath { get; private set; }

        private void RequireUnix(string operation)
        {
            if (_requestedFamily != AddressFamily.Unix)
            {
                throw new InvalidSocketStateException(this, operation, "paths are for Unix domain sockets: create one with New-Socket -AddressFamily Unix.");
            }
        }

        private static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>A Unix socket path is taken: a server listens there, or a file that is not a socket exists.</summary>
    public sealed class PathInUseException : IOException
    {
        public PathInUseException(string path)
            : base($"'{path}' is in use: a server is listening on it, or a file that is not a socket is there.")
        {
            Path = path;
        }

        /// <summary>The path that is taken.</summary>
        public string Path { get; }
    }
}

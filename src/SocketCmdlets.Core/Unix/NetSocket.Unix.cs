using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>Unix domain stream sockets: bound to and connected by a file path.</summary>
    public sealed partial class NetSocket
    {
        /// <summary>The longest pause between two tries of a connect to a Unix server whose backlog is full.</summary>
        private const int BusyRetryMaxMilliseconds = 50;

        private bool _boundPath;

        /// <summary>
        /// Binds a Unix domain socket to <paramref name="path"/>. A socket file left by a server that is gone is
        /// replaced; a live socket there, or a file that is not a socket (directory, FIFO, regular file), makes the
        /// bind fail with <see cref="PathInUseException"/> saying what is there. Nothing here waits: the stale check
        /// runs before the socket's lock is taken and never blocks, so Close from another thread is never held up.
        /// </summary>
        internal NetSocket BindPath(string path, Action<string> trace = null)
        {
            RequireUnix("bind to a path");
            path = System.IO.Path.GetFullPath(path);
            EndPoint endPoint = UnixEndPoints.Create(path);
            string folder = System.IO.Path.GetDirectoryName(path);
            if (!Directory.Exists(folder))
            {
                throw new DirectoryNotFoundException($"The folder '{folder}' of the Unix socket path does not exist.");
            }

            RequireState("bind", "binding needs a new socket.", SocketRequirement.NewUnix, SocketState.Created);
            if (UnixEndPoints.RemoveIfStale(path))
            {
                trace?.Invoke($"Removed the stale socket file '{path}' (no socket is bound behind it any more).");
            }

            lock (_gate)
            {
                RequireState("bind", "binding needs a new socket.", SocketRequirement.NewUnix, SocketState.Created);
                try
                {
                    _socket.Bind(endPoint);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
                {
                    // Something took the path since the check: say what it is.
                    UnixPathKind kind = UnixPath.KindOf(path);
                    throw new PathInUseException(path, kind == UnixPathKind.None ? UnixPathKind.Other : kind, e);
                }

                Path = path;
                LocalPath = path;
                _boundPath = true;
                _state = SocketState.Bound;
            }

            return this;
        }

        /// <summary>
        /// Connects a Unix domain socket to the server listening on <paramref name="path"/> within
        /// <paramref name="timeout"/>. A server whose backlog is full is tried again in short pauses until the deadline
        /// (a Unix connect does not wait in the kernel as a TCP one does); <paramref name="trace"/> hears about it.
        /// </summary>
        internal NetSocket ConnectPath(string path, TimeSpan timeout, CancellationToken cancellationToken, Action<string> trace = null)
        {
            RequireUnix("connect to a path");
            RequireState("connect", "connecting needs a new socket.", SocketRequirement.NewUnix, SocketState.Created);
            path = System.IO.Path.GetFullPath(path);
            EndPoint endPoint = UnixEndPoints.Create(path);
            UnixPathKind kind = UnixPath.KindOf(path);
            if (kind == UnixPathKind.None)
            {
                throw new FileNotFoundException($"No Unix socket exists at '{path}'; is the server running?", path);
            }

            if (kind != UnixPathKind.Socket && kind != UnixPathKind.SymbolicLink && kind != UnixPathKind.Other)
            {
                throw new NotASocketException(path, kind);
            }

            ConnectUnix(endPoint, path, Deadline.After(timeout), cancellationToken, trace);
            lock (_gate)
            {
                Path = path;
                RemotePath = path;
            }

            return this;
        }

        /// <summary>
        /// A non-blocking connect() to a Unix socket, tried again while the server's backlog is full (EAGAIN), with
        /// pauses that grow to <see cref="BusyRetryMaxMilliseconds"/>, until the deadline; cancellation ends a pause at
        /// once. A failed, timed-out or stopped attempt renews the underlying socket, so this socket can try again.
        /// </summary>
        private void ConnectUnix(EndPoint endPoint, string where, Deadline deadline, CancellationToken cancellationToken, Action<string> trace)
        {
            int pause = 1;
            int tries = 0;
            try
            {
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    tries++;
                    try
                    {
                        _socket.Blocking = false;
                        _socket.Connect(endPoint);
                        break;
                    }
                    catch (SocketException e) when (e.SocketErrorCode == SocketError.InProgress)
                    {
                        // Some systems finish a Unix connect in the background, as TCP does.
                        WaitReady(SelectMode.SelectWrite, deadline, cancellationToken, SocketOperation.Connect);
                        var error = (SocketError)(int)_socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error);
                        if (error != SocketError.Success)
                        {
                            throw new SocketException((int)error);
                        }

                        break;
                    }
                    catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock || e.SocketErrorCode == SocketError.TryAgain)
                    {
                        // The server's backlog is full: nothing queued our connection; try again after a pause.
                        if (tries == 1)
                        {
                            trace?.Invoke($"The server on '{where}' has a full backlog (it accepts too slowly); trying again until {(deadline.IsInfinite ? "it accepts or the call is stopped" : $"the timeout of {deadline.Timeout.TotalSeconds:0.###} s")}.");
                        }

                        int slice = deadline.NextSliceMilliseconds();
                        if (slice < 0)
                        {
                            throw new SocketTimeoutException(SocketOperation.Connect, deadline.Timeout, where,
                                $"the server on '{where}' did not make room in its backlog (tried {tries} times)");
                        }

                        cancellationToken.WaitHandle.WaitOne(Math.Min(slice, pause));
                        pause = Math.Min(pause * 2, BusyRetryMaxMilliseconds);
                    }
                }
            }
            catch (ObjectDisposedException)
            {
                throw Closed("connect");
            }
            catch (Exception e) when (e is OperationCanceledException || e is SocketException || e is SocketTimeoutException || e is InvalidSocketStateException)
            {
                AfterFailedConnect(e);
                throw;
            }

            lock (_gate)
            {
                if (_state == SocketState.Closed)
                {
                    throw Closed("connect");
                }

                _state = SocketState.Connected;
            }
        }

        /// <summary>The path this Unix domain socket is bound to or accepted on (a listener or a server-side connection).</summary>
        public string LocalPath { get; private set; }

        /// <summary>The path this Unix domain socket connected to (a client).</summary>
        public string RemotePath { get; private set; }

        private void RequireUnix(string operation)
        {
            if (_requestedFamily != AddressFamily.Unix)
            {
                throw new InvalidSocketStateException(this, operation, "paths are for Unix domain sockets.", SocketRequirement.UnixSocket);
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

        /// <summary>How a kind of file is named in messages.</summary>
        internal static string Describe(UnixPathKind kind)
        {
            switch (kind)
            {
                case UnixPathKind.Socket: return "a live socket (a server is listening on it, or a socket is bound to it)";
                case UnixPathKind.Directory: return "a directory";
                case UnixPathKind.Fifo: return "a FIFO (named pipe)";
                case UnixPathKind.RegularFile: return "a regular file";
                case UnixPathKind.SymbolicLink: return "a symbolic link";
                case UnixPathKind.Device: return "a device file";
                default: return "a file that is not a socket";
            }
        }
    }
}

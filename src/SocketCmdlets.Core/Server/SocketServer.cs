using System;
using System.Collections.Concurrent;
using System.Net;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets.Server
{
    /// <summary>Why a server turned a client away.</summary>
    internal enum RejectReason
    {
        /// <summary>The address filter does not allow the client's address.</summary>
        Address,
        /// <summary>As many connections as allowed are open already.</summary>
        MaxConnections,
    }

    /// <summary>What a <see cref="SocketServer"/> tells its owner. Called on the server's threads; must not throw.</summary>
    internal interface ISocketServerSink
    {
        /// <summary>A connection was admitted (and made TLS when asked): serve it, then call <see cref="SocketServer.Release"/>.</summary>
        void Serve(NetSocket connection);

        /// <summary>A client was turned away and its connection closed.</summary>
        void Rejected(IPEndPoint client, RejectReason reason);

        /// <summary>A step failed: an accept (<paramref name="connection"/> null) or a TLS handshake. The server goes on.</summary>
        void Failed(NetSocket connection, Exception error);

        /// <summary>The accept loop ended; <paramref name="error"/> is null after <see cref="SocketServer.Stop"/>.</summary>
        void Ended(Exception error);
    }

    /// <summary>How a <see cref="SocketServer"/> admits connections.</summary>
    internal sealed class SocketServerOptions
    {
        /// <summary>Most connections open at once (0: no limit); more are closed at once.</summary>
        public int MaxConnections { get; set; }

        /// <summary>Who may connect; null lets everyone in.</summary>
        public AddressFilter Filter { get; set; }

        /// <summary>TLS to start on each connection before it is served, or null.</summary>
        public TlsOptions Tls { get; set; }

        /// <summary>How long a TLS handshake may take.</summary>
        public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>Recorded as <see cref="NetSocket.Owner"/> on every connection.</summary>
        public object Owner { get; set; }
    }

    /// <summary>
    /// An accept loop on a thread of its own over a listening socket: admits or rejects each client (address filter,
    /// connection limit), makes it TLS when asked, and hands it to a sink. Stop closes the listener, which frees the
    /// port at once, and every connection still open.
    /// </summary>
    internal sealed class SocketServer
    {
        private static readonly TimeSpan s_failurePause = TimeSpan.FromMilliseconds(100);

        private readonly NetSocket _listener;
        private readonly SocketServerOptions _options;
        private readonly ISocketServerSink _sink;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly ConcurrentDictionary<int, NetSocket> _open = new ConcurrentDictionary<int, NetSocket>();
        private Thread _thread;
        private int _active;
        private long _total;
        private long _rejected;
        private int _stopped;

        public SocketServer(NetSocket listener, SocketServerOptions options, ISocketServerSink sink)
        {
            _listener = listener ?? throw new ArgumentNullException(nameof(listener));
            _options = options ?? new SocketServerOptions();
            _sink = sink ?? throw new ArgumentNullException(nameof(sink));
        }

        /// <summary>The listening socket.</summary>
        public NetSocket Listener => _listener;

        /// <summary>Connections admitted and not yet released.</summary>
        public int ActiveConnections => Volatile.Read(ref _active);

        /// <summary>Connections admitted since the start.</summary>
        public long TotalConnections => Interlocked.Read(ref _total);

        /// <summary>Clients turned away since the start.</summary>
        public long RejectedConnections => Interlocked.Read(ref _rejected);

        /// <summary>True once <see cref="Stop"/> was called.</summary>
        public bool IsStopped => Volatile.Read(ref _stopped) != 0;

        /// <summary>Starts the accept loop.</summary>
        public void Start()
        {
            _thread = new Thread(AcceptLoop) { IsBackground = true, Name = $"SocketServer {_listener.Id}" };
            _thread.Start();
        }

        /// <summary>
        /// Stops accepting and closes the listener (the port is free when this returns), and waits (at most
        /// <paramref name="wait"/>) for the accept loop to end. Connections stay open: see <see cref="CloseConnections"/>.
        /// </summary>
        public void Stop(TimeSpan wait)
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0)
            {
                return;
            }

            _stop.Cancel();
            _listener.Close();
            Thread thread = _thread;
            if (thread != null && thread != Thread.CurrentThread)
            {
                thread.Join(wait);
            }
        }

        /// <summary>Closes every connection still open (after <see cref="Stop"/>), which ends any call blocked on one.</summary>
        public void CloseConnections()
        {
            foreach (NetSocket connection in _open.Values)
            {
                connection.Close();
            }
        }

        /// <summary>Closes a connection after it was served and frees its place.</summary>
        public void Release(NetSocket connection)
        {
            connection.Close();
            if (_open.TryRemove(connection.Id, out _))
            {
                Interlocked.Decrement(ref _active);
            }
        }

        private void AcceptLoop()
        {
            Exception error = null;
            CancellationToken token = _stop.Token;
            try
            {
                while (!token.IsCancellationRequested)
                {
                    NetSocket connection;
                    try
                    {
                        connection = _listener.Accept(Timeout.InfiniteTimeSpan, token);
                    }
                    catch (OperationCanceledException) when (token.IsCancellationRequested)
                    {
                        break;
                    }
                    catch (Exception e) when (_listener.State == SocketState.Closed)
                    {
                        // Closed by Stop, or by someone else (Close-Socket on the listener): either way no more clients.
                        error = token.IsCancellationRequested ? null : e;
                        break;
                    }
                    catch (Exception e)
                    {
                        // Out of descriptors, a connection reset while queued: report it and go on accepting.
                        _sink.Failed(null, e);
                        token.WaitHandle.WaitOne(s_failurePause);
                        continue;
                    }

                    Admit(connection);
                }
            }
            catch (Exception e)
            {
                error = e;
            }
            finally
            {
                _sink.Ended(error);
            }
        }

        private void Admit(NetSocket connection)
        {
            connection.Owner = _options.Owner;
            IPEndPoint client = connection.RemoteEndPoint;
            RejectReason? reason = null;
            if (_options.Filter != null && !_options.Filter.IsAllowed(client?.Address))
            {
                reason = RejectReason.Address;
            }
            else if (_options.MaxConnections > 0 && Volatile.Read(ref _active) >= _options.MaxConnections)
            {
                reason = RejectReason.MaxConnections;
            }

            if (reason != null)
            {
                connection.Close();
                Interlocked.Increment(ref _rejected);
                _sink.Rejected(client, reason.Value);
                return;
            }

            Interlocked.Increment(ref _active);
            Interlocked.Increment(ref _total);
            _open[connection.Id] = connection;
            if (IsStopped)
            {
                // Stop ran between the accept and now: its sweep may have missed this one.
                Release(connection);
                return;
            }

            if (_options.Tls == null)
            {
                Hand(connection);
                return;
            }

            // The handshake runs off the accept thread, so a slow or silent client does not hold up the others.
            Task.Run(() =>
            {
                try
                {
                    connection.Protect(_options.Tls, _options.HandshakeTimeout, _stop.Token);
                }
                catch (Exception e)
                {
                    Release(connection);
                    if (!IsStopped)
                    {
                        _sink.Failed(connection, e);
                    }

                    return;
                }

                Hand(connection);
            });
        }

        private void Hand(NetSocket connection)
        {
            try
            {
                _sink.Serve(connection);
            }
            catch (Exception e)
            {
                Release(connection);
                _sink.Failed(connection, e);
            }
        }
    }
}

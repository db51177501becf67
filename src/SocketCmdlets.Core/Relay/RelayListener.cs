using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>
    /// A port forwarder: one thread accepts, and each accepted connection is connected to the target and relayed by a
    /// <see cref="RelayConnection"/> on the thread pool. Finished connections are queued as
    /// <see cref="SocketRelaySession"/> records for whoever reports them (the job); nothing here writes anywhere else.
    /// </summary>
    internal sealed partial class RelayListener : IDisposable
    {
        private static readonly ConcurrentDictionary<RelayListener, byte> s_running = new ConcurrentDictionary<RelayListener, byte>();

        private readonly RelayListenerOptions _options;
        private readonly AddressFilter _filter;
        private readonly NetSocket _listener;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly BlockingCollection<SocketRelaySession> _finished = new BlockingCollection<SocketRelaySession>();
        private readonly ConcurrentDictionary<Task, byte> _connections = new ConcurrentDictionary<Task, byte>();
        private readonly Action<string> _trace;
        private Thread _acceptThread;
        private int _active;
        private long _total;
        private long _rejected;
        private long _toTarget;
        private long _toSource;
        private int _stopped;

        private RelayListener(RelayListenerOptions options, AddressFilter filter, NetSocket listener, Action<string> trace)
        {
            _options = options;
            _filter = filter;
            _listener = listener;
            _trace = trace;
            LocalEndPoint = listener.LocalPath ?? NetSocket.Format(listener.LocalEndPoint);
            Target = options.TargetText;
        }

        /// <summary>Where the relay listens: address:port or the Unix path.</summary>
        public string LocalEndPoint { get; }

        /// <summary>Where it forwards to: host:port or the Unix path.</summary>
        public string Target { get; }

        /// <summary>The port listened on (0 for a Unix socket).</summary>
        public int LocalPort => _listener.LocalEndPoint?.Port ?? 0;

        /// <summary>Connections being relayed now.</summary>
        public int ActiveConnections => Volatile.Read(ref _active);

        /// <summary>Connections accepted and relayed (or attempted) so far, rejected ones not included.</summary>
        public long TotalConnections => Interlocked.Read(ref _total);

        /// <summary>Connections closed at once: over -MaxConnections, or refused by the address filter.</summary>
        public long RejectedConnections => Interlocked.Read(ref _rejected);

        /// <summary>Bytes forwarded to the target so far, over all connections.</summary>
        public long BytesToTarget => Interlocked.Read(ref _toTarget);

        /// <summary>Bytes forwarded back to the clients so far.</summary>
        public long BytesToSource => Interlocked.Read(ref _toSource);

        /// <summary>Who started it (the module records the runspace), so removing the module stops that session's relays.</summary>
        public object Owner { get; set; }

        /// <summary>Why the listener stopped on its own, if it did.</summary>
        public Exception Failure { get; private set; }

        /// <summary>True once the listener has stopped, every connection has ended and every record has been taken.</summary>
        public bool IsCompleted => _finished.IsCompleted;

        /// <summary>
        /// Checks the options (a bad address filter entry throws <see cref="ArgumentException"/> before anything is
        /// bound), binds and listens (AddressAlreadyInUse throws), then starts accepting in the background.
        /// </summary>
        public static RelayListener Start(RelayListenerOptions options, Action<string> trace = null)
        {
            if (options == null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            AddressFilter filter;
            try
            {
                filter = AddressFilter.Create(options.AllowAddress, options.DenyAddress);
            }
            catch (ArgumentException e)
            {
                throw new AddressFilterException(e.Message);
            }

            if (options.MaxConnections < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(options), options.MaxConnections, "The connection limit cannot be negative.");
            }

            if (options.BufferSize < 1024)
            {
                throw new ArgumentOutOfRangeException(nameof(options), options.BufferSize, "The relay buffer must be at least 1024 bytes.");
            }

            if (options.TargetPath == null && (string.IsNullOrWhiteSpace(options.TargetHost) || options.TargetPort < 1 || options.TargetPort > 65535))
            {
                throw new ArgumentException("A relay needs a target: a host and a port (1-65535), or a Unix socket path.");
            }

            NetSocket listener = NetSocket.Create(SocketProtocol.Tcp, options.ListenPath != null ? SocketFamily.Unix : (SocketFamily?)null, null, options.Name);
            try
            {
                listener.Unregister();
                if (options.ListenPath != null)
                {
                    listener.BindPath(options.ListenPath, trace);
                }
                else
                {
                    listener.Bind(AddressResolver.ForBinding(options.ListenAddress, listener), options.ListenPort);
                }

                listener.Listen();
            }
            catch
            {
                listener.Close();
                throw;
            }

            var relay = new RelayListener(options, filter, listener, trace);
            s_running[relay] = 0;
            relay._acceptThread = new Thread(relay.AcceptLoop) { IsBackground = true, Name = "SocketRelay " + relay.LocalEndPoint };
            relay._acceptThread.Start();
            trace?.Invoke($"Relay listening on {relay.LocalEndPoint}, forwarding to {relay.Target}.");
            return relay;
        }

        /// <summary>Takes the next finished connection, waiting up to <paramref name="millisecondsTimeout"/>; false when none came.</summary>
        public bool TryTake(out SocketRelaySession session, int millisecondsTimeout)
        {
            try
            {
                return _finished.TryTake(out session, millisecondsTimeout);
            }
            catch (ObjectDisposedException)
            {
                session = null;
                return false;
            }
        }

        /// <summary>
        /// Stops: closes the listener and every relayed connection (each is recorded with EndReason Stopped) and waits,
        /// bounded, for the accept thread and the connections to end.
        /// </summary>
        public void Stop()
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0)
            {
                return;
            }

            _stop.Cancel();
            _listener.Close();
            if (_acceptThread != null && Thread.CurrentThread != _acceptThread)
            {
                _acceptThread.Join(TimeSpan.FromSeconds(10));
            }

            Task[] running = _connections.Keys.ToArray();
            try
            {
                Task.WaitAll(running, TimeSpan.FromSeconds(10));
            }
            catch (AggregateException)
            {
                // Each connection records its own failure; nothing is left unobserved here.
            }

            _finished.CompleteAdding();
            s_running.TryRemove(this, out _);
        }

        /// <summary>Stops every relay started by <paramref name="owner"/>.</summary>
        public static void StopOwnedBy(object owner)
        {
            foreach (RelayListener relay in s_running.Keys.ToArray())
            {
                if (Equals(relay.Owner, owner))
                {
                    relay.Stop();
                }
            }
        }

        /// <summary>Stops the relay.</summary>
        public void Dispose() => Stop();

        private void AcceptLoop()
        {
            CancellationToken token = _stop.Token;
            while (!token.IsCancellationRequested)
            {
                NetSocket client;
                try
                {
                    client = _listener.Accept(Timeout.InfiniteTimeSpan, token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (InvalidSocketStateException e)
                {
                    if (!token.IsCancellationRequested)
                    {
                        Failure = e;
                        ThreadPool.QueueUserWorkItem(_ => Stop());
                    }

                    break;
                }
                catch (SocketException e)
                {
                    // Out of descriptors, a connection reset before it was accepted, ...: a server keeps serving.
                    _trace?.Invoke($"Accept failed: {e.Message} ({e.SocketErrorCode}).");
                    token.WaitHandle.WaitOne(Deadline.SliceMilliseconds);
                    continue;
                }

                try
                {
                    client.Unregister();
                    Admit(client);
                }
                catch (Exception e)
                {
                    // Never unobserved on this thread (it would end the process): the relay fails and stops.
                    client.Close();
                    Failure = e;
                    ThreadPool.QueueUserWorkItem(_ => Stop());
                    break;
                }
            }
        }

        private void Admit(NetSocket client)
        {
            System.Net.IPAddress address = client.RemoteEndPoint?.Address;
            if (address != null && !_filter.IsAllowed(address))
            {
                Interlocked.Increment(ref _rejected);
                client.Close();
                return;
            }

            if (Interlocked.Increment(ref _active) > _options.MaxConnections && _options.MaxConnections > 0)
            {
                Interlocked.Decrement(ref _active);
                Interlocked.Increment(ref _rejected);
                client.Close();
                return;
            }

            Interlocked.Increment(ref _total);
            // A relay forwards what arrives as it arrives: Nagle's algorithm would only hold small writes back.
            RelaySide.SetNoDelay(client);
            Task connection = Task.Run(() => RelayAsync(client));
            _connections[connection] = 0;
            connection.ContinueWith(t => _connections.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}

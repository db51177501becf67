using System;
using System.Collections.Concurrent;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>What the receive side of an interactive session reports.</summary>
    internal enum SessionEventKind
    {
        /// <summary>Bytes arrived.</summary>
        Data,
        /// <summary>The peer ended its side of the stream.</summary>
        EndOfStream,
        /// <summary>The receive failed (a reset, the socket closed under it).</summary>
        Failed,
    }

    /// <summary>One report of the receive side: bytes, the end of the stream, or a failure.</summary>
    internal sealed class SessionEvent
    {
        private SessionEvent(SessionEventKind kind, byte[] data, Exception error)
        {
            Kind = kind;
            Data = data;
            Error = error;
        }

        /// <summary>What happened.</summary>
        public SessionEventKind Kind { get; }

        /// <summary>The bytes received, for <see cref="SessionEventKind.Data"/>.</summary>
        public byte[] Data { get; }

        /// <summary>Why the receive failed, for <see cref="SessionEventKind.Failed"/>.</summary>
        public Exception Error { get; }

        internal static SessionEvent Received(byte[] data) => new SessionEvent(SessionEventKind.Data, data, null);

        internal static readonly SessionEvent Ended = new SessionEvent(SessionEventKind.EndOfStream, null, null);

        internal static SessionEvent Failure(Exception error) => new SessionEvent(SessionEventKind.Failed, null, error);
    }

    /// <summary>
    /// The receive side of an interactive session: an engine thread receives from the socket and queues what arrives,
    /// so the thread that owns the console can show it between key presses. Sending stays with that thread
    /// (<see cref="Send"/>); the socket serves one receive and one send at a time, so both run at once safely.
    /// </summary>
    internal sealed class SessionPump : IDisposable
    {
        private readonly NetSocket _socket;
        // Chunks not yet shown, at most this many: when the console falls behind, the receive waits and TCP slows the
        // peer down, so memory stays bounded whatever the peer sends.
        private const int MaxQueuedChunks = 64;

        private readonly BlockingCollection<SessionEvent> _events = new BlockingCollection<SessionEvent>(MaxQueuedChunks);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly Thread _thread;
        private int _started;
        private byte[] _unqueued;

        /// <summary>A pump for a connected (or half-closed) socket; <see cref="Start"/> begins receiving.</summary>
        public SessionPump(NetSocket socket)
        {
            _socket = socket ?? throw new ArgumentNullException(nameof(socket));
            _thread = new Thread(Run) { IsBackground = true, Name = $"SocketCmdlets session {socket.Id}" };
        }

        /// <summary>True once the receive side has reported the end of the stream or a failure.</summary>
        public bool Finished { get; private set; }

        /// <summary>Starts the receive thread.</summary>
        public void Start()
        {
            if (Interlocked.Exchange(ref _started, 1) == 0)
            {
                _thread.Start();
            }
        }

        /// <summary>
        /// Takes the next report, waiting at most <paramref name="waitMilliseconds"/>; false when none came. Throws
        /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is cancelled.
        /// </summary>
        public bool TryTake(out SessionEvent sessionEvent, int waitMilliseconds, CancellationToken cancellationToken)
        {
            bool taken = _events.TryTake(out sessionEvent, waitMilliseconds, cancellationToken);
            if (taken && sessionEvent.Kind != SessionEventKind.Data)
            {
                Finished = true;
            }

            return taken;
        }

        /// <summary>Sends bytes (a typed line) within <paramref name="timeout"/>.</summary>
        public void Send(byte[] bytes, TimeSpan timeout, CancellationToken cancellationToken) =>
            _socket.Send(bytes, timeout, cancellationToken);

        /// <summary>Shuts down sending (half-close); what the peer sends still arrives.</summary>
        public void HalfClose() => _socket.Close(CloseDirection.Send);

        /// <summary>Stops the receive thread and waits for it (at most <paramref name="waitMilliseconds"/>). True when it ended.</summary>
        public bool Stop(int waitMilliseconds = 5000)
        {
            _stop.Cancel();
            return _started == 0 || _thread.Join(waitMilliseconds);
        }

        /// <summary>Stops the receive thread; the socket stays as it is.</summary>
        public void Dispose()
        {
            if (Stop())
            {
                _stop.Dispose();
                _events.Dispose();
            }
        }

        /// <summary>
        /// After <see cref="Stop"/> has returned true: the bytes received but not yet taken, so a caller that leaves
        /// the socket open can show them rather than lose them.
        /// </summary>
        public System.Collections.Generic.List<byte[]> Drain()
        {
            var left = new System.Collections.Generic.List<byte[]>();
            while (_events.TryTake(out SessionEvent e))
            {
                if (e.Kind == SessionEventKind.Data)
                {
                    left.Add(e.Data);
                }
            }

            if (_unqueued != null)
            {
                left.Add(_unqueued);
                _unqueued = null;
            }

            return left;
        }

        private void Queue(byte[] chunk)
        {
            try
            {
                _events.Add(SessionEvent.Received(chunk), _stop.Token);
            }
            catch (OperationCanceledException)
            {
                // Stopped while the queue was full: the chunk is kept for Drain.
                _unqueued = chunk;
                throw;
            }
        }

        private void Run()
        {
            try
            {
                _socket.ReceiveChunks(-1, Timeout.InfiniteTimeSpan, _stop.Token, Queue);
                _events.Add(SessionEvent.Ended, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // Stopped by the session's owner: nothing to report.
            }
            catch (Exception e) when (!_stop.IsCancellationRequested)
            {
                // Every failure is handed to the owner; none goes unobserved on this thread.
                try
                {
                    _events.Add(SessionEvent.Failure(e), _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    // Stopped while the queue was full: nobody is left to read the failure.
                }
            }
            catch (Exception)
            {
                // A failure after the stop (the socket closed under the receive) is the end asked for.
            }
        }
    }
}

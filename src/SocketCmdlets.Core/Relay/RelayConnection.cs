using System;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>
    /// Pumps one connection both ways at once until both directions have ended, then closes both sides. Each direction
    /// reads into its own buffer and writes all of it before reading again, so a slow reader slows its writer
    /// (backpressure) and memory stays at two buffers. End of stream on one side becomes a half-close on the other
    /// while the other direction flows; a reset is passed on as a reset; the idle timeout and cancellation close both.
    /// </summary>
    internal sealed partial class RelayConnection
    {
        /// <summary>The buffer of each direction.</summary>
        public const int DefaultBufferSize = 64 * 1024;

        private readonly RelaySide _source;
        private readonly RelaySide _target;
        private readonly TimeSpan _idleTimeout;
        private readonly int _bufferSize;
        private readonly object _gate = new object();
        private long _lastActivity;
        private long _toTarget;
        private long _toSource;
        private RelayEndReason? _reason;
        private string _error;

        public RelayConnection(RelaySide source, RelaySide target, TimeSpan idleTimeout, int bufferSize = DefaultBufferSize)
        {
            _source = source;
            _target = target;
            _idleTimeout = idleTimeout;
            _bufferSize = bufferSize;
        }

        /// <summary>Bytes forwarded so far from the source to the target.</summary>
        public long BytesToTarget => Interlocked.Read(ref _toTarget);

        /// <summary>Bytes forwarded so far from the target to the source.</summary>
        public long BytesToSource => Interlocked.Read(ref _toSource);

        /// <summary>Called with each chunk forwarded: (bytes, toTarget).</summary>
        public Action<int, bool> OnForwarded { get; set; }

        /// <summary>Relays until both directions end, the idle timeout passes or <paramref name="cancellationToken"/> is cancelled.</summary>
        public async Task<SocketRelaySession> RunAsync(DateTime startTime, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            Touch();
            Timer idle = null;
            CancellationTokenRegistration registration = default;
            try
            {
                registration = cancellationToken.Register(() => EndQuietly(RelayEndReason.Stopped));
                if (_idleTimeout > TimeSpan.Zero && _idleTimeout != Timeout.InfiniteTimeSpan)
                {
                    long period = Math.Max(10, Math.Min(1000, (long)(_idleTimeout.TotalMilliseconds / 10)));
                    idle = new Timer(_ => CheckIdle(), null, period, period);
                }

                if (_source.IsPlain && _target.IsPlain)
                {
                    // Plain on both sides: one thread waits on both sockets with poll(), as socat does, so a byte is
                    // forwarded by the thread the kernel wakes, without a hand-off to the thread pool.
                    await RunOnThread(PumpPlain).ConfigureAwait(false);
                }
                else
                {
                    Task<string> toTarget = PumpAsync(_source, _target, true);
                    Task<string> toSource = PumpAsync(_target, _source, false);
                    Task<string> first = await Task.WhenAny(toTarget, toSource).ConfigureAwait(false);
                    await (first == toTarget ? toSource : toTarget).ConfigureAwait(false);
                }
            }
            finally
            {
                idle?.Dispose();
                registration.Dispose();
                End(RelayEndReason.Closed, null, null);
            }

            return new SocketRelaySession
            {
                SourceEndPoint = _source.EndPoint,
                TargetEndPoint = _target.EndPoint,
                BytesToTarget = BytesToTarget,
                BytesToSource = BytesToSource,
                StartTime = startTime,
                Duration = clock.Elapsed,
                EndReason = _reason ?? RelayEndReason.Closed,
                Error = _error ?? string.Empty,
            };
        }

        /// <summary>One direction. Never throws: a failure ends the whole connection with its reason.</summary>
        private async Task<string> PumpAsync(RelaySide from, RelaySide to, bool toTarget)
        {
            byte[] buffer = new byte[_bufferSize];
            if (from.DeferredError != SocketError.Success)
            {
                End(RelayEndReason.Reset, null, to);
                return "reset";
            }

            if (from.StartsAtEndOfStream)
            {
                to.ShutdownSend();
                return "end";
            }

            while (true)
            {
                int read;
                try
                {
                    read = await from.ReadAsync(buffer, 0, buffer.Length).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    Fail(e, from, to);
                    return "read failed";
                }

                if (read == 0)
                {
                    from.Socket.MarkEndOfStream();
                    to.ShutdownSend();
                    return "end";
                }

                Touch();
                try
                {
                    await to.WriteAsync(buffer, 0, read).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    Fail(e, to, from);
                    return "write failed";
                }

                Forwarded(read, toTarget, from, to);
            }
        }

        /// <summary>Counts <paramref name="bytes"/> written to <paramref name="to"/> after being read from <paramref name="from"/>.</summary>
        private void Forwarded(int bytes, bool toTarget, RelaySide from, RelaySide to)
        {
            Touch();
            if (toTarget)
            {
                Interlocked.Add(ref _toTarget, bytes);
            }
            else
            {
                Interlocked.Add(ref _toSource, bytes);
            }

            from.Socket.CountRelayed(0, bytes);
            to.Socket.CountRelayed(bytes, 0);
            OnForwarded?.Invoke(bytes, toTarget);
        }

        /// <summary>A read from or write to <paramref name="failed"/> failed: a reset is passed on to <paramref name="other"/>.</summary>
        private void Fail(Exception e, RelaySide failed, RelaySide other)
        {
            if (IsReset(e))
            {
                failed.Close();
                End(RelayEndReason.Reset, null, other);
            }
            else
            {
                // After End (stop, idle, a reset of the other side) a pending call fails because its socket closed.
                End(RelayEndReason.Error, Describe(e), null);
            }
        }

        /// <summary>Ends the connection once: the first reason wins; both sides close (<paramref name="reset"/> with a reset).</summary>
        private void End(RelayEndReason reason, string error, RelaySide reset)
        {
            lock (_gate)
            {
                if (_reason != null)
                {
                    return;
                }

                _reason = reason;
                _error = error;
            }

            if (reset != null)
            {
                reset.Reset();
            }

            _source.Close();
            _target.Close();
        }

        private void Touch() => Interlocked.Exchange(ref _lastActivity, Stopwatch.GetTimestamp());

        private void CheckIdle()
        {
            long idleTicks = Stopwatch.GetTimestamp() - Interlocked.Read(ref _lastActivity);
            if (idleTicks >= _idleTimeout.TotalSeconds * Stopwatch.Frequency)
            {
                EndQuietly(RelayEndReason.IdleTimeout);
            }
        }

        /// <summary>Ends from a timer or a cancellation callback, where an exception would go unobserved (or crash the process).</summary>
        private void EndQuietly(RelayEndReason reason)
        {
            try
            {
                End(reason, null, null);
            }
            catch (Exception e)
            {
                lock (_gate)
                {
                    _error = _error ?? Describe(e);
                }
            }
        }

        private static bool IsReset(Exception e)
        {
            SocketException socket = Find<SocketException>(e);
            if (socket == null)
            {
                return false;
            }

            switch (socket.SocketErrorCode)
            {
                case SocketError.ConnectionReset:
                case SocketError.ConnectionAborted:
                case SocketError.Shutdown:
                    return true;
                default:
                    return false;
            }
        }

        private static T Find<T>(Exception e)
            where T : Exception
        {
            while (e != null)
            {
                if (e is T found)
                {
                    return found;
                }

                e = e is AggregateException aggregate && aggregate.InnerExceptions.Count == 1 ? aggregate.InnerException : e.InnerException;
            }

            return null;
        }

        private static string Describe(Exception e)
        {
            while ((e is AggregateException || e is IOException) && e.InnerException != null)
            {
                e = e.InnerException;
            }

            return e is SocketException s ? $"{s.Message} ({s.SocketErrorCode})" : e.Message;
        }
    }
}

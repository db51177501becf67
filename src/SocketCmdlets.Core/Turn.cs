using System;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>
    /// One direction of a socket (receiving, or sending) served to one caller at a time. A caller that waits for its
    /// turn waits in short slices, honouring its own timeout and cancellation token. The turn is re-entrant on the
    /// thread that holds it, so a call that holds it (an exchange of a request and its reply) can use the socket's
    /// methods, which take it again.
    /// </summary>
    internal sealed class Turn
    {
        private readonly SemaphoreSlim _semaphore = new SemaphoreSlim(1, 1);
        private int _owner;
        private int _depth;

        /// <summary>True when the calling thread holds the turn.</summary>
        public bool IsHeldByCurrentThread => Volatile.Read(ref _owner) == Environment.CurrentManagedThreadId;

        /// <summary>
        /// Waits for the turn within <paramref name="timeout"/>; <paramref name="onTimeout"/> makes the exception thrown
        /// when it does not come in time.
        /// </summary>
        public Held Enter(TimeSpan timeout, CancellationToken cancellationToken, Func<TimeSpan, Exception> onTimeout)
        {
            if (TryEnter(out Held held))
            {
                return held;
            }

            Deadline deadline = Deadline.After(timeout);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int slice = deadline.NextSliceMilliseconds();
                if (slice < 0)
                {
                    if (_semaphore.Wait(0))
                    {
                        break;
                    }

                    throw onTimeout(deadline.Timeout);
                }

                if (_semaphore.Wait(slice, cancellationToken))
                {
                    break;
                }
            }

            return Taken();
        }

        /// <summary>Takes the turn when it is free (or already the caller's), without waiting.</summary>
        public bool TryEnter(out Held held)
        {
            int me = Environment.CurrentManagedThreadId;
            if (Volatile.Read(ref _owner) == me)
            {
                _depth++;
                held = new Held(this);
                return true;
            }

            if (!_semaphore.Wait(0))
            {
                held = default;
                return false;
            }

            held = Taken();
            return true;
        }

        /// <summary>Records the calling thread as the holder of the semaphore it has just taken.</summary>
        private Held Taken()
        {
            Volatile.Write(ref _owner, Environment.CurrentManagedThreadId);
            _depth = 1;
            return new Held(this);
        }

        private void Exit()
        {
            if (--_depth == 0)
            {
                Volatile.Write(ref _owner, 0);
                _semaphore.Release();
            }
        }

        /// <summary>A held turn; disposing it gives the turn back.</summary>
        public readonly struct Held : IDisposable
        {
            private readonly Turn _turn;

            public Held(Turn turn) => _turn = turn;

            public void Dispose() => _turn?.Exit();
        }
    }
}

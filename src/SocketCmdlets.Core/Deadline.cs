using System;
using System.Diagnostics;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>A point in time after which a wait gives up; infinite when the timeout is infinite.</summary>
    internal readonly struct Deadline
    {
        /// <summary>How long one wait slice lasts, so cancellation is seen promptly.</summary>
        public const int SliceMilliseconds = 50;

        private readonly long _end;

        private Deadline(long end, TimeSpan timeout)
        {
            _end = end;
            Timeout = timeout;
        }

        public TimeSpan Timeout { get; }

        public bool IsInfinite => _end == long.MaxValue;

        /// <summary>
        /// The time left, for a next step that takes a timeout (a TLS handshake after a connect): infinite for an infinite
        /// deadline, else at least a millisecond, so a passed deadline gives a step the least time rather than none
        /// ("no limit" to some callers) and the step reports the timeout itself.
        /// </summary>
        public TimeSpan Remaining
        {
            get
            {
                if (IsInfinite)
                {
                    return System.Threading.Timeout.InfiniteTimeSpan;
                }

                long left = _end - Stopwatch.GetTimestamp();
                return TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, (long)(left * (double)TimeSpan.TicksPerSecond / Stopwatch.Frequency)));
            }
        }

        public static Deadline After(TimeSpan timeout)
        {
            if (timeout == System.Threading.Timeout.InfiniteTimeSpan || timeout < TimeSpan.Zero)
            {
                return new Deadline(long.MaxValue, System.Threading.Timeout.InfiniteTimeSpan);
            }

            long ticks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            return new Deadline(Stopwatch.GetTimestamp() + ticks, timeout);
        }

        /// <summary>Milliseconds for the next wait slice, or -1 once the deadline has passed.</summary>
        public int NextSliceMilliseconds()
        {
            if (IsInfinite)
            {
                return SliceMilliseconds;
            }

            long left = _end - Stopwatch.GetTimestamp();
            if (left <= 0)
            {
                return -1;
            }

            long ms = left * 1000 / Stopwatch.Frequency;
            return (int)Math.Min(SliceMilliseconds, Math.Max(1, ms));
        }

        /// <summary>Waits for <paramref name="task"/> in slices; false when the deadline passed first.</summary>
        public bool Wait(System.Threading.Tasks.Task task, CancellationToken token)
        {
            while (true)
            {
                int slice = NextSliceMilliseconds();
                if (slice < 0)
                {
                    return task.IsCompleted;
                }

                try
                {
                    if (task.Wait(slice, token))
                    {
                        return true;
                    }
                }
                catch (AggregateException e) when (e.InnerExceptions.Count == 1)
                {
                    // Surface the task's own exception (SocketException, ...) rather than the wrapper.
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                }
            }
        }
    }

    /// <summary>Timeouts given in seconds, as the cmdlets and options take them.</summary>
    internal static class Timeouts
    {
        /// <summary>
        /// Seconds as a timeout: 0 (or less, or not a number) means no limit; any positive value is a limit of at least
        /// one millisecond, so a small value never rounds to "no limit" or to "do not wait".
        /// </summary>
        public static TimeSpan FromSeconds(double seconds)
        {
            if (!(seconds > 0))
            {
                return Timeout.InfiniteTimeSpan;
            }

            if (seconds >= TimeSpan.MaxValue.TotalSeconds)
            {
                return Timeout.InfiniteTimeSpan;
            }

            return TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, (long)(seconds * TimeSpan.TicksPerSecond)));
        }

        /// <summary>A timeout in seconds, as Get-SocketOption shows it: 0 for no limit.</summary>
        public static double ToSeconds(TimeSpan timeout) =>
            timeout == Timeout.InfiniteTimeSpan || timeout < TimeSpan.Zero ? 0 : timeout.TotalSeconds;
    }
}

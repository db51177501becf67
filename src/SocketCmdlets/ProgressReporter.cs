using System;
using System.Diagnostics;
using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>Writes a progress bar for a long transfer, at most a few times a second.</summary>
    internal sealed class ProgressReporter
    {
        private const long IntervalMs = 250;
        private static int s_nextActivityId = 0x50C0;

        private readonly Cmdlet _cmdlet;
        private readonly int _activityId;
        private readonly string _activity;
        private readonly long _total;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _lastReport = -IntervalMs;

        public ProgressReporter(Cmdlet cmdlet, string activity, long total)
        {
            _cmdlet = cmdlet;
            _total = total;
            _activityId = System.Threading.Interlocked.Increment(ref s_nextActivityId);
            _activity = activity;
        }

        /// <summary>Reports <paramref name="done"/> bytes, unless the last report was very recent.</summary>
        public void Report(long done)
        {
            long now = _clock.ElapsedMilliseconds;
            if (now - _lastReport < IntervalMs)
            {
                return;
            }

            _lastReport = now;
            double seconds = now / 1000.0;
            // A new record each time: hosts and jobs may keep the ones already written.
            var record = new ProgressRecord(_activityId, _activity, "Working");
            string rate = seconds > 0 ? $", {done / 1048576.0 / seconds:0.0} MiB/s" : string.Empty;
            if (_total > 0 && done > _total)
            {
                // A file that grows while it is sent: past its first length there is no end to show (PercentComplete
                // over 100 would throw), so the bar stays full and says so.
                record.PercentComplete = 100;
                record.StatusDescription = $"{done / 1048576.0:0.0} MiB, more than the {_total / 1048576.0:0.0} MiB at the start{rate}";
            }
            else if (_total > 0)
            {
                record.PercentComplete = (int)Math.Max(0, Math.Min(100, done * 100 / _total));
                record.StatusDescription = $"{done / 1048576.0:0.0} of {_total / 1048576.0:0.0} MiB{rate}";
                if (seconds > 0 && done > 0)
                {
                    record.SecondsRemaining = (int)Math.Min(int.MaxValue, (_total - done) * seconds / done);
                }
            }
            else
            {
                record.StatusDescription = $"{done / 1048576.0:0.0} MiB{rate}";
            }

            _cmdlet.WriteProgress(record);
        }

        /// <summary>Removes the progress bar.</summary>
        public void Complete()
        {
            if (_lastReport < 0)
            {
                return;
            }

            _cmdlet.WriteProgress(new ProgressRecord(_activityId, _activity, "Done") { RecordType = ProgressRecordType.Completed });
        }
    }
}

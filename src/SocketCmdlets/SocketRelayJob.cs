using System;
using System.Management.Automation;
using System.Threading;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// A running port forwarder as a PowerShell job (PSJobTypeName SocketRelayJob): Receive-Job yields one
    /// SocketRelaySession per finished connection, Stop-Job closes the listener and every relayed connection. The
    /// engine queues finished connections; one thread of the job moves them to its output, so only the job writes there.
    /// </summary>
    public sealed class SocketRelayJob : Job2
    {
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<SocketRelayJob, byte> s_live =
            new System.Collections.Concurrent.ConcurrentDictionary<SocketRelayJob, byte>();

        private readonly RelayListener _relay;
        private Thread _reporter;
        private int _finishing;

        internal SocketRelayJob(string command, string name, RelayListener relay)
            : base(command, name)
        {
            _relay = relay;
            PSJobTypeName = "SocketRelayJob";
        }

        /// <summary>Where the relay listens: address:port or the Unix path.</summary>
        public string LocalEndPoint => _relay.LocalEndPoint;

        /// <summary>The port the relay listens on (0 for a Unix socket): the one picked when -ListenPort was 0.</summary>
        public int LocalPort => _relay.LocalPort;

        /// <summary>Where it forwards to.</summary>
        public string Target => _relay.Target;

        /// <summary>Connections being relayed now.</summary>
        public int ActiveConnections => _relay.ActiveConnections;

        /// <summary>Connections accepted and relayed (or attempted) so far.</summary>
        public long TotalConnections => _relay.TotalConnections;

        /// <summary>Connections closed at once: over -MaxConnections or refused by -AllowAddress/-DenyAddress.</summary>
        public long RejectedConnections => _relay.RejectedConnections;

        /// <summary>Bytes forwarded to the target so far.</summary>
        public long BytesToTarget => _relay.BytesToTarget;

        /// <summary>Bytes forwarded back to the clients so far.</summary>
        public long BytesToSource => _relay.BytesToSource;

        /// <inheritdoc />
        public override bool HasMoreData => Output.Count > 0 || Error.Count > 0;

        /// <inheritdoc />
        public override string Location => LocalEndPoint;

        /// <inheritdoc />
        public override string StatusMessage =>
            $"{ActiveConnections} active, {TotalConnections} relayed, {RejectedConnections} rejected";

        /// <summary>Stops (as Stop-Job does) every relay job whose relay <paramref name="owner"/> started.</summary>
        internal static void StopOwnedBy(object owner)
        {
            foreach (SocketRelayJob job in s_live.Keys)
            {
                if (Equals(job._relay.Owner, owner))
                {
                    job.StopJob();
                }
            }
        }

        /// <inheritdoc />
        public override void StartJob()
        {
            s_live[this] = 0;
            _reporter = new Thread(Report) { IsBackground = true, Name = "SocketRelayJob " + Id };
            SetJobState(JobState.Running);
            _reporter.Start();
        }

        /// <inheritdoc />
        public override void StartJobAsync()
        {
            StartJob();
            OnStartJobCompleted(new System.ComponentModel.AsyncCompletedEventArgs(null, false, null));
        }

        /// <inheritdoc />
        public override void StopJob() => StopJob(false, null);

        /// <inheritdoc />
        public override void StopJob(bool force, string reason)
        {
            if (IsFinishedState(JobStateInfo.State))
            {
                return;
            }

            SetJobState(JobState.Stopping);
            _relay.Stop();
            if (_reporter != null && Thread.CurrentThread != _reporter)
            {
                _reporter.Join(TimeSpan.FromSeconds(15));
            }

            Finish();
        }

        /// <inheritdoc />
        public override void StopJobAsync()
        {
            StopJob();
            OnStopJobCompleted(new System.ComponentModel.AsyncCompletedEventArgs(null, false, null));
        }

        /// <inheritdoc />
        public override void StopJobAsync(bool force, string reason)
        {
            StopJob(force, reason);
            OnStopJobCompleted(new System.ComponentModel.AsyncCompletedEventArgs(null, false, null));
        }

        /// <inheritdoc />
        public override void SuspendJob() => throw new NotSupportedException("A relay job cannot be suspended; stop it with Stop-Job.");

        /// <inheritdoc />
        public override void SuspendJobAsync() => SuspendJob();

        /// <inheritdoc />
        public override void SuspendJob(bool force, string reason) => SuspendJob();

        /// <inheritdoc />
        public override void SuspendJobAsync(bool force, string reason) => SuspendJob();

        /// <inheritdoc />
        public override void ResumeJob() => throw new NotSupportedException("A relay job cannot be suspended or resumed.");

        /// <inheritdoc />
        public override void ResumeJobAsync() => ResumeJob();

        /// <inheritdoc />
        public override void UnblockJob() => throw new NotSupportedException("A relay job is never blocked.");

        /// <inheritdoc />
        public override void UnblockJobAsync() => UnblockJob();

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _relay.Stop();
                _reporter?.Join(TimeSpan.FromSeconds(15));
            }

            base.Dispose(disposing);
        }

        /// <summary>Moves finished connections from the engine's queue to the job's output until the relay has ended.</summary>
        private void Report()
        {
            try
            {
                while (!_relay.IsCompleted)
                {
                    if (_relay.TryTake(out SocketRelaySession session, 100))
                    {
                        Output.Add(PSObject.AsPSObject(session));
                    }
                }
            }
            catch (Exception e)
            {
                // Never unobserved: a failure of the reporter is the job's error.
                Error.Add(new ErrorRecord(e, "RelayReportFailed", ErrorCategory.InvalidOperation, this));
            }

            if (_relay.Failure != null)
            {
                Error.Add(ErrorFactory.FromException(_relay.Failure, LocalEndPoint, $"go on accepting on {LocalEndPoint}", SocketOperation.Accept));
            }

            Finish();
        }

        private void Finish()
        {
            if (Interlocked.Exchange(ref _finishing, 1) != 0)
            {
                return;
            }

            s_live.TryRemove(this, out _);
            SetJobState(_relay.Failure != null ? JobState.Failed : JobState.Stopped);
        }

        private static bool IsFinishedState(JobState state) =>
            state == JobState.Completed || state == JobState.Failed || state == JobState.Stopped;
    }
}

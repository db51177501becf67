using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>
    /// TCP connect probes of many hosts and ports at once: non-blocking connects multiplexed on one thread (one
    /// Socket.Select over the pending set), at most <see cref="ProbeSettings.ThrottleLimit"/> in flight, each bounded by
    /// its own deadline. Hosts and ports go in with <see cref="Submit"/> (from one thread), results come out as they
    /// complete through <see cref="TryTake"/>. Cancelling the token, or disposing, closes every probe socket.
    /// </summary>
    internal sealed partial class PortProber : IDisposable
    {
        private const int SliceMilliseconds = 50;

        private static readonly bool s_windows = System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows);

        private readonly ProbeSettings _settings;
        private readonly bool _trace;
        private readonly CancellationTokenSource _cancel;
        private readonly ConcurrentQueue<ProbeTarget> _input = new ConcurrentQueue<ProbeTarget>();
        private readonly BlockingCollection<ProbeEvent[]> _events = new BlockingCollection<ProbeEvent[]>();

        // Events go out in one batch per turn of the loop: one wake-up of the reader per batch, not per event.
        private readonly List<ProbeEvent> _batch = new List<ProbeEvent>();
        private long _batchSince;

        // The reader's side: the batch being handed out.
        private ProbeEvent[] _taking = new ProbeEvent[0];
        private int _taken;
        private readonly AutoResetEvent _wake = new AutoResetEvent(false);
        private readonly Thread _thread;
        private readonly long _waitEnd;
        private readonly long _timeoutTicks;
        private readonly long _intervalTicks;
        private volatile bool _inputComplete;
        private int _submitted;
        private int _openSockets;
        private int _peakSockets;

        // Owned by the probe thread.
        private readonly List<Probe> _inFlight = new List<Probe>();
        private readonly Queue<Probe> _ready = new Queue<Probe>();
        private readonly List<ProbeTarget> _sleeping = new List<ProbeTarget>();
        private readonly Dictionary<string, Task<IPAddress[]>> _lookups = new Dictionary<string, Task<IPAddress[]>>(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<Socket, Probe> _connecting = new Dictionary<Socket, Probe>();
        private readonly List<Socket> _selected = new List<Socket>();

        /// <summary>Starts the probe thread. <paramref name="trace"/> asks for Trace events about each step on the wire.</summary>
        public PortProber(ProbeSettings settings, CancellationToken cancellationToken, bool trace = false)
        {
            _settings = settings ?? throw new ArgumentNullException(nameof(settings));
            settings.Validate();
            _trace = trace;
            _timeoutTicks = Ticks(settings.Timeout);
            _intervalTicks = Ticks(settings.Interval);
            _waitEnd = settings.Wait ? Now + Ticks(settings.WaitTimeout) : long.MaxValue;
            _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _thread = new Thread(Run) { IsBackground = true, Name = "SocketCmdlets probes" };
            _thread.Start();
        }

        /// <summary>Probe sockets open now.</summary>
        public int OpenSockets => Volatile.Read(ref _openSockets);

        /// <summary>The most probe sockets that were open at once.</summary>
        public int PeakOpenSockets => Volatile.Read(ref _peakSockets);

        /// <summary>True once every event has been taken and no more will come.</summary>
        public bool IsCompleted => _taken >= _taking.Length && _events.IsCompleted;

        /// <summary>Queues a host (name or address) and port; returns its index (0, 1, ...). Call from one thread.</summary>
        public int Submit(string host, int port)
        {
            if (_inputComplete)
            {
                throw new InvalidOperationException("No more hosts can be submitted after CompleteInput.");
            }

            if (string.IsNullOrWhiteSpace(host))
            {
                throw new ArgumentException("A host name or address is required.", nameof(host));
            }

            if (port < 1 || port > 65535)
            {
                throw new ArgumentOutOfRangeException(nameof(port), port, "The port must be between 1 and 65535.");
            }

            int index = _submitted++;
            _input.Enqueue(new ProbeTarget(index, host.Trim(), port));
            Wake();
            return index;
        }

        /// <summary>Says that nothing more will be submitted: the events end once every probe has.</summary>
        public void CompleteInput()
        {
            _inputComplete = true;
            Wake();
        }

        /// <summary>Takes the next event, waiting up to <paramref name="milliseconds"/>; false when none came (or all are taken). Call from one thread.</summary>
        public bool TryTake(out ProbeEvent probeEvent, int milliseconds, CancellationToken cancellationToken)
        {
            if (_taken >= _taking.Length)
            {
                if (!_events.TryTake(out ProbeEvent[] batch, milliseconds, cancellationToken))
                {
                    probeEvent = null;
                    return false;
                }

                _taking = batch;
                _taken = 0;
            }

            probeEvent = _taking[_taken++];
            return true;
        }

        /// <summary>Stops probing, closes every probe socket and waits (bounded) for the probe thread.</summary>
        public void Dispose()
        {
            _cancel.Cancel();
            Wake();
            if (_thread.Join(TimeSpan.FromSeconds(10)))
            {
                _events.Dispose();
                _cancel.Dispose();
            }
        }

        private static long Now => Stopwatch.GetTimestamp();

        private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

        private void Wake()
        {
            try
            {
                _wake.Set();
            }
            catch (ObjectDisposedException)
            {
                // The prober is gone: nobody waits.
            }
        }

        private void Run()
        {
            CancellationToken token = _cancel.Token;
            try
            {
                while (!token.IsCancellationRequested)
                {
                    Admit(Now);
                    if (_inFlight.Count == 0 && _ready.Count == 0 && _sleeping.Count == 0 && _inputComplete && _input.IsEmpty)
                    {
                        break;
                    }

                    Flush(force: false);
                    WaitForActivity(token);
                    Progress(Now);
                }
            }
            catch (Exception e)
            {
                // Reported, never lost: the caller turns it into an error.
                _batch.Add(new ProbeEvent(ProbeEventKind.Fault, -1) { Error = e });
            }
            finally
            {
                foreach (Probe probe in _inFlight)
                {
                    CloseSocket(probe);
                }

                Flush();
                _events.CompleteAdding();
            }
        }

        /// <summary>
        /// Hands the events gathered so far to the reader: at once with <paramref name="force"/>, else when many have
        /// gathered or the oldest has waited 10 ms, so a fast scan wakes the reader rarely and a slow one promptly.
        /// </summary>
        private void Flush(bool force = true)
        {
            if (_batch.Count == 0)
            {
                return;
            }

            long now = Now;
            if (force || _batch.Count >= 1024 || now - _batchSince >= Stopwatch.Frequency / 100)
            {
                _events.Add(_batch.ToArray());
                _batch.Clear();
            }
        }

        private void Admit(long now)
        {
            for (int i = _sleeping.Count - 1; i >= 0; i--)
            {
                if (_sleeping[i].WakeAt <= now)
                {
                    ProbeTarget target = _sleeping[i];
                    _sleeping.RemoveAt(i);
                    _ready.Enqueue(NewAttempt(target));
                }
            }

            while (_inFlight.Count < _settings.ThrottleLimit)
            {
                Probe probe;
                if (_ready.Count > 0)
                {
                    probe = _ready.Dequeue();
                }
                else if (_input.TryDequeue(out ProbeTarget target))
                {
                    probe = NewAttempt(target);
                }
                else
                {
                    break;
                }

                Begin(probe, now);
            }
        }

        private static Probe NewAttempt(ProbeTarget target)
        {
            target.Attempt++;
            target.Results.Clear();
            target.Outstanding = 1;
            return new Probe(target);
        }

        private void WaitForActivity(CancellationToken token)
        {
            long now = Now;
            long next = now + Ticks(TimeSpan.FromMilliseconds(SliceMilliseconds));
            foreach (Probe probe in _inFlight)
            {
                next = Math.Min(next, probe.EndAt);
            }

            foreach (ProbeTarget target in _sleeping)
            {
                next = Math.Min(next, target.WakeAt);
            }

            int milliseconds = (int)Math.Max(0, Math.Ceiling((next - now) * 1000.0 / Stopwatch.Frequency));
            bool room = _inFlight.Count < _settings.ThrottleLimit;
            if (room && (_ready.Count > 0 || !_input.IsEmpty))
            {
                milliseconds = 0;
            }

            _selected.Clear();
            if (_connecting.Count == 0)
            {
                Flush();
                WaitHandle.WaitAny(new[] { _wake, token.WaitHandle }, milliseconds);
                return;
            }

            // Lookups, handshakes and new input do not end a Select: look again soon while they may come.
            if (_inFlight.Count > _connecting.Count || (room && !_inputComplete))
            {
                milliseconds = Math.Min(milliseconds, 5);
            }

            // A failed connect shows as writable, except on Windows, which reports it in the error set only.
            _selected.AddRange(_connecting.Keys);
            List<Socket> failed = s_windows ? new List<Socket>(_connecting.Keys) : null;
            Socket.Select(null, _selected, failed, milliseconds * 1000);
            if (failed != null)
            {
                _selected.AddRange(failed.Where(s => !_selected.Contains(s)));
            }
        }

        private void Progress(long now)
        {
            foreach (Socket socket in _selected)
            {
                if (!_connecting.TryGetValue(socket, out Probe probe))
                {
                    continue;
                }

                _connecting.Remove(socket);
                SocketError error = probe.Finish();
                if (error == SocketError.Success)
                {
                    Connected(probe);
                }
                else if (Failed(probe, error))
                {
                    ConnectNext(probe);
                }
            }

            _selected.Clear();
            // By index: the steps below add no probe to the list and only mark the finished ones Done.
            for (int i = 0; i < _inFlight.Count; i++)
            {
                Probe probe = _inFlight[i];
                switch (probe.Phase)
                {
                    case ProbePhase.Resolving when probe.Lookup.IsCompleted:
                        Resolved(probe);
                        break;
                    case ProbePhase.Resolving when now >= probe.EndAt:
                        Finish(probe, ConnectionTestStatus.TimedOut, $"'{probe.Target.Host}' was not resolved within {_settings.Timeout.TotalSeconds:0.###} s.");
                        break;
                    case ProbePhase.Connecting when now >= probe.EndAt:
                        Finish(probe, ConnectionTestStatus.TimedOut, $"No answer within {_settings.Timeout.TotalSeconds:0.###} s.");
                        break;
                    case ProbePhase.Handshaking when probe.Handshake.IsCompleted || now >= probe.EndAt:
                        Finish(probe, ConnectionTestStatus.Open, null);
                        break;
                }
            }

            _inFlight.RemoveAll(p => p.Phase == ProbePhase.Done);
        }
    }
}

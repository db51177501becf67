using System;
using System.Collections.Concurrent;
using System.ComponentModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Net;
using System.Threading;
using SocketCmdlets.Server;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// The job that Start-SocketServer returns: an accept loop in the engine and one run of the script block per
    /// connection on a runspace pool. What a handler writes reaches the job's streams as it is written.
    /// </summary>
    public sealed partial class SocketServerJob : Job2
    {
        /// <summary>The value of PSJobTypeName.</summary>
        public const string JobTypeName = "SocketServerJob";

        private const string CommandName = "SocketCmdlets.Commands.StartSocketServerCommand";

        // $_ and the first argument are the socket; $_ reaches a plain, a process or an end block alike this way.
        private const string Runner =
            "param($__SocketServerConnection, $__SocketServerScript, $__SocketServerArguments, $__SocketServerLocation)\n" +
            "if ($__SocketServerLocation -and $PWD.ProviderPath -ne $__SocketServerLocation) { Set-Location -LiteralPath $__SocketServerLocation }\n" +
            "$__SocketServerBlock = [scriptblock]::Create($__SocketServerScript)\n" +
            "ForEach-Object -InputObject $__SocketServerConnection -Process { $_ | & $__SocketServerBlock $_ @__SocketServerArguments }";

        private static readonly TimeSpan s_stopWait = TimeSpan.FromSeconds(5);
        private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(2);
        private static readonly ConcurrentDictionary<Guid, SocketServerJob> s_running = new ConcurrentDictionary<Guid, SocketServerJob>();

        private readonly SocketServer _server;
        private readonly RunspacePool _pool;
        private readonly string _script;
        private readonly object[] _arguments;
        private readonly string _location;
        private readonly bool _verbose;
        private readonly ConcurrentDictionary<PowerShell, NetSocket> _handlers = new ConcurrentDictionary<PowerShell, NetSocket>();
        private readonly ManualResetEventSlim _idle = new ManualResetEventSlim(true);
        private int _shutdown;
        private int _running;

        internal SocketServerJob(string name, NetSocket listener, SocketServerOptions options, ScriptBlock scriptBlock, object[] arguments,
            int throttleLimit, string modulePath, string location, bool verbose)
            : base(scriptBlock.ToString().Trim(), name)
        {
            PSJobTypeName = JobTypeName;
            _script = scriptBlock.ToString();
            _arguments = arguments ?? Array.Empty<object>();
            _location = location;
            _verbose = verbose;
            Owner = options.Owner;
            ThrottleLimit = throttleLimit;
            MaxConnections = options.MaxConnections;
            LocalEndPoint = listener.LocalEndPoint;
            Path = listener.LocalPath ?? listener.Path;
            _server = new SocketServer(listener, options, new Sink(this));

            InitialSessionState iss = InitialSessionState.CreateDefault2();
            if (modulePath != null)
            {
                iss.ImportPSModule(new[] { modulePath });
            }

            _pool = RunspaceFactory.CreateRunspacePool(iss);
            _pool.SetMaxRunspaces(throttleLimit);
            _pool.SetMinRunspaces(1);
            Output.EnumeratorNeverBlocks = true;
            Error.EnumeratorNeverBlocks = true;
            Warning.EnumeratorNeverBlocks = true;
            Verbose.EnumeratorNeverBlocks = true;
            Debug.EnumeratorNeverBlocks = true;
            Information.EnumeratorNeverBlocks = true;
            Progress.EnumeratorNeverBlocks = true;
        }

        /// <summary>The address and port the server listens on (null for a Unix domain socket).</summary>
        public IPEndPoint LocalEndPoint { get; }

        /// <summary>The path of the Unix domain socket the server listens on, or null.</summary>
        public string Path { get; }

        /// <summary>The id of the listening socket, as Get-Socket shows it.</summary>
        public int ListenerId => _server.Listener.Id;

        /// <summary>Connections being served or waiting for a runspace.</summary>
        public int ActiveConnections => _server.ActiveConnections;

        /// <summary>Connections admitted since the start.</summary>
        public long TotalConnections => _server.TotalConnections;

        /// <summary>Clients turned away (-MaxConnections, -AllowAddress, -DenyAddress) since the start.</summary>
        public long RejectedConnections => _server.RejectedConnections;

        /// <summary>Most handlers that run at once.</summary>
        public int ThrottleLimit { get; }

        /// <summary>Most connections open at once; 0 means no limit.</summary>
        public int MaxConnections { get; }

        internal object Owner { get; }

        /// <inheritdoc/>
        public override string StatusMessage => $"{ActiveConnections} active, {TotalConnections} served, {RejectedConnections} rejected";

        /// <inheritdoc/>
        public override bool HasMoreData =>
            Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Debug.Count > 0 || Information.Count > 0 || Progress.Count > 0;

        /// <inheritdoc/>
        public override string Location => Path ?? NetSocket.Format(LocalEndPoint);

        /// <summary>Stops every running server whose owner (the session that started it) is <paramref name="owner"/>.</summary>
        internal static void StopOwnedBy(object owner)
        {
            foreach (SocketServerJob job in s_running.Values)
            {
                if (Equals(job.Owner, owner))
                {
                    job.StopJob();
                }
            }
        }

        /// <summary>Opens the runspace pool and starts accepting.</summary>
        public override void StartJob() => Start(CancellationToken.None);

        /// <summary>Opens the runspace pool (which imports the module: the one wait, cut short by <paramref name="cancellationToken"/>) and starts accepting.</summary>
        internal void Start(CancellationToken cancellationToken)
        {
            if (JobStateInfo.State != JobState.NotStarted)
            {
                throw new InvalidOperationException("The server job has been started already.");
            }

            IAsyncResult opening = _pool.BeginOpen(null, null);
            while (!opening.AsyncWaitHandle.WaitOne(100))
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            _pool.EndOpen(opening);
            s_running[InstanceId] = this;
            SetJobState(JobState.Running);
            _server.Start();
        }

        /// <inheritdoc/>
        public override void StartJobAsync()
        {
            StartJob();
            OnStartJobCompleted(new AsyncCompletedEventArgs(null, false, null));
        }

        /// <summary>Stops accepting, stops every handler, closes every connection and the listener (the port is free on return).</summary>
        public override void StopJob() => Shutdown(JobState.Stopped, null);

        /// <inheritdoc/>
        public override void StopJob(bool force, string reason) => StopJob();

        /// <inheritdoc/>
        public override void StopJobAsync()
        {
            StopJob();
            OnStopJobCompleted(new AsyncCompletedEventArgs(null, false, null));
        }

        /// <inheritdoc/>
        public override void StopJobAsync(bool force, string reason) => StopJobAsync();

        /// <inheritdoc/>
        public override void SuspendJob() => throw new NotSupportedException("A socket server cannot be suspended; stop it with Stop-Job.");

        /// <inheritdoc/>
        public override void SuspendJob(bool force, string reason) => SuspendJob();

        /// <inheritdoc/>
        public override void SuspendJobAsync() => SuspendJob();

        /// <inheritdoc/>
        public override void SuspendJobAsync(bool force, string reason) => SuspendJob();

        /// <inheritdoc/>
        public override void ResumeJob() => throw new NotSupportedException("A socket server cannot be suspended or resumed.");

        /// <inheritdoc/>
        public override void ResumeJobAsync() => ResumeJob();

        /// <inheritdoc/>
        public override void UnblockJob() => throw new NotSupportedException("A socket server is never blocked.");

        /// <inheritdoc/>
        public override void UnblockJobAsync() => UnblockJob();

        /// <inheritdoc/>
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Shutdown(JobState.Stopped, null);
            }

            base.Dispose(disposing);
        }

        private void Shutdown(JobState final, ErrorRecord reason)
        {
            if (Interlocked.Exchange(ref _shutdown, 1) != 0)
            {
                return;
            }

            s_running.TryRemove(InstanceId, out _);
            if (JobStateInfo.State == JobState.Running)
            {
                SetJobState(JobState.Stopping);
            }

            // The listener first, so no new client gets in and the port is free; then the handlers, then their sockets.
            _server.Stop(s_stopWait);
            foreach (PowerShell handler in _handlers.Keys)
            {
                try
                {
                    handler.BeginStop(null, null);
                }
                catch (Exception e) when (e is ObjectDisposedException || e is InvalidOperationException)
                {
                    // It finished meanwhile.
                }
            }

            // A handler stopped first cannot run on after its receive ends; one stuck in a call that ignores the stop
            // is freed by closing its socket.
            _idle.Wait(s_stopGrace);
            _server.CloseConnections();
            _idle.Wait(s_stopWait);
            if (reason != null)
            {
                AddTo(Error, reason);
            }

            try
            {
                _pool.BeginClose(ar =>
                {
                    try
                    {
                        _pool.EndClose(ar);
                    }
                    catch (Exception)
                    {
                        // A runspace that would not close is not worth a crash of the host; it goes with the pool.
                    }

                    _pool.Dispose();
                }, null);
            }
            catch (InvalidRunspacePoolStateException)
            {
                _pool.Dispose();
            }

            if (JobStateInfo.State != JobState.NotStarted || final != JobState.Stopped)
            {
                SetJobState(final);
            }
        }

        private void Serve(NetSocket connection)
        {
            var handler = PowerShell.Create();
            handler.RunspacePool = _pool;
            handler.AddScript(Runner, true).AddArgument(connection).AddArgument(_script).AddArgument(_arguments).AddArgument(_location);
            var output = new PSDataCollection<PSObject>();
            Forward(output, Output);
            ForwardErrors(handler.Streams.Error);
            Forward(handler.Streams.Warning, Warning);
            Forward(handler.Streams.Verbose, Verbose);
            Forward(handler.Streams.Debug, Debug);
            Forward(handler.Streams.Information, Information);
            _handlers[handler] = connection;
            lock (_idle)
            {
                _running++;
                _idle.Reset();
            }

            if (Volatile.Read(ref _shutdown) != 0)
            {
                HandlerEnded(handler, output);
                return;
            }

            if (_verbose)
            {
                AddTo(Verbose, new VerboseRecord($"Serving {Describe(connection)} ({ActiveConnections} active)."));
            }

            try
            {
                Invoke(handler, output);
            }
            catch (Exception e) when (e is InvalidRunspacePoolStateException || e is InvalidOperationException || e is ObjectDisposedException)
            {
                // The pool closed under a connection that arrived as the server stopped.
                HandlerEnded(handler, output);
            }
        }

        private void Invoke(PowerShell handler, PSDataCollection<PSObject> output)
        {
            handler.BeginInvoke<PSObject, PSObject>(null, output, null, ar =>
            {
                try
                {
                    handler.EndInvoke(ar);
                }
                catch (RuntimeException e) when (Volatile.Read(ref _shutdown) == 0 && !(e is PipelineStoppedException))
                {
                    // A terminating error (throw) ends this handler only; the server goes on.
                    AddTo(Error, e.ErrorRecord);
                }
                catch (Exception)
                {
                    // Stopped by Stop-Job, or a failure after the stop began: the stop is what the user asked for.
                }

                HandlerEnded(handler, output);
            }, null);
        }

        private void HandlerEnded(PowerShell handler, PSDataCollection<PSObject> output)
        {
            if (_handlers.TryRemove(handler, out NetSocket connection))
            {
                _server.Release(connection);
                if (_verbose && Volatile.Read(ref _shutdown) == 0)
                {
                    AddTo(Verbose, new VerboseRecord($"Closed {Describe(connection)}: its handler ended ({connection.BytesReceived} bytes in, {connection.BytesSent} out)."));
                }
            }

            lock (_idle)
            {
                if (--_running == 0)
                {
                    _idle.Set();
                }
            }

            handler.Dispose();
            output.Dispose();
        }
    }
}

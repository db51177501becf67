using System;
using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>accept(): waits for connections on a listener and writes each one as it arrives.</summary>
    [Cmdlet(VerbsCommunications.Receive, "SocketConnection", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(NetSocket))]
    public sealed class ReceiveSocketConnectionCommand : SocketCommandBase
    {
        /// <summary>The listening socket.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = SocketSet)]
        [ValidateNotNull]
        public NetSocket Socket { get; set; }

        /// <summary>The id of the listening socket.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int Id { get; set; }

        /// <summary>How many connections to accept (default 1).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Count { get; set; } = 1;

        /// <summary>Accept connections until Ctrl+C, the end of the pipeline or the listener closes.</summary>
        [Parameter]
        public SwitchParameter Continuous { get; set; }

        /// <summary>Seconds to wait for each connection; 0 (the default) waits without limit.</summary>
        [Parameter]
        [ValidateRange(0.0, (double)int.MaxValue)]
        public double TimeoutSec { get; set; }

        /// <summary>A label for each accepted socket.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>
        /// Seconds without a new connection after which the call ends quietly (no error): "serve until idle". It
        /// cannot be combined with -TimeoutSec, whose passing is an error.
        /// </summary>
        [Parameter]
        [ValidateRange(0.0, (double)int.MaxValue)]
        public double IdleTimeoutSec { get; set; }
        /// <summary>Only clients from these IP addresses or CIDR ranges are accepted; others are closed at once.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] AllowAddress { get; set; }

        /// <summary>Clients from these IP addresses or CIDR ranges are closed at once (deny wins over allow).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] DenyAddress { get; set; }

        private AddressFilter _filter;

        protected override void BeginProcessing()
        {
            _filter = ServerArguments.Filter(this, AllowAddress, DenyAddress);

            if (Continuous.IsPresent && IsBound(nameof(Count)))
            {
                ThrowParameterError("ConflictingParameters", "Use -Count or -Continuous, not both.");
            }

            if (IsBound(nameof(IdleTimeoutSec)) && IsBound(nameof(TimeoutSec)))
            {
                ThrowParameterError("ConflictingParameters", "Use -TimeoutSec (a wait that passes is an error) or -IdleTimeoutSec (it ends the output quietly), not both.");
            }
        }

        /// <summary>How long a -Continuous server waits after a failed accept before it accepts again.</summary>
        private const int AcceptRetryMilliseconds = 100;

        protected override void ProcessRecord()
        {
            NetSocket listener = ResolveSocket(Socket, Id);
            if (listener == null)
            {
                return;
            }

            for (int accepted = 0; Continuous.IsPresent || accepted < Count; accepted++)
            {
                if (VerboseEnabled)
                {
                    WriteVerbose($"Waiting for a connection on {(listener.LocalPath ?? NetSocket.Format(listener.LocalEndPoint))} (socket {listener.Id}{(TimeoutSec > 0 ? $", timeout {Seconds(TimeoutSec)}" : string.Empty)}).");
                }

                NetSocket peer = null;
                if (Continuous.IsPresent && listener.State == SocketState.Closed)
                {
                    // A server loop ends quietly when its listener is closed (from another runspace, for example).
                    WriteVerbose($"Listener {listener.Id} was closed; no more connections.");
                    return;
                }

                System.Exception failure = null;
                TimeSpan timeout = IsBound(nameof(IdleTimeoutSec)) ? ToTimeout(IdleTimeoutSec) : TimeoutFor(listener, TimeoutSec, send: false);
                if (!Try(() => peer = Own(listener.Accept(timeout, StopToken)), listener,
                    $"accept a connection on {(listener.LocalPath ?? NetSocket.Format(listener.LocalEndPoint))} (socket {listener.Id})", SocketOperation.Accept,
                    quiet: e => ((failure = e) is InvalidSocketStateException && Continuous.IsPresent && listener.State == SocketState.Closed)
                        || (e is SocketTimeoutException && IsBound(nameof(IdleTimeoutSec)))))
                {
                    if (Continuous.IsPresent && failure is System.Net.Sockets.SocketException && listener.State != SocketState.Closed)
                    {
                        // A failed accept (out of descriptors under a burst, a client gone before it was taken) was
                        // reported; the server goes on after a short pause, so a lasting failure does not spin.
                        StopToken.WaitHandle.WaitOne(AcceptRetryMilliseconds);
                        if (StopToken.IsCancellationRequested)
                        {
                            throw new PipelineStoppedException();
                        }

                        accepted--;
                        continue;
                    }

                    return;
                }

                if (!_filter.IsEmpty && !_filter.IsAllowed(peer.RemoteEndPoint?.Address))
                {
                    // A rejected client is not one of the -Count connections: wait for the next.
                    WriteVerbose($"Rejected {(peer.RemoteEndPoint != null ? NetSocket.Format(peer.RemoteEndPoint) : "a client")} and closed its connection: its address is not allowed (-AllowAddress/-DenyAddress).");
                    peer.Close();
                    accepted--;
                    continue;
                }

                if (Name != null)
                {
                    peer.Name = Name;
                }

                if (VerboseEnabled)
                {
                    WriteVerbose($"Accepted socket {peer.Id}: {(peer.LocalPath != null ? "a client" : NetSocket.Format(peer.RemoteEndPoint))} -> {peer.LocalPath ?? NetSocket.Format(peer.LocalEndPoint)}.");
                }

                WriteObject(peer);
            }
        }
    }
}

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
        [ValidateRange(0, int.MaxValue)]
        public int TimeoutSec { get; set; }

        /// <summary>A label for each accepted socket.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

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
        }

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
                    WriteVerbose($"Waiting for a connection on {(listener.LocalPath ?? NetSocket.Format(listener.LocalEndPoint))} (socket {listener.Id}{(TimeoutSec > 0 ? $", timeout {TimeoutSec} s" : string.Empty)}).");
                }

                NetSocket peer = null;
                if (Continuous.IsPresent && listener.State == SocketState.Closed)
                {
                    // A server loop ends quietly when its listener is closed (from another runspace, for example).
                    WriteVerbose($"Listener {listener.Id} was closed; no more connections.");
                    return;
                }

                if (!Try(() => peer = Own(listener.Accept(TimeoutFor(listener, TimeoutSec, send: false), StopToken)), listener,
                    $"accept a connection on {(listener.LocalPath ?? NetSocket.Format(listener.LocalEndPoint))} (socket {listener.Id})", SocketOperation.Accept,
                    quiet: e => Continuous.IsPresent && e is InvalidSocketStateException && listener.State == SocketState.Closed))
                {
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

using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>setsockopt(): changes options of existing sockets.</summary>
    [Cmdlet(VerbsCommon.Set, "SocketOption", DefaultParameterSetName = SocketSet, SupportsShouldProcess = true)]
    [OutputType(typeof(NetSocket))]
    public sealed class SetSocketOptionCommand : SocketCommandBase
    {
        /// <summary>The sockets to change.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = SocketSet)]
        [ValidateNotNull]
        public NetSocket[] Socket { get; set; }

        /// <summary>The ids of the sockets to change.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int[] Id { get; set; }

        /// <summary>The names of the sockets to change; wildcards allowed (a name without wildcards that matches no open socket is an error).</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SocketNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; }

        /// <summary>Disables (-NoDelay) or enables (-NoDelay:$false) Nagle's algorithm (TCP).</summary>
        [Parameter]
        public SwitchParameter NoDelay { get; set; }

        /// <summary>Turns TCP keep-alive probes on (-KeepAlive) or off (-KeepAlive:$false).</summary>
        [Parameter]
        public SwitchParameter KeepAlive { get; set; }

        /// <summary>Seconds of idleness before the first keep-alive probe.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int KeepAliveTimeSec { get; set; }

        /// <summary>Seconds between keep-alive probes.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int KeepAliveIntervalSec { get; set; }

        /// <summary>Unanswered keep-alive probes before the connection is dropped.</summary>
        [Parameter]
        [ValidateRange(1, 255)]
        public int KeepAliveRetryCount { get; set; }

        /// <summary>Allows (or forbids) binding to an address still in use (SO_REUSEADDR); set it before binding.</summary>
        [Parameter]
        public SwitchParameter ReuseAddress { get; set; }

        /// <summary>Seconds a close waits for unsent data (SO_LINGER); -1 turns lingering off (the default); 0 resets the connection on close.</summary>
        [Parameter]
        [ValidateRange(-1, 65535)]
        public int LingerSec { get; set; }

        /// <summary>Allows (or forbids) sending to broadcast addresses (UDP).</summary>
        [Parameter]
        public SwitchParameter Broadcast { get; set; }

        /// <summary>The kernel receive buffer size in bytes.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int ReceiveBufferSize { get; set; }

        /// <summary>The kernel send buffer size in bytes.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int SendBufferSize { get; set; }

        /// <summary>The IP time-to-live (IPv6 hop limit) of unicast packets.</summary>
        [Parameter]
        [ValidateRange(1, 255)]
        public int Ttl { get; set; }

        /// <summary>The time-to-live of multicast datagrams (UDP); 1 keeps them on the local network, 0 on this host.</summary>
        [Parameter]
        [ValidateRange(0, 255)]
        public int MulticastTtl { get; set; }

        /// <summary>Whether this host receives its own multicast datagrams (UDP).</summary>
        [Parameter]
        public SwitchParameter MulticastLoopback { get; set; }

        /// <summary>One IPv6 socket for IPv4 and IPv6; only before the socket is bound or connected.</summary>
        [Parameter]
        public SwitchParameter DualMode { get; set; }

        /// <summary>The receive timeout, in seconds, that Receive-SocketData and Receive-SocketConnection use on this socket when -TimeoutSec is not given; 0 means none.</summary>
        [Parameter]
        [ValidateRange(0.0, (double)int.MaxValue)]
        public double ReceiveTimeoutSec { get; set; }

        /// <summary>The send timeout, in seconds, that Send-SocketData uses on this socket when -TimeoutSec is not given; 0 means none.</summary>
        [Parameter]
        [ValidateRange(0.0, (double)int.MaxValue)]
        public double SendTimeoutSec { get; set; }

        /// <summary>Writes the socket to the pipeline after changing it.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            SocketOptions changes = OptionsFromParameters();
            foreach (NetSocket socket in ResolveSockets(Socket, ById ? Id : null))
            {
                if (!ShouldProcess(socket.ToString(), "Set socket options"))
                {
                    continue;
                }

                if (!Try(() => socket.SetOptions(changes), socket, $"change the options of socket {socket.Id}"))
                {
                    continue;
                }

                if (VerboseEnabled)
                {
                    WriteVerbose($"Changed the options of socket {socket.Id}: {string.Join(", ", MyInvocation.BoundParameters.Keys)}.");
                }

                if (PassThru.IsPresent)
                {
                    WriteObject(socket);
                }
            }
        }
    }
}

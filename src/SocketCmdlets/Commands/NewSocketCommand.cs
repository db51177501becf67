using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>socket(): creates a socket.</summary>
    [Cmdlet(VerbsCommon.New, "Socket")]
    [OutputType(typeof(NetSocket))]
    [Alias("nsk")]
    public sealed class NewSocketCommand : SocketCommandBase
    {
        /// <summary>The protocol; Tcp.</summary>
        [Parameter]
        public SocketProtocol Protocol { get; set; } = SocketProtocol.Tcp;

        /// <summary>IPv4 or IPv6 only; without it the socket reaches both.</summary>
        [Parameter]
        public SocketFamily AddressFamily { get; set; }

        /// <summary>A label, for Get-Socket -Name.</summary>
        [Parameter(ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>Disables Nagle's algorithm (TCP_NODELAY).</summary>
        [Parameter]
        public SwitchParameter NoDelay { get; set; }

        /// <summary>Sends keep-alive probes (SO_KEEPALIVE).</summary>
        [Parameter]
        public SwitchParameter KeepAlive { get; set; }

        /// <summary>Allows binding to a port still in TIME_WAIT (SO_REUSEADDR).</summary>
        [Parameter]
        public SwitchParameter ReuseAddress { get; set; }

        /// <summary>Allows broadcast (SO_BROADCAST).</summary>
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

        /// <summary>The IP time-to-live (IPv6 hop limit).</summary>
        [Parameter]
        [ValidateRange(1, 255)]
        public int Ttl { get; set; }

        protected override void ProcessRecord()
        {
            SocketOptions options = OptionsFromParameters();
            SocketFamily? family = IsBound(nameof(AddressFamily)) ? AddressFamily : (SocketFamily?)null;
            NetSocket socket = null;
            if (Try(() => socket = Own(NetSocket.Create(Protocol, family, options, Name)), null, "create a socket"))
            {
                if (VerboseEnabled)
                {
                    WriteVerbose($"Created socket {socket.Id} ({socket.Protocol}, {(socket.DualMode ? "IPv4 and IPv6" : socket.AddressFamily.ToString())}).");
                }

                WriteObject(socket);
            }
        }
    }
}

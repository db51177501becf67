using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>connect(): connects a socket (or a new TCP socket) to a host and port.</summary>
    [Cmdlet(VerbsCommunications.Connect, "Socket", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(NetSocket))]
    public sealed class ConnectSocketCommand : SocketCommandBase
    {
        /// <summary>The socket to connect; without it a new TCP socket is created.</summary>
        [Parameter(ValueFromPipeline = true, ParameterSetName = SocketSet)]
        public NetSocket Socket { get; set; }

        /// <summary>The id of the socket to connect.</summary>
        [Parameter(Mandatory = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int Id { get; set; }

        /// <summary>The host name or IP address to connect to. Every address of a name is tried in turn.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("HostName", "RemoteAddress", "Address")]
        [ValidateNotNullOrEmpty]
        public string ComputerName { get; set; }

        /// <summary>The port to connect to (1-65535).</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("RemotePort")]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        /// <summary>Seconds the whole connect (name resolution included) may take; 0 (the default) means no limit of ours.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int TimeoutSec { get; set; }

        /// <summary>A label for a socket this call creates.</summary>
        [Parameter(ParameterSetName = SocketSet)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>Disables Nagle's algorithm on a socket this call creates (TCP_NODELAY).</summary>
        [Parameter(ParameterSetName = SocketSet)]
        public SwitchParameter NoDelay { get; set; }

        protected override void ProcessRecord()
        {
            NetSocket socket = ResolveSocket(Socket, Id);
            if (socket == null && ParameterSetName == IdSet)
            {
                return;
            }

            bool created = socket == null;
            string where = Where(ComputerName, Port);
            bool ok = false;
            try
            {
                ok = Try(() =>
                {
                    if (created)
                    {
                        var options = new SocketOptions();
                        if (NoDelay.IsPresent)
                        {
                            options.NoDelay = true;
                        }

                        socket = NetSocket.Create(SocketProtocol.Tcp, null, options, Name);
                    }

                    socket.Connect(ComputerName, Port, ToTimeout(TimeoutSec), StopToken, Trace);
                }, (object)socket ?? where, $"connect to {where}", SocketOperation.Connect);
            }
            finally
            {
                if (!ok && created)
                {
                    // A socket the user never saw must not stay open, whether the connect failed or was stopped.
                    socket?.Close();
                }
            }

            if (!ok)
            {
                return;
            }

            if (VerboseEnabled)
            {
                WriteVerbose($"Socket {socket.Id} connected: {NetSocket.Format(socket.LocalEndPoint)} -> {NetSocket.Format(socket.RemoteEndPoint)}.");
            }

            WriteObject(socket);
        }
    }
}

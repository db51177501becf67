using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>listen(): makes a bound socket a listener, or creates, binds and listens in one call.</summary>
    [Cmdlet(VerbsLifecycle.Start, "SocketListen", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(NetSocket))]
    public sealed class StartSocketListenCommand : SocketCommandBase
    {
        private const string PortSet = "Port";
        private const string PathSet = "Path";

        /// <summary>The bound socket that is to listen.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = SocketSet)]
        [ValidateNotNull]
        public NetSocket Socket { get; set; }

        /// <summary>The id of the bound socket that is to listen.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int Id { get; set; }

        /// <summary>Shortcut: create a socket, bind it to this port (0: a free one) and listen.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = PortSet)]
        [ValidateRange(0, 65535)]
        public int Port { get; set; }

        /// <summary>Shortcut: create a Unix domain socket, bind it to this path and listen.</summary>
        [Parameter(Mandatory = true, ParameterSetName = PathSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        /// <summary>Shortcut: the local address (IP, host name, Any or Loopback); every interface by default.</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = PortSet)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(AddressCompleter))]
        public string Address { get; set; } = "Any";

        /// <summary>Shortcut: seconds resolving a host name given to -Address may take; 0 (the default) means no limit of ours. Ctrl+C ends the lookup at any time.</summary>
        [Parameter(ParameterSetName = PortSet)]
        [ValidateRange(0.0, double.MaxValue)]
        public double TimeoutSec { get; set; }

        /// <summary>
        /// With -Port or -Path: a label for the new socket. Alone: the name of the bound socket to listen on (wildcards
        /// allowed, as long as they match one socket). Either way, the listener is the socket of that name.
        /// </summary>
        [Parameter(ParameterSetName = PortSet)]
        [Parameter(ParameterSetName = PathSet)]
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SocketNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>Shortcut: IPv4 or IPv6 only.</summary>
        [Parameter(ParameterSetName = PortSet)]
        public SocketFamily AddressFamily { get; set; }

        /// <summary>Shortcut: allow a port still in TIME_WAIT to be reused (SO_REUSEADDR).</summary>
        [Parameter(ParameterSetName = PortSet)]
        public SwitchParameter ReuseAddress { get; set; }

        /// <summary>The length of the queue of pending connections; the system maximum by default.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Backlog { get; set; }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == PortSet || ParameterSetName == PathSet)
            {
                ListenNew();
                return;
            }

            NetSocket socket = ResolveSocket(Socket, Id);
            if (socket != null && Try(() => socket.Listen(Backlog), socket, $"listen on socket {socket.Id}"))
            {
                Listening(socket);
            }
        }

        private void ListenNew()
        {
            SocketOptions options = OptionsFromParameters();
            string path = Path == null ? null : GetUnresolvedProviderPathFromPSPath(Path);

            NetSocket socket = null;
            SocketFamily? family = path != null ? SocketFamily.Unix : IsBound(nameof(AddressFamily)) ? AddressFamily : (SocketFamily?)null;
            bool ok = false;
            try
            {
                ok = Try(() =>
                {
                    socket = Own(NetSocket.Create(SocketProtocol.Tcp, family, options, Name));
                    if (path != null)
                    {
                        socket.BindPath(path, Trace);
                    }
                    else
                    {
                        socket.Bind(AddressResolver.ForBinding(Address, socket, ToTimeout(TimeoutSec), StopToken, Trace), Port);
                    }

                    socket.Listen(Backlog);
                }, path ?? Where(Address, Port), $"listen on {(path != null ? $"'{path}'" : Where(Address, Port))}");
            }
            finally
            {
                if (!ok)
                {
                    // Nothing half-made stays open, even when the error stops the pipeline (-ErrorAction Stop).
                    socket?.Close();
                }
            }

            if (!ok)
            {
                return;
            }

            Listening(socket);
        }

        private void Listening(NetSocket socket)
        {
            if (VerboseEnabled)
            {
                WriteVerbose($"Socket {socket.Id} listening on {socket.Path ?? NetSocket.Format(socket.LocalEndPoint)}.");
            }

            WriteObject(socket);
        }
    }
}

using System.Management.Automation;
using System.Net;

namespace SocketCmdlets.Commands
{
    /// <summary>bind(): binds a socket to a local address and port.</summary>
    [Cmdlet(VerbsLifecycle.Register, "SocketBinding", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(NetSocket))]
    public sealed class RegisterSocketBindingCommand : SocketCommandBase
    {
        /// <summary>The socket to bind.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = SocketSet)]
        [ValidateNotNull]
        public NetSocket Socket { get; set; }

        /// <summary>The id of the socket to bind.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int Id { get; set; }

        /// <summary>The local port; 0 (the default) picks a free one.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateRange(0, 65535)]
        public int Port { get; set; }

        /// <summary>The local address: an IP address, a host name, Any (every interface, the default) or Loopback.</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(AddressCompleter))]
        public string Address { get; set; } = "Any";

        protected override void ProcessRecord()
        {
            NetSocket socket = ResolveSocket(Socket, Id);
            if (socket == null)
            {
                return;
            }

            string where = Where(Address, Port);
            bool ok = Try(() =>
            {
                IPAddress address = AddressResolver.ForBinding(Address, socket);
                socket.Bind(address, Port);
            }, socket, $"bind socket {socket.Id} to {where}", SocketOperation.Connect);
            if (ok)
            {
                if (VerboseEnabled)
                {
                    WriteVerbose($"Socket {socket.Id} bound to {NetSocket.Format(socket.LocalEndPoint)}.");
                }

                WriteObject(socket);
            }
        }
    }
}

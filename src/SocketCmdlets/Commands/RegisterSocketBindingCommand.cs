using System.Management.Automation;
using System.Net;

namespace SocketCmdlets.Commands
{
    /// <summary>bind(): binds a socket to a local address and port, or a Unix domain socket to a path.</summary>
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

        /// <summary>The name of the socket to bind; wildcards allowed, as long as they match one socket.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SocketNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>The local port; 0 (the default) picks a free one.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateRange(0, 65535)]
        public int Port { get; set; }

        /// <summary>The local address: an IP address, a host name, Any (every interface, the default) or Loopback.</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(AddressCompleter))]
        public string Address { get; set; } = "Any";

        /// <summary>The file path of a Unix domain socket (New-Socket -AddressFamily Unix). A stale socket file left by a server that is gone is replaced.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        /// <summary>Seconds resolving a host name given to -Address may take; 0 (the default) means no limit of ours. Ctrl+C ends the lookup at any time.</summary>
        [Parameter]
        [ValidateRange(0.0, double.MaxValue)]
        public double TimeoutSec { get; set; }

        protected override void BeginProcessing()
        {
            if (Path != null && (IsBound(nameof(Port)) || IsBound(nameof(Address)) || IsBound(nameof(TimeoutSec))))
            {
                ThrowParameterError("ConflictingParameters", "-Path binds a Unix domain socket to a file; -Port, -Address and -TimeoutSec are for IP sockets. Use one or the other.");
            }
        }

        protected override void ProcessRecord()
        {
            NetSocket socket = ResolveSocket(Socket, Id);
            if (socket == null)
            {
                return;
            }

            bool ok;
            if (Path != null)
            {
                string path = GetUnresolvedProviderPathFromPSPath(Path);
                ok = Try(() => socket.BindPath(path, Trace), socket, $"bind socket {socket.Id} to '{path}'");
            }
            else
            {
                ok = Try(() =>
                {
                    IPAddress address = AddressResolver.ForBinding(Address, socket, ToTimeout(TimeoutSec), StopToken, Trace);
                    socket.Bind(address, Port);
                }, socket, $"bind socket {socket.Id} to {Where(Address, Port)}");
            }

            if (ok)
            {
                if (VerboseEnabled)
                {
                    WriteVerbose($"Socket {socket.Id} bound to {socket.Path ?? NetSocket.Format(socket.LocalEndPoint)}.");
                }

                WriteObject(socket);
            }
        }
    }
}

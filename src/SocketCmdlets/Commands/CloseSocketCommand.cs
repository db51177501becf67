using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>close()/shutdown(): closes sockets, or shuts down sending only.</summary>
    [Cmdlet(VerbsCommon.Close, "Socket", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(NetSocket))]
    [Alias("cssk")]
    public sealed class CloseSocketCommand : SocketCommandBase
    {
        /// <summary>The sockets to close.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = SocketSet)]
        [AllowNull]
        [AllowEmptyCollection]
        public NetSocket[] Socket { get; set; }

        /// <summary>The ids of the sockets to close.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int[] Id { get; set; }

        /// <summary>The names of the sockets to close; wildcards allowed (a name without wildcards that matches no open socket is an error).</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SocketNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; }

        /// <summary>Both (the default) closes the socket; Send shuts down sending only, so the peer sees end of stream while this side can still receive.</summary>
        [Parameter]
        public CloseDirection Direction { get; set; } = CloseDirection.Both;

        /// <summary>Writes the socket to the pipeline after closing.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            foreach (NetSocket socket in ResolveSockets(Socket, ById ? Id : null))
            {
                SocketState before = socket.State;
                string attempt = Direction == CloseDirection.Send ? $"shut down sending on socket {socket.Id}" : $"close socket {socket.Id}";
                if (!Try(() => socket.Close(Direction), socket, attempt))
                {
                    continue;
                }

                if (VerboseEnabled && before != socket.State)
                {
                    WriteVerbose(Direction == CloseDirection.Send
                        ? $"Socket {socket.Id} shut down sending to {NetSocket.Format(socket.RemoteEndPoint)} (half-close); it can still receive."
                        : $"Closed socket {socket.Id} ({before}{(socket.RemoteEndPoint != null ? ", peer " + NetSocket.Format(socket.RemoteEndPoint) : string.Empty)}; sent {socket.BytesSent} and received {socket.BytesReceived} bytes).");
                }

                if (PassThru.IsPresent)
                {
                    WriteObject(socket);
                }
            }
        }
    }
}

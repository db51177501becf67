using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>getsockopt(): reads the options of sockets.</summary>
    [Cmdlet(VerbsCommon.Get, "SocketOption", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(SocketOptions))]
    public sealed class GetSocketOptionCommand : SocketCommandBase
    {
        /// <summary>The sockets whose options to read.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = SocketSet)]
        [ValidateNotNull]
        public NetSocket[] Socket { get; set; }

        /// <summary>The ids of the sockets whose options to read.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int[] Id { get; set; }

        /// <summary>The names of the sockets to read the options of; wildcards allowed (a name without wildcards that matches no open socket is an error).</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SocketNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; }

        protected override void ProcessRecord()
        {
            foreach (NetSocket socket in ResolveSockets(Socket, ById ? Id : null))
            {
                SocketOptions options = null;
                if (Try(() => options = socket.GetOptions(), socket, $"read the options of socket {socket.Id}"))
                {
                    WriteObject(options);
                }
            }
        }
    }
}

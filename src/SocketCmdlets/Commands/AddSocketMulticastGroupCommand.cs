using System.Management.Automation;
using System.Net;

namespace SocketCmdlets.Commands
{
    /// <summary>Joins a UDP socket to a multicast group (IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP).</summary>
    [Cmdlet(VerbsCommon.Add, "SocketMulticastGroup", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(NetSocket))]
    public sealed class AddSocketMulticastGroupCommand : MulticastCommandBase
    {
        protected override bool Leave => false;
    }

    /// <summary>Makes a UDP socket leave a multicast group (IP_DROP_MEMBERSHIP / IPV6_LEAVE_GROUP).</summary>
    [Cmdlet(VerbsCommon.Remove, "SocketMulticastGroup", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(NetSocket))]
    public sealed class RemoveSocketMulticastGroupCommand : MulticastCommandBase
    {
        protected override bool Leave => true;
    }

    /// <summary>What joining and leaving a multicast group share.</summary>
    public abstract class MulticastCommandBase : SocketCommandBase
    {
        /// <summary>The UDP socket.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = SocketSet)]
        [ValidateNotNull]
        public NetSocket Socket { get; set; }

        /// <summary>The id of the UDP socket.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int Id { get; set; }

        /// <summary>The name of the socket to use; wildcards allowed, as long as they match one socket.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SocketNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>The multicast group address (IPv4 224.0.0.0/4, IPv6 ff00::/8).</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNull]
        public IPAddress Group { get; set; }

        /// <summary>IPv4: the address of the local interface to use (127.0.0.1 for this host only); the system's choice by default.</summary>
        [Parameter]
        public IPAddress LocalAddress { get; set; }

        /// <summary>IPv6: the index of the local interface to use; the system's choice (0) by default.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int InterfaceIndex { get; set; }

        /// <summary>Writes the socket to the pipeline afterwards.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>True to leave the group, false to join it.</summary>
        protected abstract bool Leave { get; }

        protected override void ProcessRecord()
        {
            NetSocket socket = ResolveSocket(Socket, Id);
            if (socket == null)
            {
                return;
            }

            string verb = Leave ? "leave" : "join";
            if (!Try(() => socket.ChangeMulticastMembership(Group, LocalAddress, InterfaceIndex, Leave), socket,
                $"{verb} the multicast group {Group} on socket {socket.Id}"))
            {
                return;
            }

            if (VerboseEnabled)
            {
                WriteVerbose($"Socket {socket.Id} {(Leave ? "left" : "joined")} the multicast group {Group}{(LocalAddress != null ? $" on {LocalAddress}" : InterfaceIndex > 0 ? $" on interface {InterfaceIndex}" : string.Empty)}.");
            }

            if (PassThru.IsPresent)
            {
                WriteObject(socket);
            }
        }
    }
}

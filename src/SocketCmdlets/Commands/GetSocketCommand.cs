using System.Linq;
using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>Lists the open sockets of this process.</summary>
    [Cmdlet(VerbsCommon.Get, "Socket")]
    [OutputType(typeof(NetSocket))]
    [Alias("gsk")]
    public sealed class GetSocketCommand : SocketCommandBase
    {
        /// <summary>Only sockets with these ids.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int[] Id { get; set; }

        /// <summary>Only sockets whose name matches one of these (wildcards allowed).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SocketNameCompleter))]
        public string[] Name { get; set; }

        /// <summary>Only sockets in one of these states.</summary>
        [Parameter]
        public SocketState[] State { get; set; }

        protected override void ProcessRecord()
        {
            WildcardPattern[] patterns = Name?.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray();
            foreach (WildcardPattern pattern in patterns ?? new WildcardPattern[0])
            {
                try
                {
                    // A pattern is parsed when first used: use it once now, so a bad one is an error whatever is open.
                    pattern.IsMatch(string.Empty);
                }
                catch (WildcardPatternException e)
                {
                    ThrowTerminatingError(ErrorFactory.Create(e, "InvalidWildcardPattern", ErrorCategory.InvalidArgument, Name,
                        $"-Name holds a wildcard pattern that cannot be used: {e.Message} Escape [ and ] with a backtick for literal brackets."));
                }
            }

            foreach (NetSocket socket in SocketRegistry.Snapshot())
            {
                if (Id != null && !Id.Contains(socket.Id))
                {
                    continue;
                }

                if (patterns != null && !patterns.Any(p => p.IsMatch(socket.Name ?? string.Empty)))
                {
                    continue;
                }

                if (State != null && !State.Contains(socket.State))
                {
                    continue;
                }

                WriteObject(socket);
            }
        }
    }
}

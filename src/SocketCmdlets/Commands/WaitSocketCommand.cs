using System.Collections.Generic;
using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>select()/poll(): waits until sockets are readable or writable and writes those that are.</summary>
    [Cmdlet(VerbsLifecycle.Wait, "Socket", DefaultParameterSetName = SocketSet)]
    [OutputType(typeof(NetSocket))]
    [Alias("wsk")]
    public sealed class WaitSocketCommand : SocketCommandBase
    {
        private readonly List<NetSocket> _sockets = new List<NetSocket>();

        /// <summary>The sockets to watch; piped sockets are gathered and watched together.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = SocketSet)]
        [AllowEmptyCollection]
        public NetSocket[] Socket { get; set; }

        /// <summary>The ids of the sockets to watch.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
        [ArgumentCompleter(typeof(SocketIdCompleter))]
        public int[] Id { get; set; }

        /// <summary>The names of the sockets to wait for; wildcards allowed (a name without wildcards that matches no open socket is an error).</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SocketNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; }

        /// <summary>Ready to read: data (or data already buffered), end of stream, or a pending connection on a listener. The default.</summary>
        [Parameter]
        public SwitchParameter Read { get; set; }

        /// <summary>Ready to write: room in the send buffer.</summary>
        [Parameter]
        public SwitchParameter Write { get; set; }

        /// <summary>Seconds to wait for a socket to become ready; 0 or none waits without limit. On timeout nothing is written.</summary>
        [Parameter]
        [ValidateRange(0.0, (double)int.MaxValue)]
        public double TimeoutSec { get; set; }

        /// <summary>Checks once without waiting.</summary>
        [Parameter]
        public SwitchParameter Poll { get; set; }

        protected override void BeginProcessing()
        {
            if (Poll.IsPresent && IsBound(nameof(TimeoutSec)))
            {
                ThrowParameterError("ConflictingParameters", "Use -Poll (do not wait) or -TimeoutSec, not both.");
            }
        }

        protected override void ProcessRecord() => _sockets.AddRange(ResolveSockets(Socket, ById ? Id : null));

        protected override void EndProcessing()
        {
            if (_sockets.Count == 0)
            {
                return;
            }

            if (VerboseEnabled)
            {
                WriteVerbose($"Waiting until {(Write.IsPresent && !Read.IsPresent ? "writable" : Write.IsPresent ? "readable or writable" : "readable")}: sockets {string.Join(", ", _sockets.ConvertAll(s => s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)))}{(TimeoutSec > 0 ? $" (timeout {Seconds(TimeoutSec)})" : string.Empty)}.");
            }

            System.TimeSpan timeout = Poll.IsPresent ? System.TimeSpan.Zero : ToTimeout(TimeoutSec);
            var closed = new List<NetSocket>();
            IList<NetSocket> ready = null;
            Try(() => ready = SocketWaiter.Wait(_sockets, Read.IsPresent || !Write.IsPresent, Write.IsPresent, timeout, StopToken, closed.Add),
                null, "wait for sockets");
            foreach (NetSocket socket in closed)
            {
                string why = socket.State == SocketState.Closed ? "it cannot become ready" : "it is neither connected nor listening, so it cannot become ready; connect it or listen first";
                WriteError(ErrorFactory.Create(new InvalidSocketStateException(socket, "wait", why + "."),
                    "InvalidSocketState", ErrorCategory.InvalidOperation, socket, $"Socket {socket.Id} is {socket.State}: {why}. It is left out of the wait."));
            }

            if (ready != null)
            {
                WriteObject(ready, enumerateCollection: true);
            }
        }
    }
}

using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Tests
{
    /// <summary>
    /// Ctrl+C during a name lookup that never answers: the engine's lookup is replaced (InternalsVisibleTo) for names
    /// under .stop.test by one that never completes, as a DNS server that drops every query; every cmdlet that
    /// resolves names must stop promptly, with no error. The tests of this class run one after another, so the
    /// process-wide hook is theirs while they run; other names still go to the system resolver.
    /// </summary>
    public sealed class ResolveStopTests : IClassFixture<RunspaceFixture>, IDisposable
    {
        private readonly RunspaceFixture _ps;
        private readonly Func<string, Task<IPAddress[]>> _previous;
        private int _lookups;

        public ResolveStopTests(RunspaceFixture ps)
        {
            _ps = ps;
            _previous = Resolver.Lookup;
            Func<string, Task<IPAddress[]>> system = _previous;
            Resolver.Lookup = name =>
            {
                if (name.EndsWith(".stop.test", StringComparison.OrdinalIgnoreCase))
                {
                    Interlocked.Increment(ref _lookups);
                    return new TaskCompletionSource<IPAddress[]>().Task;
                }

                return system(name);
            };
        }

        public void Dispose() => Resolver.Lookup = _previous;

        private void StopDuringLookup(string script)
        {
            int before = Volatile.Read(ref _lookups);
            StopCheck.StopWhileBlocked(_ps, script, _ => Volatile.Read(ref _lookups) > before);
        }

        [Fact]
        public void Ctrl_C_ends_Register_SocketBinding_during_a_lookup_and_the_socket_stays_Created()
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            _ps.Runspace.SessionStateProxy.SetVariable("s", socket);
            StopDuringLookup("$s | Register-SocketBinding -Address bind.stop.test -Port 0");
            Assert.Equal(SocketState.Created, socket.State);
        }

        [Fact]
        public void Ctrl_C_ends_Start_SocketListen_during_a_lookup_and_leaves_no_socket()
        {
            int before = SocketRegistry.Snapshot().Count(s => s.Name == "listen-stopped");
            StopDuringLookup("Start-SocketListen -Port 0 -Address listen.stop.test -Name listen-stopped");
            Assert.Equal(before, SocketRegistry.Snapshot().Count(s => s.Name == "listen-stopped"));
        }

        [Fact]
        public void Ctrl_C_ends_Connect_Socket_during_a_lookup_and_leaves_no_socket()
        {
            StopDuringLookup("Connect-Socket -ComputerName connect.stop.test -Port 9 -Name connect-stopped");
            Assert.DoesNotContain(SocketRegistry.Snapshot(), s => s.Name == "connect-stopped");
        }

        [Fact]
        public void Ctrl_C_ends_a_UDP_Send_SocketData_during_a_lookup()
        {
            NetSocket socket = _ps.Own(NetSocket.Create(SocketProtocol.Udp));
            _ps.Runspace.SessionStateProxy.SetVariable("u", socket);
            StopDuringLookup("'ping' | Send-SocketData -Socket $u -ComputerName send.stop.test -Port 9");
            Assert.Equal(0, socket.BytesSent);
        }

        [Fact]
        public void A_lookup_slower_than_TimeoutSec_is_the_error_ResolveTimeout()
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            RunResult bind = _ps.Run("$s | Register-SocketBinding -Address slow.stop.test -TimeoutSec 0.3", ("s", socket));
            ErrorRecord error = bind.SingleError("ResolveTimeout,SocketCmdlets.Commands.RegisterSocketBindingCommand");
            Assert.Equal(ErrorCategory.OperationTimeout, error.CategoryInfo.Category);
            Assert.Contains("slow.stop.test", error.ToString());

            RunResult listen = _ps.Run("Start-SocketListen -Port 0 -Address slow.stop.test -TimeoutSec 0.3");
            listen.SingleError("ResolveTimeout,SocketCmdlets.Commands.StartSocketListenCommand");
        }
    }
}

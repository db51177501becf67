using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Xunit;

namespace SocketCmdlets.Tests
{
    public sealed class ScenarioTests : IClassFixture<RunspaceFixture>
    {
        /// <summary>The quick start of SPEC.md, verbatim.</summary>
        private const string QuickStart = @"$server = New-Socket | Register-SocketBinding -Port 0 | Start-SocketListen
$port   = $server.LocalEndPoint.Port
$client = New-Socket | Connect-Socket -ComputerName localhost -Port $port
$peer   = $server | Receive-SocketConnection
'hello' | Send-SocketData -Socket $client
$peer | Receive-SocketData            # -> hello
$client, $peer, $server | Close-Socket
";

        private readonly RunspaceFixture _ps;

        public ScenarioTests(RunspaceFixture ps) => _ps = ps;

        [Fact]
        public void The_SPEC_quick_start_runs_as_written_and_says_hello()
        {
            _ps.Run("$Error.Clear()").NoErrors();
            RunResult result = _ps.Run(QuickStart).NoErrors();
            Assert.Equal("hello", result.Single<string>());

            RunResult after = _ps.Run("$server, $client, $peer").NoErrors();
            NetSocket[] sockets = after.Objects.Cast<NetSocket>().ToArray();
            Assert.Equal(3, sockets.Length);
            Assert.All(sockets, s => Assert.Equal(SocketState.Closed, s.State));
            Assert.All(sockets, s => Assert.Null(SocketRegistry.Find(s.Id)));

            NetSocket server = sockets[0], client = sockets[1], peer = sockets[2];
            Assert.Equal(server.LocalEndPoint.Port, client.RemoteEndPoint.Port);
            Assert.Equal(System.Net.IPAddress.Loopback, peer.RemoteEndPoint.Address);
            Assert.Equal(client.LocalEndPoint, peer.RemoteEndPoint);
            Assert.Equal(5, client.BytesSent);
            Assert.Equal(5, peer.BytesReceived);
            Assert.Empty((ArrayList)_ps.Runspace.SessionStateProxy.GetVariable("Error"));
        }

        [Fact]
        public void A_line_protocol_conversation_with_the_cmdlets()
        {
            RunResult result = _ps.Run(@"
$server = Start-SocketListen -Port 0 -Address Loopback
$client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.LocalEndPoint.Port
$peer = Receive-SocketConnection -Socket $server -TimeoutSec 10
'HELO a', 'QUIT' | Send-SocketData -Socket $client -AppendNewLine -NewLine ""`r`n""
$lines = $peer | Receive-SocketData -Line -Count 2 -TimeoutSec 10
$peer | Send-SocketData -Data ('250 ' + $lines[0]) -AppendNewLine
$peer | Close-Socket -Direction Send
$client | Receive-SocketData -Line -ToEnd -TimeoutSec 10
$lines[1]
Get-Socket -Id $server.Id, $client.Id, $peer.Id | Close-Socket -PassThru | ForEach-Object State
").NoErrors();
            Assert.Equal(new object[] { "250 HELO a", "QUIT", SocketState.Closed, SocketState.Closed, SocketState.Closed }, result.Objects);
        }

        [Fact]
        public void A_socket_made_in_one_runspace_is_used_in_another()
        {
            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            NetSocket client = _ps.Own(_ps.Run($"Connect-Socket -ComputerName 127.0.0.1 -Port {listener.LocalEndPoint.Port}").NoErrors().Single<NetSocket>());
            NetSocket peer = _ps.Own(listener.Accept(TestNet.Timeout, TestNet.Token));

            using (var other = new RunspaceFixture())
            {
                other.Run("$c | Send-SocketData -Data 'from the other runspace'", ("c", client)).NoErrors();
                Assert.Contains(client, other.Run("Get-Socket").NoErrors().Objects);
            }

            Assert.Equal("from the other runspace", _ps.Run("$p | Receive-SocketData -TimeoutSec 10", ("p", peer)).NoErrors().Single<string>());
        }
    }

    [Collection(GlobalStateCollection.Name)]
    public sealed class GlobalStateTests : IClassFixture<RunspaceFixture>
    {
        private readonly RunspaceFixture _ps;

        public GlobalStateTests(RunspaceFixture ps) => _ps = ps;

        [Theory]
        [InlineData("Connect-Socket -ComputerName localhost -Port 70000")]
        [InlineData("Connect-Socket -ComputerName '' -Port 80")]
        [InlineData("Connect-Socket -ComputerName localhost -Port 80 -TimeoutSec -1")]
        [InlineData("Start-SocketListen -Port 70000")]
        [InlineData("Start-SocketListen -Port -1")]
        [InlineData("Start-SocketListen -Port 0 -Backlog -1")]
        [InlineData("Start-SocketListen -Port 0 -Address ''")]
        [InlineData("New-Socket -Ttl 0")]
        [InlineData("New-Socket -ReceiveBufferSize -5")]
        [InlineData("New-Socket -Name ''")]
        [InlineData("$l | Receive-SocketConnection -Count -1")]
        [InlineData("$c | Receive-SocketData -Count -1")]
        [InlineData("$c | Receive-SocketData -ByteCount -1")]
        [InlineData("$c | Receive-SocketData -OutFile '/no/such/folder/file'")]
        [InlineData("'x' | Send-SocketData -Socket $c -Path '/no/such/file'")]
        [InlineData("'x' | Send-SocketData")]
        public void Bad_arguments_are_rejected_before_any_socket_is_created(string script)
        {
            using (Pair pair = Pair.Open())
            {
                int before = SocketRegistry.Count;
                int listed = _ps.Run("@(Get-Socket).Count").NoErrors().Single<int>();
                NetSocket first = NetSocket.Create();
                first.Close();

                RunResult result = _ps.Run(script, ("l", pair.Listener), ("c", pair.Client));

                NetSocket next = NetSocket.Create();
                next.Close();
                Assert.Empty(result.Output);
                Assert.Single(result.Errors);
                Assert.Equal(first.Id + 1, next.Id);
                Assert.Equal(before, SocketRegistry.Count);
                Assert.Equal(listed, _ps.Run("@(Get-Socket).Count").NoErrors().Single<int>());
                Assert.Equal(0, pair.Client.BytesSent);
            }
        }

        [Fact]
        public void Get_Socket_piped_to_Close_Socket_cleans_up_everything()
        {
            using (Pair pair = Pair.Open())
            {
                _ps.Run("New-Socket -Name extra; Start-SocketListen -Port 0").NoErrors();
                Assert.True(SocketRegistry.Count >= 5);
                _ps.Run("Get-Socket | Close-Socket").NoErrors();
                Assert.Equal(0, SocketRegistry.Count);
                Assert.Empty(_ps.Run("Get-Socket").NoErrors().Output);
                Assert.Equal(SocketState.Closed, pair.Client.State);
            }
        }

        [Fact]
        public void ModuleCleanup_OnRemove_closes_the_sockets_of_its_own_session_only()
        {
            // This thread has no runspace: its sockets have no owner, like those the engine makes directly.
            Pair pair = Pair.Open();
            NetSocket other = _ps.Run("New-Socket | Register-SocketBinding -Address Loopback").NoErrors().Single<NetSocket>();

            new SocketCmdlets.Commands.ModuleCleanup().OnRemove(null);

            foreach (NetSocket socket in new[] { pair.Listener, pair.Client, pair.Server })
            {
                Assert.Equal(SocketState.Closed, socket.State);
            }

            // A socket opened in another session (runspace) stays open.
            Assert.Equal(SocketState.Bound, other.State);
            Assert.Contains(other, SocketRegistry.Snapshot());
            other.Close();
        }

        [Fact]
        public void Remove_Module_of_the_imported_module_closes_its_sockets()
        {
            string dll = typeof(SocketCmdlets.Commands.ModuleCleanup).Assembly.Location;
            using (Runspace runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2()))
            {
                runspace.Open();
                using (PowerShell ps = PowerShell.Create())
                {
                    ps.Runspace = runspace;
                    ps.AddScript("param($dll) Import-Module $dll; $l = Start-SocketListen -Port 0 -Address Loopback; " +
                        "$c = Connect-Socket -ComputerName 127.0.0.1 -Port $l.LocalEndPoint.Port; $l, $c; Remove-Module SocketCmdlets").AddArgument(dll);
                    IAsyncResult pending = ps.BeginInvoke();
                    Assert.True(pending.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(60)));
                    NetSocket[] sockets = ps.EndInvoke(pending).Select(o => (NetSocket)o.BaseObject).ToArray();
                    Assert.True(ps.Streams.Error.Count == 0, string.Join(" | ", ps.Streams.Error.ReadAll()));
                    Assert.Equal(2, sockets.Length);
                    Assert.All(sockets, s => Assert.Equal(SocketState.Closed, s.State));
                }
            }

            Assert.Equal(0, SocketRegistry.Count);
        }
    }
}

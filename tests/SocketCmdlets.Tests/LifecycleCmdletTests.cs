using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace SocketCmdlets.Tests
{
    public sealed class NewSocketTests : IClassFixture<RunspaceFixture>
    {
        private readonly RunspaceFixture _ps;

        public NewSocketTests(RunspaceFixture ps) => _ps = ps;

        [Fact]
        public void New_Socket_emits_a_Created_dual_mode_TCP_socket()
        {
            NetSocket socket = _ps.Own(_ps.Run("New-Socket").NoErrors().Single<NetSocket>());
            Assert.Equal(SocketState.Created, socket.State);
            Assert.Equal(SocketProtocol.Tcp, socket.Protocol);
            Assert.True(socket.DualMode);
            Assert.Same(socket, SocketRegistry.Find(socket.Id));
        }

        [Theory]
        [InlineData("InterNetwork", AddressFamily.InterNetwork)]
        [InlineData("InterNetworkV6", AddressFamily.InterNetworkV6)]
        public void New_Socket_AddressFamily_makes_a_single_family_socket(string family, AddressFamily expected)
        {
            NetSocket socket = _ps.Own(_ps.Run($"New-Socket -AddressFamily {family} -Protocol Tcp").NoErrors().Single<NetSocket>());
            Assert.False(socket.DualMode);
            Assert.Equal(expected, socket.Socket.AddressFamily);
        }

        [Fact]
        public void New_Socket_applies_the_option_parameters()
        {
            NetSocket socket = _ps.Own(_ps.Run("New-Socket -NoDelay -KeepAlive -ReuseAddress -ReceiveBufferSize 100000 -SendBufferSize 90000 -Ttl 17 -Name opts")
                .NoErrors().Single<NetSocket>());
            Assert.Equal("opts", socket.Name);
            Assert.True(socket.Socket.NoDelay);
            Assert.NotEqual(0, (int)socket.Socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive));
            Assert.NotEqual(0, (int)socket.Socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress));
            Assert.True(socket.Socket.ReceiveBufferSize >= 100000);
            Assert.True(socket.Socket.SendBufferSize >= 90000);
            Assert.Equal(17, socket.Socket.Ttl);
        }

        [Fact]
        public void New_Socket_takes_names_from_the_pipeline()
        {
            RunResult result = _ps.Run("'first', 'second' | New-Socket").NoErrors();
            List<NetSocket> sockets = result.Objects.Cast<NetSocket>().Select(_ps.Own).ToList();
            Assert.Equal(new[] { "first", "second" }, sockets.Select(s => s.Name));
            Assert.True(sockets[1].Id > sockets[0].Id);
        }

        [Theory]
        [InlineData("-Ttl 0")]
        [InlineData("-Ttl 256")]
        [InlineData("-ReceiveBufferSize 0")]
        [InlineData("-SendBufferSize -1")]
        [InlineData("-Name ''")]
        public void New_Socket_rejects_bad_option_values(string arguments)
        {
            RunResult result = _ps.Run("New-Socket " + arguments);
            Assert.Empty(result.Output);
            TestNet.AssertError(Assert.Single(result.Errors), "ParameterArgumentValidationError", "NewSocketCommand", ErrorCategory.InvalidData);
        }

        [Fact]
        public void New_Socket_Verbose_says_what_was_created()
        {
            RunResult result = _ps.Run("New-Socket -Verbose").NoErrors();
            NetSocket socket = _ps.Own(result.Single<NetSocket>());
            Assert.Contains(result.Verbose, v => v.Contains($"socket {socket.Id}") && v.Contains("IPv4 and IPv6"));
        }
    }

    public sealed class BindAndListenTests : IClassFixture<RunspaceFixture>
    {
        private readonly RunspaceFixture _ps;

        public BindAndListenTests(RunspaceFixture ps) => _ps = ps;

        [Fact]
        public void Register_SocketBinding_Port_0_emits_the_same_socket_Bound_with_its_port()
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            RunResult result = _ps.Run("$s | Register-SocketBinding -Port 0", ("s", socket)).NoErrors();
            Assert.Same(socket, result.Single<NetSocket>());
            Assert.Equal(SocketState.Bound, socket.State);
            Assert.NotEqual(0, socket.LocalEndPoint.Port);
            Assert.Equal(IPAddress.IPv6Any, socket.LocalEndPoint.Address);
        }

        [Theory]
        [InlineData("Loopback", "127.0.0.1")]
        [InlineData("127.0.0.1", "127.0.0.1")]
        [InlineData("'::1'", "::1")]
        [InlineData("localhost", "127.0.0.1")]
        [InlineData("Any", "::")]
        public void Register_SocketBinding_Address_takes_words_literals_and_names(string address, string expected)
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            _ps.Run($"Register-SocketBinding -Socket $s -Address {address}", ("s", socket)).NoErrors();
            Assert.Equal(IPAddress.Parse(expected), socket.LocalEndPoint.Address);
        }

        [Fact]
        public void Register_SocketBinding_by_Id()
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            RunResult result = _ps.Run($"Register-SocketBinding -Id {socket.Id} -Port 0 -Address Loopback").NoErrors();
            Assert.Same(socket, result.Single<NetSocket>());
            Assert.Equal(SocketState.Bound, socket.State);
        }

        [Fact]
        public void Register_SocketBinding_to_a_port_in_use_is_AddressInUse_on_the_socket()
        {
            NetSocket holder = _ps.Own(TestNet.ListenerV4());
            NetSocket socket = _ps.Own(NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork));
            RunResult result = _ps.Run($"$s | Register-SocketBinding -Address 127.0.0.1 -Port {holder.LocalEndPoint.Port}", ("s", socket));
            Assert.Empty(result.Output);
            ErrorRecord error = Assert.Single(result.Errors);
            TestNet.AssertError(error, "AddressInUse", "RegisterSocketBindingCommand", ErrorCategory.ResourceUnavailable, socket);
            Assert.Contains(holder.LocalEndPoint.Port.ToString(), error.ErrorDetails.Message);
            Assert.Equal(SocketState.Created, socket.State);
        }

        [Fact]
        public void Register_SocketBinding_to_an_address_of_the_other_family_is_AddressFamilyMismatch()
        {
            NetSocket socket = _ps.Own(NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork));
            RunResult result = _ps.Run("$s | Register-SocketBinding -Address '::1'", ("s", socket));
            TestNet.AssertError(Assert.Single(result.Errors), "AddressFamilyMismatch", "RegisterSocketBindingCommand", ErrorCategory.InvalidArgument, socket);
            Assert.Equal(SocketState.Created, socket.State);
        }

        [Fact]
        public void Register_SocketBinding_twice_is_InvalidSocketState()
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            RunResult result = _ps.Run("$s | Register-SocketBinding | Register-SocketBinding", ("s", socket));
            Assert.Empty(result.Output);
            TestNet.AssertError(Assert.Single(result.Errors), "InvalidSocketState", "RegisterSocketBindingCommand", ErrorCategory.InvalidOperation, socket);
        }

        [Fact]
        public void Register_SocketBinding_to_an_unknown_host_is_HostNotFound()
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            RunResult result = _ps.Run("$s | Register-SocketBinding -Address no-such-host.invalid", ("s", socket));
            TestNet.AssertError(Assert.Single(result.Errors), "HostNotFound", "RegisterSocketBindingCommand", ErrorCategory.ObjectNotFound, socket);
        }

        [Fact]
        public void Start_SocketListen_makes_a_bound_socket_listen()
        {
            NetSocket socket = _ps.Own(NetSocket.Create().Bind(IPAddress.Loopback, 0));
            RunResult result = _ps.Run("$s | Start-SocketListen -Backlog 5 -Verbose", ("s", socket)).NoErrors();
            Assert.Same(socket, result.Single<NetSocket>());
            Assert.Equal(SocketState.Listening, socket.State);
            Assert.Contains(result.Verbose, v => v.Contains($"127.0.0.1:{socket.LocalEndPoint.Port}"));
        }

        [Fact]
        public void Start_SocketListen_by_Id()
        {
            NetSocket socket = _ps.Own(NetSocket.Create().Bind(IPAddress.Loopback, 0));
            Assert.Same(socket, _ps.Run($"Start-SocketListen -Id {socket.Id}").NoErrors().Single<NetSocket>());
            Assert.Equal(SocketState.Listening, socket.State);
        }

        [Fact]
        public void Start_SocketListen_Port_creates_binds_and_listens_in_one_call()
        {
            RunResult result = _ps.Run("Start-SocketListen -Port 0 -Address Loopback -Name shortcut -AddressFamily InterNetwork -ReuseAddress").NoErrors();
            NetSocket socket = _ps.Own(result.Single<NetSocket>());
            Assert.Equal(SocketState.Listening, socket.State);
            Assert.Equal("shortcut", socket.Name);
            Assert.Equal(IPAddress.Loopback, socket.LocalEndPoint.Address);
            Assert.NotEqual(0, socket.LocalEndPoint.Port);

            using (NetSocket client = NetSocket.Create())
            {
                client.Connect("127.0.0.1", socket.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                Assert.Equal(SocketState.Connected, client.State);
            }
        }

        [Fact]
        public void Start_SocketListen_Port_in_use_is_AddressInUse_and_leaves_nothing_open()
        {
            NetSocket holder = _ps.Own(TestNet.ListenerV4());
            string name = "inuse-" + Guid.NewGuid().ToString("N");
            RunResult result = _ps.Run($"Start-SocketListen -Port {holder.LocalEndPoint.Port} -Address 127.0.0.1 -Name {name}");
            Assert.Empty(result.Output);
            TestNet.AssertError(Assert.Single(result.Errors), "AddressInUse", "StartSocketListenCommand", ErrorCategory.ResourceUnavailable);
            Assert.DoesNotContain(SocketRegistry.Snapshot(), s => s.Name == name);
        }

        [Fact]
        public void Start_SocketListen_Port_errors_name_the_endpoint_as_target()
        {
            // STYLE.md: "Target: the socket, else the endpoint." The shortcut's socket is closed again, so the endpoint.
            NetSocket holder = _ps.Own(TestNet.ListenerV4());
            RunResult result = _ps.Run($"Start-SocketListen -Port {holder.LocalEndPoint.Port} -Address 127.0.0.1");
            ErrorRecord error = Assert.Single(result.Errors);
            Assert.NotNull(error.TargetObject);
            Assert.Contains(holder.LocalEndPoint.Port.ToString(), error.TargetObject.ToString());
        }

        [Fact]
        public void Start_SocketListen_before_bind_is_InvalidSocketState_and_says_so()
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            RunResult result = _ps.Run("$s | Start-SocketListen", ("s", socket));
            ErrorRecord error = Assert.Single(result.Errors);
            TestNet.AssertError(error, "InvalidSocketState", "StartSocketListenCommand", ErrorCategory.InvalidOperation, socket);
            Assert.Contains("bind", error.ErrorDetails.Message);
            Assert.Equal(SocketState.Created, socket.State);
        }

        [Theory]
        [InlineData("Register-SocketBinding -Socket $s -Port 70000", "RegisterSocketBindingCommand")]
        [InlineData("Register-SocketBinding -Socket $s -Port -1", "RegisterSocketBindingCommand")]
        [InlineData("Register-SocketBinding -Socket $s -Address ''", "RegisterSocketBindingCommand")]
        [InlineData("Start-SocketListen -Port 70000", "StartSocketListenCommand")]
        [InlineData("Start-SocketListen -Socket $s -Backlog 0", "StartSocketListenCommand")]
        public void Bad_arguments_are_rejected_by_validation(string script, string commandClass)
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            RunResult result = _ps.Run(script, ("s", socket));
            Assert.Empty(result.Output);
            TestNet.AssertError(Assert.Single(result.Errors), "ParameterArgumentValidationError", commandClass, ErrorCategory.InvalidData);
            Assert.Equal(SocketState.Created, socket.State);
        }

        [Fact]
        public void An_unknown_Id_is_SocketNotFound()
        {
            RunResult result = _ps.Run("Start-SocketListen -Id 2000000000; Register-SocketBinding -Id 2000000001");
            Assert.Empty(result.Output);
            Assert.Equal(2, result.Errors.Count);
            TestNet.AssertError(result.Errors[0], "SocketNotFound", "StartSocketListenCommand", ErrorCategory.ObjectNotFound, 2000000000);
            TestNet.AssertError(result.Errors[1], "SocketNotFound", "RegisterSocketBindingCommand", ErrorCategory.ObjectNotFound, 2000000001);
        }
    }

    public sealed class ReceiveSocketConnectionTests : IClassFixture<RunspaceFixture>
    {
        private readonly RunspaceFixture _ps;

        public ReceiveSocketConnectionTests(RunspaceFixture ps) => _ps = ps;

        private NetSocket Connect(NetSocket listener)
        {
            NetSocket client = _ps.Own(NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork));
            client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
            return client;
        }

        [Fact]
        public void Receive_SocketConnection_accepts_one_connection_by_default()
        {
            NetSocket listener = _ps.Own(NetSocket.Create().Bind(null, 0).Listen());
            NetSocket first = Connect(listener);
            NetSocket second = Connect(listener);
            RunResult result = _ps.Run("$l | Receive-SocketConnection -TimeoutSec 10 -Verbose", ("l", listener)).NoErrors();
            NetSocket peer = _ps.Own(result.Single<NetSocket>());
            Assert.Equal(SocketState.Connected, peer.State);
            Assert.Equal(listener.Id, peer.ListenerId);

            // IPv4 peers of a dual-mode listener show as IPv4.
            Assert.Equal(IPAddress.Loopback, peer.RemoteEndPoint.Address);
            Assert.Contains(peer.RemoteEndPoint, new[] { first.LocalEndPoint, second.LocalEndPoint });
            Assert.Contains(result.Verbose, v => v.Contains("Waiting for a connection") && v.Contains($":{listener.LocalEndPoint.Port}"));
            Assert.Contains(result.Verbose, v => v.Contains($"Accepted socket {peer.Id}") && v.Contains(NetSocket.Format(peer.RemoteEndPoint)));
            Assert.DoesNotContain(result.Verbose, v => v.Contains("::ffff:"));

            // The second one is still pending.
            _ps.Own(_ps.Run("Receive-SocketConnection -Socket $l -TimeoutSec 10", ("l", listener)).NoErrors().Single<NetSocket>());
        }

        [Fact]
        public void Receive_SocketConnection_Count_accepts_that_many_and_names_them()
        {
            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            for (int i = 0; i < 3; i++)
            {
                Connect(listener);
            }

            RunResult result = _ps.Run($"Receive-SocketConnection -Id {listener.Id} -Count 3 -Name accepted -TimeoutSec 10").NoErrors();
            List<NetSocket> peers = result.Objects.Cast<NetSocket>().Select(_ps.Own).ToList();
            Assert.Equal(3, peers.Count);
            Assert.All(peers, p => Assert.Equal("accepted", p.Name));
            Assert.Equal(3, peers.Select(p => p.Id).Distinct().Count());
        }

        [Fact]
        public void Receive_SocketConnection_TimeoutSec_is_AcceptTimeout_on_the_listener()
        {
            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            RunResult result = _ps.Run("$l | Receive-SocketConnection -TimeoutSec 1", ("l", listener));
            Assert.Empty(result.Output);
            ErrorRecord error = Assert.Single(result.Errors);
            TestNet.AssertError(error, "AcceptTimeout", "ReceiveSocketConnectionCommand", ErrorCategory.OperationTimeout, listener);
            Assert.Contains($"127.0.0.1:{listener.LocalEndPoint.Port}", error.ErrorDetails.Message);
            Assert.Equal(SocketState.Listening, listener.State);
        }

        [Fact]
        public void Receive_SocketConnection_on_a_socket_that_does_not_listen_is_InvalidSocketState()
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            RunResult result = _ps.Run("$s | Receive-SocketConnection -TimeoutSec 1", ("s", socket));
            ErrorRecord error = Assert.Single(result.Errors);
            TestNet.AssertError(error, "InvalidSocketState", "ReceiveSocketConnectionCommand", ErrorCategory.InvalidOperation, socket);
            Assert.Contains("listening", error.ErrorDetails.Message);
        }

        [Fact]
        public void Receive_SocketConnection_Count_and_Continuous_conflict()
        {
            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            RunResult result = _ps.Run("$l | Receive-SocketConnection -Count 2 -Continuous", ("l", listener));
            TestNet.AssertError(Assert.Single(result.Errors), "ConflictingParameters", "ReceiveSocketConnectionCommand", ErrorCategory.InvalidArgument);
        }

        [Theory]
        [InlineData("-Count 0")]
        [InlineData("-Count -1")]
        [InlineData("-TimeoutSec -1")]
        public void Receive_SocketConnection_rejects_bad_counts(string arguments)
        {
            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            RunResult result = _ps.Run("$l | Receive-SocketConnection " + arguments, ("l", listener));
            TestNet.AssertError(Assert.Single(result.Errors), "ParameterArgumentValidationError", "ReceiveSocketConnectionCommand", ErrorCategory.InvalidData);
        }

        [Fact]
        public void Receive_SocketConnection_Continuous_writes_each_connection_as_it_arrives()
        {
            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            PowerShell ps = PowerShell.Create();
            ps.Runspace = _ps.Runspace;
            ps.AddScript("param($l) $l | Receive-SocketConnection -Continuous").AddArgument(listener);
            var output = new PSDataCollection<PSObject>();
            IAsyncResult pending = ps.BeginInvoke<PSObject, PSObject>(null, output);
            bool stopped = false;
            try
            {
                Connect(listener);
                TestNet.WaitUntil(() => output.Count == 1, "the first connection is written");
                Assert.False(pending.IsCompleted);
                Connect(listener);
                TestNet.WaitUntil(() => output.Count == 2, "the second connection is written");
                Assert.False(pending.IsCompleted);
            }
            finally
            {
                // Disposed only once stopped: disposing a pipeline that will not stop waits forever.
                stopped = ps.BeginStop(null, null).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10));
                for (int i = 0; i < output.Count; i++)
                {
                    _ps.Own(output[i].BaseObject);
                }
            }

            Assert.True(stopped, "Stop did not end the loop.");
            using (ps)
            {
                Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
                Assert.True(ps.Streams.Error.Count == 0, "The stopped loop wrote errors.");
                Assert.Equal(2, output.Count);
                Assert.Equal(SocketState.Connected, ((NetSocket)output[0].BaseObject).State);
                Assert.Equal(SocketState.Connected, ((NetSocket)output[1].BaseObject).State);
            }
        }

        [Fact]
        public void Receive_SocketConnection_Continuous_ends_without_error_when_the_listener_closes()
        {
            // The -Continuous help: "Accept connections until Ctrl+C, the end of the pipeline or the listener closes."
            NetSocket listener = TestNet.ListenerV4();
            PowerShell ps = PowerShell.Create();
            ps.Runspace = _ps.Runspace;
            ps.AddScript("param($l) $l | Receive-SocketConnection -Continuous -Verbose").AddArgument(listener);
            IAsyncResult pending = ps.BeginInvoke();
            TestNet.WaitUntil(() => ps.Streams.Verbose.Count > 0, "the loop waits");
            listener.Close();
            bool ended = pending.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10));
            if (!ended && ps.BeginStop(null, null).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10)))
            {
                ps.Dispose();
            }

            Assert.True(ended, "The loop did not end when its listener closed.");
            using (ps)
            {
                string errors = string.Join(" | ", Enumerable.Range(0, ps.Streams.Error.Count).Select(i => ps.Streams.Error[i].FullyQualifiedErrorId));
                Assert.True(ps.Streams.Error.Count == 0, "Errors: " + errors);
            }
        }
    }

    public sealed class ConnectSocketTests : IClassFixture<RunspaceFixture>
    {
        private readonly RunspaceFixture _ps;

        public ConnectSocketTests(RunspaceFixture ps) => _ps = ps;

        [Fact]
        public void Connect_Socket_without_a_socket_creates_one_and_connects_it()
        {
            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            RunResult result = _ps.Run($"Connect-Socket -ComputerName 127.0.0.1 -Port {listener.LocalEndPoint.Port} -Name made -NoDelay -TimeoutSec 10").NoErrors();
            NetSocket socket = _ps.Own(result.Single<NetSocket>());
            Assert.Equal(SocketState.Connected, socket.State);
            Assert.Equal("made", socket.Name);
            Assert.True(socket.Socket.NoDelay);
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), socket.RemoteEndPoint);
        }

        [Fact]
        public void Connect_Socket_connects_a_piped_socket_and_emits_it()
        {
            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            NetSocket socket = _ps.Own(NetSocket.Create());
            RunResult result = _ps.Run($"$s | Connect-Socket localhost {listener.LocalEndPoint.Port}", ("s", socket)).NoErrors();
            Assert.Same(socket, result.Single<NetSocket>());
            Assert.Equal(SocketState.Connected, socket.State);
            Assert.Equal(IPAddress.Loopback, socket.RemoteEndPoint.Address);
            Assert.Equal("localhost", socket.RemoteHostName);
        }

        [Fact]
        public void Connect_Socket_by_Id_to_IPv6_loopback()
        {
            NetSocket listener = _ps.Own(NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetworkV6).Bind(IPAddress.IPv6Loopback, 0).Listen());
            NetSocket socket = _ps.Own(NetSocket.Create());
            RunResult result = _ps.Run($"Connect-Socket -Id {socket.Id} -ComputerName '::1' -Port {listener.LocalEndPoint.Port}").NoErrors();
            Assert.Same(socket, result.Single<NetSocket>());
            Assert.Equal(IPAddress.IPv6Loopback, socket.RemoteEndPoint.Address);
        }

        [Fact]
        public void Connect_Socket_Verbose_mentions_both_endpoints()
        {
            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            RunResult result = _ps.Run($"Connect-Socket -ComputerName localhost -Port {listener.LocalEndPoint.Port} -Verbose").NoErrors();
            NetSocket socket = _ps.Own(result.Single<NetSocket>());
            Assert.Contains(result.Verbose, v => v.Contains("Resolving 'localhost'"));
            Assert.Contains(result.Verbose, v => v.Contains($"{NetSocket.Format(socket.LocalEndPoint)} -> 127.0.0.1:{listener.LocalEndPoint.Port}"));
        }

        [Fact]
        public void A_refused_connect_of_a_piped_socket_is_ConnectionRefused_on_that_socket_which_stays_usable()
        {
            NetSocket socket = _ps.Own(NetSocket.Create());
            int port = TestNet.FreePort();
            RunResult result = _ps.Run($"$s | Connect-Socket -ComputerName 127.0.0.1 -Port {port}", ("s", socket));
            Assert.Empty(result.Output);
            ErrorRecord error = Assert.Single(result.Errors);
            TestNet.AssertError(error, "ConnectionRefused", "ConnectSocketCommand", ErrorCategory.ConnectionError, socket);
            Assert.Contains($"127.0.0.1:{port}", error.ErrorDetails.Message);
            Assert.Equal(SocketState.Created, socket.State);
            Assert.Same(socket, SocketRegistry.Find(socket.Id));

            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            _ps.Run($"$s | Connect-Socket -ComputerName 127.0.0.1 -Port {listener.LocalEndPoint.Port}", ("s", socket)).NoErrors();
            Assert.Equal(SocketState.Connected, socket.State);
        }

        [Fact]
        public void A_refused_connect_of_a_created_socket_is_ConnectionRefused_on_the_endpoint_and_closes_it()
        {
            string name = "refused-" + Guid.NewGuid().ToString("N");
            int port = TestNet.FreePort();
            RunResult result = _ps.Run($"Connect-Socket -ComputerName 127.0.0.1 -Port {port} -Name {name}");
            Assert.Empty(result.Output);
            TestNet.AssertError(Assert.Single(result.Errors), "ConnectionRefused", "ConnectSocketCommand", ErrorCategory.ConnectionError, $"127.0.0.1:{port}");
            Assert.DoesNotContain(SocketRegistry.Snapshot(), s => s.Name == name);
        }

        [Fact]
        public void A_host_under_invalid_is_HostNotFound()
        {
            string name = "nohost-" + Guid.NewGuid().ToString("N");
            RunResult result = _ps.Run($"Connect-Socket -ComputerName no-such-host.invalid -Port 80 -Name {name}");
            Assert.Empty(result.Output);
            ErrorRecord error = Assert.Single(result.Errors);
            TestNet.AssertError(error, "HostNotFound", "ConnectSocketCommand", ErrorCategory.ObjectNotFound, "no-such-host.invalid:80");
            Assert.DoesNotContain(SocketRegistry.Snapshot(), s => s.Name == name);
        }

        [Fact]
        public void A_connect_that_does_not_complete_is_ConnectTimeout()
        {
            using (var full = new FullListener())
            {
                NetSocket socket = _ps.Own(NetSocket.Create());
                RunResult result = _ps.Run($"$s | Connect-Socket -ComputerName 127.0.0.1 -Port {full.Port} -TimeoutSec 1", ("s", socket));
                Assert.Empty(result.Output);
                TestNet.AssertError(Assert.Single(result.Errors), "ConnectTimeout", "ConnectSocketCommand", ErrorCategory.OperationTimeout, socket);
                Assert.Equal(SocketState.Created, socket.State);
            }
        }

        [Fact]
        public void Connect_Socket_of_an_IPv4_socket_to_an_IPv6_address_is_AddressFamilyMismatch()
        {
            NetSocket socket = _ps.Own(NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork));
            RunResult result = _ps.Run("$s | Connect-Socket -ComputerName '::1' -Port 80", ("s", socket));
            ErrorRecord error = Assert.Single(result.Errors);
            TestNet.AssertError(error, "AddressFamilyMismatch", "ConnectSocketCommand", ErrorCategory.InvalidArgument, socket);
            Assert.Contains("[::1]:80", error.ErrorDetails.Message);
        }

        [Fact]
        public void Connect_Socket_on_a_connected_socket_is_InvalidSocketState()
        {
            using (Pair pair = Pair.Open())
            {
                RunResult result = _ps.Run($"$s | Connect-Socket -ComputerName 127.0.0.1 -Port {pair.Listener.LocalEndPoint.Port}", ("s", pair.Client));
                TestNet.AssertError(Assert.Single(result.Errors), "InvalidSocketState", "ConnectSocketCommand", ErrorCategory.InvalidOperation, pair.Client);
            }
        }

        [Theory]
        [InlineData("-ComputerName 127.0.0.1 -Port 70000")]
        [InlineData("-ComputerName 127.0.0.1 -Port 0")]
        [InlineData("-ComputerName '' -Port 80")]
        [InlineData("-ComputerName 127.0.0.1 -Port 80 -TimeoutSec -5")]
        public void Connect_Socket_rejects_bad_arguments(string arguments)
        {
            RunResult result = _ps.Run("Connect-Socket " + arguments);
            Assert.Empty(result.Output);
            TestNet.AssertError(Assert.Single(result.Errors), "ParameterArgumentValidationError", "ConnectSocketCommand", ErrorCategory.InvalidData);
        }
    }
}

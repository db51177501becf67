using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>Tests that replace the engine's name lookup (a process-wide hook) run here, one at a time.</summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class ResolverHookCollection
    {
        public const string Name = "Resolver hook";
    }

    /// <summary>Installs a lookup for names under a test's own suffix; every other name still goes to the system.</summary>
    internal sealed class ResolverHook : IDisposable
    {
        private readonly Func<string, Task<IPAddress[]>> _previous;

        public ResolverHook(Func<string, Task<IPAddress[]>> answer, string suffix = ".hook.test")
        {
            _previous = Resolver.Lookup;
            Func<string, Task<IPAddress[]>> system = _previous;
            Resolver.Lookup = name =>
            {
                if (name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                {
                    Interlocked.Increment(ref Calls);
                    return answer(name);
                }

                return system(name);
            };
        }

        public int Calls;

        /// <summary>A lookup that never answers, as a DNS server that drops every query.</summary>
        public static Task<IPAddress[]> Never(string name) => new TaskCompletionSource<IPAddress[]>().Task;

        public void Dispose() => Resolver.Lookup = _previous;
    }

    /// <summary>Name resolution honours the caller's deadline and cancellation everywhere.</summary>
    [Collection(ResolverHookCollection.Name)]
    public sealed class ResolverTests
    {
        [Fact]
        public void A_silent_lookup_for_a_bind_ends_at_the_timeout_with_a_Resolve_timeout()
        {
            using (var hook = new ResolverHook(ResolverHook.Never))
            using (NetSocket socket = NetSocket.Create())
            {
                Task<IPAddress> bind = Task.Run(() => AddressResolver.ForBinding("silent.hook.test", socket, TimeSpan.FromMilliseconds(300), TestNet.Token));
                var e = Assert.IsType<SocketTimeoutException>(TestNet.AwaitFailure(bind));
                Assert.Equal(SocketOperation.Resolve, e.Operation);
                Assert.Contains("silent.hook.test", e.WhatDidNotHappen);
                Assert.Equal(1, hook.Calls);
                Assert.Equal(SocketState.Created, socket.State);
            }
        }

        [Fact]
        public void A_silent_lookup_for_a_bind_ends_when_cancelled()
        {
            using (new ResolverHook(ResolverHook.Never))
            using (NetSocket socket = NetSocket.Create())
            using (var stop = new CancellationTokenSource())
            {
                Task<IPAddress> bind = Task.Run(() => AddressResolver.ForBinding("silent.hook.test", socket, Timeout.InfiniteTimeSpan, stop.Token));
                Thread.Sleep(100);
                Assert.False(bind.IsCompleted, "The lookup should still wait.");
                stop.Cancel();
                Assert.IsAssignableFrom<OperationCanceledException>(TestNet.AwaitFailure(bind));
            }
        }

        [Fact]
        public void A_silent_lookup_for_a_datagram_destination_ends_at_the_timeout_and_when_cancelled()
        {
            using (new ResolverHook(ResolverHook.Never))
            using (NetSocket socket = NetSocket.Create(SocketProtocol.Udp))
            using (var stop = new CancellationTokenSource())
            {
                Task<IPAddress> timed = Task.Run(() => AddressResolver.ForDestination("silent.hook.test", socket, TimeSpan.FromMilliseconds(200), TestNet.Token));
                Assert.Equal(SocketOperation.Resolve, Assert.IsType<SocketTimeoutException>(TestNet.AwaitFailure(timed)).Operation);

                Task<IPAddress> stopped = Task.Run(() => AddressResolver.ForDestination("silent.hook.test", socket, Timeout.InfiniteTimeSpan, stop.Token));
                Thread.Sleep(100);
                stop.Cancel();
                Assert.IsAssignableFrom<OperationCanceledException>(TestNet.AwaitFailure(stopped));
            }
        }

        [Fact]
        public void A_silent_lookup_for_a_connect_is_a_Connect_timeout_and_the_socket_can_connect_again()
        {
            using (new ResolverHook(ResolverHook.Never))
            using (NetSocket listener = TestNet.ListenerV4())
            using (NetSocket socket = NetSocket.Create())
            {
                Task connect = Task.Run(() => socket.Connect("silent.hook.test", listener.LocalEndPoint.Port, TimeSpan.FromMilliseconds(300), TestNet.Token));
                var e = Assert.IsType<SocketTimeoutException>(TestNet.AwaitFailure(connect));
                Assert.Equal(SocketOperation.Connect, e.Operation);
                Assert.Equal(SocketState.Created, socket.State);

                socket.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                Assert.Equal(SocketState.Connected, socket.State);
            }
        }

        [Fact]
        public void A_silent_lookup_for_a_connect_ends_when_cancelled()
        {
            using (new ResolverHook(ResolverHook.Never))
            using (NetSocket socket = NetSocket.Create())
            using (var stop = new CancellationTokenSource())
            {
                Task connect = Task.Run(() => socket.Connect("silent.hook.test", 80, Timeout.InfiniteTimeSpan, stop.Token));
                Thread.Sleep(100);
                Assert.False(connect.IsCompleted, "The lookup should still wait.");
                stop.Cancel();
                Assert.IsAssignableFrom<OperationCanceledException>(TestNet.AwaitFailure(connect));
                Assert.Equal(SocketState.Created, socket.State);
            }
        }

        [Fact]
        public void A_literal_address_needs_no_lookup()
        {
            using (var hook = new ResolverHook(ResolverHook.Never, suffix: string.Empty))
            using (NetSocket socket = NetSocket.Create())
            {
                Assert.Equal(IPAddress.Loopback, AddressResolver.ForBinding("127.0.0.1", socket, TimeSpan.FromMilliseconds(100), TestNet.Token));
                Assert.Equal(IPAddress.IPv6Loopback, AddressResolver.ForDestination("[::1]", socket, TimeSpan.FromMilliseconds(100), TestNet.Token));
                Assert.Equal(0, hook.Calls);
            }
        }

        [Fact]
        public void A_failed_lookup_is_a_SocketException_and_the_trace_names_the_lookup()
        {
            using (new ResolverHook(name => Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound))))
            using (NetSocket socket = NetSocket.Create())
            {
                var trace = new List<string>();
                var e = Assert.Throws<SocketException>(() => AddressResolver.ForBinding("missing.hook.test", socket, TestNet.Timeout, TestNet.Token, trace.Add));
                Assert.Equal(SocketError.HostNotFound, e.SocketErrorCode);
                Assert.Contains("Resolving 'missing.hook.test'.", trace);
            }
        }

        [Fact]
        public void A_lookup_that_answers_in_time_is_used()
        {
            using (new ResolverHook(async name =>
            {
                await Task.Delay(50).ConfigureAwait(false);
                return new[] { IPAddress.Loopback };
            }))
            using (NetSocket socket = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork))
            {
                Assert.Equal(IPAddress.Loopback, AddressResolver.ForBinding("slow.hook.test", socket, TestNet.Timeout, TestNet.Token));
            }
        }
    }
}

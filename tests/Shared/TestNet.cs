using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

// Compiled into both xunit projects (engine and cmdlets): the loopback helpers are written once.
namespace SocketCmdlets.TestSupport
{
    /// <summary>Loopback helpers on the engine. Every wait has a bound, so no test can hang.</summary>
    internal static partial class TestNet
    {
        /// <summary>The timeout handed to engine calls that are expected to succeed.</summary>
        public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

        /// <summary>How long a test waits for a background task or a condition before it fails.</summary>
        public static readonly TimeSpan TaskBound = TimeSpan.FromSeconds(20);

        /// <summary>A token that cancels itself after a while, as a last resort against hangs.</summary>
        public static CancellationToken Token => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

        /// <summary>An IPv4 listener on 127.0.0.1, port 0.</summary>
        public static NetSocket ListenerV4(int backlog = 0) =>
            NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork).Bind(IPAddress.Loopback, 0).Listen(backlog);

        /// <summary>An IPv6-only listener on ::1, port 0.</summary>
        public static NetSocket ListenerV6() =>
            NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetworkV6).Bind(IPAddress.IPv6Loopback, 0).Listen();

        /// <summary>A port nobody listens on: bound, then released.</summary>
        public static int FreePort()
        {
            using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                return ((IPEndPoint)probe.LocalEndPoint).Port;
            }
        }

        /// <summary>Waits (bounded) for a background task and returns its result.</summary>
        public static T Await<T>(Task<T> task)
        {
            Assert.True(task.Wait(TaskBound), "The background task did not finish in time.");
            return task.Result;
        }

        /// <summary>Waits (bounded) for a background task.</summary>
        public static void Await(Task task) =>
            Assert.True(task.Wait(TaskBound), "The background task did not finish in time.");

        /// <summary>Waits (bounded) for background tasks.</summary>
        public static void AwaitAll(Task[] tasks) =>
            Assert.True(Task.WaitAll(tasks, TaskBound), "The background tasks did not finish in time.");

        /// <summary>Waits (bounded) for a background task that must fail, and returns its exception.</summary>
        public static Exception AwaitFailure(Task task)
        {
            Assert.True(((IAsyncResult)task).AsyncWaitHandle.WaitOne(TaskBound), "The background task did not finish in time.");
            Assert.True(task.IsFaulted || task.IsCanceled, "The background task was expected to fail.");
            return task.Exception?.InnerException ?? new TaskCanceledException(task);
        }

        /// <summary>Polls (bounded) until <paramref name="condition"/> holds.</summary>
        public static void WaitUntil(Func<bool> condition, string what)
        {
            var clock = Stopwatch.StartNew();
            while (!condition())
            {
                Assert.True(clock.Elapsed < TaskBound, "Timed out waiting until " + what + ".");
                Thread.Sleep(10);
            }
        }

        /// <summary>Runs a blocking body on a thread of its own (not the pool, which blocking tests would starve).</summary>
        public static Task<T> Run<T>(Func<T> body) => Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        /// <summary>Runs a blocking body on a thread of its own.</summary>
        public static Task Run(Action body) => Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        /// <summary>Exactly <paramref name="count"/> bytes from the socket.</summary>
        public static byte[] Receive(NetSocket socket, int count) => socket.ReceiveExactly(count, Timeout, Token);

        /// <summary>Everything the peer sends until it closes.</summary>
        public static byte[] ReceiveAll(NetSocket socket)
        {
            var all = new List<byte>();
            socket.ReceiveChunks(-1, Timeout, Token, all.AddRange);
            return all.ToArray();
        }

        /// <summary>Sends bytes with the default timeout.</summary>
        public static void Send(NetSocket socket, byte[] data) => socket.Send(data, Timeout, Token);

        /// <summary>Sends text as UTF-8 without a byte order mark.</summary>
        public static void Send(NetSocket socket, string text) => Send(socket, new System.Text.UTF8Encoding(false).GetBytes(text));
    }

    /// <summary>A listener, a client connected to it and the accepted peer; disposing closes all three.</summary>
    internal sealed class Pair : IDisposable
    {
        private Pair(NetSocket listener, NetSocket client, NetSocket server)
        {
            Listener = listener;
            Client = client;
            Server = server;
        }

        public NetSocket Listener { get; }

        public NetSocket Client { get; }

        public NetSocket Server { get; }

        /// <summary>A dual-mode client connected to an IPv4 listener on 127.0.0.1 (or IPv6 on ::1).</summary>
        public static Pair Open(bool ipv6 = false, SocketOptions clientOptions = null, SocketOptions listenerOptions = null)
        {
            SocketFamily family = ipv6 ? SocketFamily.InterNetworkV6 : SocketFamily.InterNetwork;
            NetSocket listener = NetSocket.Create(SocketProtocol.Tcp, family, listenerOptions)
                .Bind(ipv6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 0)
                .Listen();
            NetSocket client = NetSocket.Create(SocketProtocol.Tcp, null, clientOptions);
            client.Connect(ipv6 ? "::1" : "127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
            NetSocket server = listener.Accept(TestNet.Timeout, TestNet.Token);
            return new Pair(listener, client, server);
        }

        public void Dispose()
        {
            Client.Close();
            Server.Close();
            Listener.Close();
        }
    }

    /// <summary>Test data.</summary>
    internal static class Bytes
    {
        /// <summary>Reproducible random bytes.</summary>
        public static byte[] Random(int length, int seed)
        {
            var data = new byte[length];
            new Random(seed).NextBytes(data);
            return data;
        }

        /// <summary>The parts, one after another.</summary>
        public static byte[] Concat(IEnumerable<byte[]> parts)
        {
            var all = new List<byte>();
            foreach (byte[] part in parts)
            {
                all.AddRange(part);
            }

            return all.ToArray();
        }
    }
}

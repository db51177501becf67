using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Tests
{
    /// <summary>Loopback helpers built on the engine, to set the scene for the cmdlets. Every wait is bounded.</summary>
    internal static class TestNet
    {
        public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

        public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

        public static CancellationToken Token => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

        public static NetSocket ListenerV4(int backlog = 0) =>
            NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork).Bind(IPAddress.Loopback, 0).Listen(backlog);

        /// <summary>A port nobody listens on.</summary>
        public static int FreePort()
        {
            using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                return ((IPEndPoint)probe.LocalEndPoint).Port;
            }
        }

        public static void WaitUntil(Func<bool> condition, string what)
        {
            var clock = Stopwatch.StartNew();
            while (!condition())
            {
                Assert.True(clock.Elapsed < Bound, "Timed out waiting until " + what + ".");
                Thread.Sleep(10);
            }
        }

        /// <summary>Waits (bounded) for a background task.</summary>
        public static void Await(Task task) => Assert.True(task.Wait(Bound), "The background task did not finish in time.");

        /// <summary>Waits (bounded) for a background task and returns its result.</summary>
        public static T Await<T>(Task<T> task)
        {
            Assert.True(task.Wait(Bound), "The background task did not finish in time.");
            return task.Result;
        }

        public static byte[] Receive(NetSocket socket, int count) => socket.ReceiveExactly(count, Timeout, Token);

        /// <summary>Everything the peer sends until it closes.</summary>
        public static byte[] ReceiveAll(NetSocket socket)
        {
            var all = new List<byte>();
            socket.ReceiveChunks(-1, Timeout, Token, all.AddRange);
            return all.ToArray();
        }

        public static void Send(NetSocket socket, byte[] data) => socket.Send(data, Timeout, Token);

        public static void Send(NetSocket socket, string text) => Send(socket, new System.Text.UTF8Encoding(false).GetBytes(text));

        /// <summary>Asserts an error record: id, cmdlet class, category and target.</summary>
        public static void AssertError(ErrorRecord error, string errorId, string commandClass, ErrorCategory category, object target = null)
        {
            Assert.Equal($"{errorId},SocketCmdlets.Commands.{commandClass}", error.FullyQualifiedErrorId);
            Assert.Equal(category, error.CategoryInfo.Category);
            if (target != null)
            {
                object actual = error.TargetObject is PSObject ps ? ps.BaseObject : error.TargetObject;
                Assert.Equal(target, actual);
            }
        }
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

        public static Pair Open()
        {
            NetSocket listener = TestNet.ListenerV4();
            NetSocket client = NetSocket.Create();
            client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
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
}

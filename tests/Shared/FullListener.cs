using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

// Compiled into both xunit projects (engine and cmdlets), which both need a connect that blocks on loopback.
namespace SocketCmdlets.TestSupport
{
    /// <summary>
    /// A listener with a backlog of 1 that never accepts, with its queue full: further connects wait (the kernel
    /// drops their SYN), which gives a connect that blocks without leaving loopback.
    /// </summary>
    internal sealed class FullListener : IDisposable
    {
        private readonly List<Socket> _fillers = new List<Socket>();

        /// <summary>On 127.0.0.1, or on ::1 with <paramref name="ipv6"/>, at <paramref name="port"/> (0: a free one).</summary>
        public FullListener(bool ipv6 = false, int port = 0)
        {
            IPAddress loopback = ipv6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
            Listener = NetSocket.Create(SocketProtocol.Tcp, ipv6 ? SocketFamily.InterNetworkV6 : SocketFamily.InterNetwork).Bind(loopback, port).Listen(1);
            var attempts = new List<Task>();
            for (int i = 0; i < 6; i++)
            {
                var filler = new Socket(loopback.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                _fillers.Add(filler);
                Task attempt = filler.ConnectAsync(new IPEndPoint(loopback, Listener.LocalEndPoint.Port));
                attempt.ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
                attempts.Add(attempt);
            }

            // The queue is full once some connects are done and the count stays put while others still wait.
            var clock = Stopwatch.StartNew();
            while (!attempts.Any(a => a.IsCompleted))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "Timed out waiting until a first connection is queued.");
                Thread.Sleep(10);
            }

            // Twice in a row, so a connect that is merely slow under load is not taken for a dropped one.
            int done = -1;
            int stable = 0;
            while (stable < 2)
            {
                Thread.Sleep(300);
                int now = attempts.Count(a => a.IsCompleted);
                stable = now == done ? stable + 1 : 0;
                done = now;
            }

            if (done == attempts.Count)
            {
                throw new InvalidOperationException("The listener's queue never filled, so no connect blocks here.");
            }
        }

        public NetSocket Listener { get; }

        public int Port => Listener.LocalEndPoint.Port;

        public void Dispose()
        {
            _fillers.ForEach(f => f.Dispose());
            Listener.Close();
        }
    }
}

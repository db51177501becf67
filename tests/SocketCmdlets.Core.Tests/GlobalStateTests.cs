using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using Xunit.Abstractions;

namespace SocketCmdlets.Core.Tests
{
    [Collection(GlobalStateCollection.Name)]
    public sealed class BufferPoolTests
    {
        [Fact]
        public void Rent_gives_a_chunk_and_Return_makes_it_reusable()
        {
            byte[] buffer = BufferPool.Rent();
            Assert.Equal(BufferPool.ChunkSize, buffer.Length);
            Assert.Equal(1024 * 1024, BufferPool.ChunkSize);
            BufferPool.Return(buffer);
            Assert.Same(buffer, BufferPool.Rent());
            BufferPool.Return(buffer);
        }

        [Fact]
        public void Return_ignores_null_and_arrays_of_another_size()
        {
            Drain();
            BufferPool.Return(null);
            var small = new byte[4096];
            BufferPool.Return(small);
            byte[] rented = BufferPool.Rent();
            Assert.NotSame(small, rented);
            Assert.Equal(BufferPool.ChunkSize, rented.Length);
        }

        [Fact]
        public void The_pool_keeps_at_most_four_buffers()
        {
            Drain();
            byte[][] rented = Enumerable.Range(0, 6).Select(_ => BufferPool.Rent()).ToArray();
            Assert.Equal(6, rented.Distinct().Count());
            foreach (byte[] buffer in rented)
            {
                BufferPool.Return(buffer);
            }

            byte[][] again = Enumerable.Range(0, 6).Select(_ => BufferPool.Rent()).ToArray();
            Assert.Equal(4, again.Count(b => rented.Contains(b)));
            foreach (byte[] buffer in again)
            {
                BufferPool.Return(buffer);
            }
        }

        [Fact]
        public void A_buffer_is_never_lent_to_two_renters_at_once()
        {
            int clashes = 0;
            Task[] workers = Enumerable.Range(1, 4).Select(id => TestNet.Run(() =>
            {
                for (int i = 0; i < 2000; i++)
                {
                    byte[] buffer = BufferPool.Rent();
                    buffer[0] = (byte)id;
                    buffer[BufferPool.ChunkSize - 1] = (byte)id;
                    Thread.SpinWait(50);
                    if (buffer[0] != id || buffer[BufferPool.ChunkSize - 1] != id)
                    {
                        Interlocked.Increment(ref clashes);
                    }

                    BufferPool.Return(buffer);
                }
            })).ToArray();
            TestNet.AwaitAll(workers);
            Assert.Equal(0, clashes);
        }

        private static void Drain()
        {
            for (int i = 0; i < 8; i++)
            {
                BufferPool.Rent();
            }
        }
    }

    [Collection(GlobalStateCollection.Name)]
    public sealed class LeakTests
    {
        private readonly ITestOutputHelper _output;

        public LeakTests(ITestOutputHelper output) => _output = output;

        private static int OpenHandles()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && Directory.Exists("/proc/self/fd"))
            {
                return Directory.GetFileSystemEntries("/proc/self/fd").Length;
            }

            using (var self = System.Diagnostics.Process.GetCurrentProcess())
            {
                return self.HandleCount;
            }
        }

        private static void Cycle(NetSocket listener, int refusingPort, int i)
        {
            NetSocket client = NetSocket.Create();
            try
            {
                if (i % 10 == 0)
                {
                    // A refused connect renews the underlying socket: the old one must be released.
                    Assert.Throws<SocketException>(() => client.Connect("127.0.0.1", refusingPort, TestNet.Timeout, TestNet.Token));
                }

                client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                NetSocket peer = listener.Accept(TestNet.Timeout, TestNet.Token);
                try
                {
                    client.Send(new byte[] { (byte)i }, TestNet.Timeout, TestNet.Token);
                    Assert.Single(peer.ReceiveExactly(1, TestNet.Timeout, TestNet.Token));
                }
                finally
                {
                    peer.Close();
                }
            }
            finally
            {
                client.Close();
            }
        }

        [Fact]
        public void Thousands_of_connect_accept_close_cycles_leak_no_socket_or_handle()
        {
            int refusingPort = TestNet.FreePort();
            using (NetSocket listener = TestNet.ListenerV4())
            {
                for (int i = 0; i < 200; i++)
                {
                    Cycle(listener, refusingPort, i);
                }

                int registryBefore = SocketRegistry.Count;
                int handlesBefore = OpenHandles();

                for (int i = 0; i < 3000; i++)
                {
                    Cycle(listener, refusingPort, i);
                }

                int handlesAfter = OpenHandles();
                _output.WriteLine($"Open handles: {handlesBefore} before, {handlesAfter} after 3000 cycles.");
                Assert.Equal(registryBefore, SocketRegistry.Count);
                Assert.InRange(handlesAfter, handlesBefore - 20, handlesBefore + 20);
            }
        }
    }
}

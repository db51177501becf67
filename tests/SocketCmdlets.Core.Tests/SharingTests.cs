using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>One socket used from several threads at once: receives and sends take turns, bystanders are untouched.</summary>
    public class SharingTests
    {
        private const int Block = 1024;

        [Fact]
        public void Four_threads_receiving_on_one_socket_get_every_block_once_and_intact_while_a_bystander_stream_stays_whole()
        {
            const int blocks = 2000;
            using (var shared = Pair.Open())
            using (var bystander = Pair.Open())
            {
                byte[] bulk = Bytes.Random(8 * 1024 * 1024, 7);
                byte[] expected;
                using (var sha = SHA256.Create())
                {
                    expected = sha.ComputeHash(bulk);
                }

                Task bulkSend = TestNet.Run(() => { bystander.Client.Send(bulk, TestNet.Timeout, TestNet.Token); bystander.Client.Close(CloseDirection.Send); });
                var copy = new MemoryStream();
                Task bulkReceive = TestNet.Run(() => bystander.Server.ReceiveTo(copy, -1, TestNet.Timeout, TestNet.Token));

                // Each block is its number repeated: a block made of two blocks' bytes, or a lost one, shows.
                Task sender = TestNet.Run(() =>
                {
                    for (int i = 0; i < blocks; i++)
                    {
                        shared.Client.Send(BlockOf(i), TestNet.Timeout, TestNet.Token);
                    }

                    shared.Client.Close(CloseDirection.Send);
                });
                var seen = new ConcurrentBag<int>();
                var failures = new ConcurrentBag<string>();
                Task[] readers = Enumerable.Range(0, 4).Select(_ => TestNet.Run(() =>
                {
                    while (true)
                    {
                        byte[] block = shared.Server.ReceiveExactly(Block, TestNet.Timeout, TestNet.Token);
                        if (block.Length == 0)
                        {
                            return;
                        }

                        if (block.Length != Block)
                        {
                            failures.Add($"a block of {block.Length} bytes");
                            return;
                        }

                        int number = BitConverter.ToInt32(block, 0);
                        if (!block.SequenceEqual(BlockOf(number)))
                        {
                            failures.Add($"block {number} is corrupt");
                        }

                        seen.Add(number);
                    }
                })).ToArray();

                TestNet.AwaitAll(readers.Concat(new[] { sender, bulkSend, bulkReceive }).ToArray());
                Assert.Empty(failures);
                Assert.Equal(Enumerable.Range(0, blocks), seen.OrderBy(n => n));
                using (var sha = SHA256.Create())
                {
                    Assert.Equal(expected, sha.ComputeHash(copy.ToArray()));
                }
            }
        }

        [Fact]
        public void Four_threads_sending_on_one_socket_never_interleave_their_sends()
        {
            const int perThread = 100;
            const int size = 64 * 1024;
            using (var pair = Pair.Open())
            {
                Task[] senders = Enumerable.Range(1, 4).Select(t => TestNet.Run(() =>
                {
                    byte[] data = Enumerable.Repeat((byte)t, size).ToArray();
                    for (int i = 0; i < perThread; i++)
                    {
                        pair.Client.Send(data, TestNet.Timeout, TestNet.Token);
                    }
                })).ToArray();
                var counts = new int[5];
                Task receiver = TestNet.Run(() =>
                {
                    for (int n = 0; n < 4 * perThread; n++)
                    {
                        byte[] block = pair.Server.ReceiveExactly(size, TestNet.Timeout, TestNet.Token);
                        Assert.Equal(size, block.Length);
                        int mixed = Array.FindIndex(block, b => b != block[0]);
                        Assert.True(mixed < 0, $"block {n} mixes the bytes of two sends at offset {mixed}");
                        counts[block[0]]++;
                    }
                });
                TestNet.AwaitAll(senders.Concat(new[] { receiver }).ToArray());
                Assert.Equal(new[] { 0, perThread, perThread, perThread, perThread }, counts);
            }
        }

        [Fact]
        public void A_receive_waiting_for_its_turn_honours_its_own_timeout_and_token()
        {
            using (var pair = Pair.Open())
            {
                // The first receive holds the turn while it waits for data that does not come.
                Task<int> holder = TestNet.Run(() => pair.Server.ReceiveChunks(1, TimeSpan.FromSeconds(30), TestNet.Token, _ => { }));
                TestNet.WaitUntil(() => IsWaiting(pair.Server), "the first receive to hold the turn");
                var timeout = Assert.Throws<SocketTimeoutException>(() => pair.Server.ReceiveChunks(1, TimeSpan.FromMilliseconds(200), TestNet.Token, _ => { }));
                Assert.Equal(SocketOperation.Receive, timeout.Operation);
                using (var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
                {
                    Assert.ThrowsAny<OperationCanceledException>(() => pair.Server.ReceiveChunks(1, TestNet.Timeout, stop.Token, _ => { }));
                }

                // The holder is unaffected and gets the data.
                pair.Client.Send(Encoding.ASCII.GetBytes("x"), TestNet.Timeout, TestNet.Token);
                Assert.Equal(1, TestNet.Await(holder));
            }
        }

        [Fact]
        public void Receiving_on_a_socket_another_thread_holds_the_exchange_of_waits_its_turn()
        {
            using (var pair = Pair.Open())
            {
                pair.Client.Send(Encoding.ASCII.GetBytes("reply\n"), TestNet.Timeout, TestNet.Token);
                var order = new ConcurrentQueue<string>();
                IDisposable exchange = pair.Server.EnterExchange(TestNet.Timeout, TestNet.Token);
                Task other = TestNet.Run(() => pair.Server.ReceiveRecords(null, "\n", true, 1, 100, TestNet.Timeout, TestNet.Token, (b, o, l) => order.Enqueue("other")));
                Thread.Sleep(200);
                Assert.False(other.IsCompleted);
                // The holder's own calls go through (the turn is re-entrant on its thread).
                pair.Server.ReceiveRecords(null, "\n", true, 1, 100, TestNet.Timeout, TestNet.Token, (b, o, l) => order.Enqueue(Encoding.ASCII.GetString(b, o, l)));
                exchange.Dispose();
                pair.Client.Send(Encoding.ASCII.GetBytes("later\n"), TestNet.Timeout, TestNet.Token);
                TestNet.Await(other);
                Assert.Equal(new[] { "reply", "other" }, order.ToArray());
            }
        }

        [Fact]
        public void A_byte_count_read_that_times_out_keeps_what_arrived_for_the_next_receive()
        {
            using (var pair = Pair.Open())
            {
                byte[] sixty = Bytes.Random(60, 3);
                pair.Client.Send(sixty, TestNet.Timeout, TestNet.Token);
                var timeout = Assert.Throws<SocketTimeoutException>(() => pair.Server.ReceiveExactly(100, TimeSpan.FromMilliseconds(300), TestNet.Token));
                Assert.Equal(60, TransferFacts.Get(timeout, TransferFacts.BytesKept));
                Assert.Equal(100, TransferFacts.Get(timeout, TransferFacts.BytesExpected));
                Assert.Equal(60, pair.Server.PendingBytes);

                // Cancelled half way, too: the stream stays in step.
                byte[] more = Bytes.Random(40, 4);
                pair.Client.Send(more, TestNet.Timeout, TestNet.Token);
                using (var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
                {
                    Assert.ThrowsAny<OperationCanceledException>(() => pair.Server.ReceiveExactly(200, TestNet.Timeout, stop.Token));
                }

                Assert.Equal(sixty.Concat(more), pair.Server.ReceiveExactly(100, TestNet.Timeout, TestNet.Token));
            }
        }

        [RuntimeFact(TestRuntime.Mono | TestRuntime.NetFramework, "GC.GetAllocatedBytesForCurrentThread, which measures the allocation, is .NET 5 and later only")]
        public void A_byte_count_read_allocates_for_what_arrives_not_for_what_is_claimed()
        {
            using (var pair = Pair.Open())
            {
                pair.Client.Send(Bytes.Random(10, 5), TestNet.Timeout, TestNet.Token);
                pair.Client.Close(CloseDirection.Send);
                long before = Compat.AllocatedBytesForCurrentThread();
                byte[] got = pair.Server.ReceiveExactly(1_000_000_000, TestNet.Timeout, TestNet.Token);
                long allocated = Compat.AllocatedBytesForCurrentThread() - before;
                Assert.Equal(10, got.Length);
                Assert.True(allocated < 16 * 1024 * 1024, $"{allocated} bytes were allocated for 10 bytes of a claimed 1 GB");
            }
        }

        [Fact]
        public void A_receive_that_waits_for_data_holds_no_large_buffer()
        {
            using (var pair = Pair.Open())
            {
                // Data first, so the socket has had a large buffer once.
                pair.Client.Send(Bytes.Random(100_000, 6), TestNet.Timeout, TestNet.Token);
                Assert.Equal(100_000, pair.Server.ReceiveExactly(100_000, TestNet.Timeout, TestNet.Token).Length);

                Task<int> chunks = TestNet.Run(() => pair.Server.ReceiveChunks(1, TestNet.Timeout, TestNet.Token, _ => { }));
                TestNet.WaitUntil(() => IsWaiting(pair.Server), "the receive to wait");
                Thread.Sleep(100);
                Assert.True(pair.Server.ReceiveBufferCapacity <= 4096, $"a waiting receive holds {pair.Server.ReceiveBufferCapacity} bytes");
                pair.Client.Send(new byte[] { 1 }, TestNet.Timeout, TestNet.Token);
                Assert.Equal(1, TestNet.Await(chunks));

                // A record half received: what waits is the record's bytes, not a pooled megabyte.
                pair.Client.Send(Encoding.ASCII.GetBytes("partial"), TestNet.Timeout, TestNet.Token);
                var lines = new List<string>();
                Task<int> records = TestNet.Run(() => pair.Server.ReceiveRecords(null, "\n", true, 1, 1 << 20, TestNet.Timeout, TestNet.Token,
                    (b, o, l) => lines.Add(Encoding.ASCII.GetString(b, o, l))));
                TestNet.WaitUntil(() => IsWaiting(pair.Server), "the record read to wait");
                Thread.Sleep(100);
                Assert.True(pair.Server.ReceiveBufferCapacity <= 4096, $"a waiting record read holds {pair.Server.ReceiveBufferCapacity} bytes");
                pair.Client.Send(Encoding.ASCII.GetBytes(" line\n"), TestNet.Timeout, TestNet.Token);
                Assert.Equal(1, TestNet.Await(records));
                Assert.Equal(new[] { "partial line" }, lines);
            }
        }

        [Fact]
        public void A_final_record_without_terminator_longer_than_the_limit_is_too_long()
        {
            using (var pair = Pair.Open())
            {
                pair.Client.Send(Encoding.ASCII.GetBytes("0123456789A"), TestNet.Timeout, TestNet.Token);
                pair.Client.Close(CloseDirection.Send);
                Assert.Throws<RecordTooLongException>(() => pair.Server.ReceiveRecords(null, "\n", true, -1, 10, TestNet.Timeout, TestNet.Token, (b, o, l) => { }));
                // Nothing is lost: the bytes are still there.
                Assert.Equal(11, pair.Server.PendingBytes);
            }

            using (var pair = Pair.Open())
            {
                pair.Client.Send(Encoding.ASCII.GetBytes("0123456789"), TestNet.Timeout, TestNet.Token);
                pair.Client.Close(CloseDirection.Send);
                var got = new List<string>();
                pair.Server.ReceiveRecords(null, "\n", true, -1, 10, TestNet.Timeout, TestNet.Token, (b, o, l) => got.Add(Encoding.ASCII.GetString(b, o, l)));
                Assert.Equal(new[] { "0123456789" }, got);
            }
        }

        [Fact]
        public void A_file_receive_that_cannot_start_never_opens_its_destination()
        {
            using (var pair = Pair.Open())
            {
                int opened = 0;
                Func<Stream> open = () => { opened++; return new MemoryStream(); };
                Assert.Throws<SocketTimeoutException>(() => pair.Server.ReceiveTo(open, -1, TimeSpan.FromMilliseconds(200), TestNet.Token));
                pair.Client.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
                pair.Client.Close();
                Assert.ThrowsAny<Exception>(() => pair.Server.ReceiveTo(open, -1, TestNet.Timeout, TestNet.Token));
                pair.Server.Close();
                Assert.Throws<InvalidSocketStateException>(() => pair.Server.ReceiveTo(open, -1, TestNet.Timeout, TestNet.Token));
                Assert.Equal(0, opened);
            }
        }

        [Fact]
        public void A_failed_file_write_keeps_the_unwritten_bytes_on_the_socket_and_says_how_many_were_written()
        {
            using (var pair = Pair.Open())
            {
                byte[] first = Bytes.Random(3000, 8);
                byte[] second = Bytes.Random(5000, 9);
                var file = new FailingStream(failAfterWrites: 1);
                pair.Client.Send(first, TestNet.Timeout, TestNet.Token);
                TestNet.WaitUntil(() => pair.Server.Socket.Available == first.Length, "the first part to arrive");
                Task late = TestNet.Run(() =>
                {
                    Thread.Sleep(300);
                    pair.Client.Send(second, TestNet.Timeout, TestNet.Token);
                });
                var failure = Assert.Throws<IOException>(() => pair.Server.ReceiveTo(() => file, -1, TestNet.Timeout, TestNet.Token));
                TestNet.Await(late);
                Assert.Equal(3000, TransferFacts.Get(failure, TransferFacts.BytesWritten));
                Assert.True(TransferFacts.Get(failure, TransferFacts.BytesKept) > 0);
                Assert.Equal(first, file.Written.ToArray());
                Assert.True(file.Disposed);

                // Every byte is either in the file or still on the socket.
                pair.Client.Close(CloseDirection.Send);
                Assert.Equal(second, pair.Server.ReceiveExactly(second.Length, TestNet.Timeout, TestNet.Token));
            }
        }

        [Fact]
        public void Timeouts_in_seconds_never_round_to_no_limit()
        {
            Assert.Equal(TimeSpan.FromMilliseconds(400), Timeouts.FromSeconds(0.4));
            Assert.Equal(TimeSpan.FromMilliseconds(1500), Timeouts.FromSeconds(1.5));
            Assert.Equal(TimeSpan.FromMilliseconds(1), Timeouts.FromSeconds(0.0000001));
            Assert.Equal(Timeout.InfiniteTimeSpan, Timeouts.FromSeconds(0));
            Assert.Equal(Timeout.InfiniteTimeSpan, Timeouts.FromSeconds(double.NaN));
            Assert.Equal(0, Timeouts.ToSeconds(Timeout.InfiniteTimeSpan));
            Assert.Equal(0.25, Timeouts.ToSeconds(TimeSpan.FromMilliseconds(250)));
        }

        [Fact]
        public void A_background_send_buffer_sends_each_whole_input_without_being_flushed()
        {
            using (var pair = Pair.Open())
            using (var buffer = new SendBuffer(pair.Client, TestNet.Timeout, TestNet.Token, background: true))
            {
                buffer.Append("hel", null);
                buffer.Append("lo\n", null);
                Thread.Sleep(100);
                // Not before the input is whole.
                Assert.Equal(0, pair.Client.BytesSent);
                buffer.EndOfInput();
                var got = new List<string>();
                pair.Server.ReceiveRecords(null, "\n", true, 1, 100, TestNet.Timeout, TestNet.Token, (b, o, l) => got.Add(Encoding.ASCII.GetString(b, o, l)));
                Assert.Equal(new[] { "hello" }, got);
            }
        }

        [Fact]
        public void A_send_buffer_reports_the_failure_of_a_background_send_on_its_next_call()
        {
            using (var pair = Pair.Open())
            using (var buffer = new SendBuffer(pair.Client, TestNet.Timeout, TestNet.Token, background: true))
            {
                pair.Server.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
                pair.Server.Close();
                // Sends into a reset connection fail; the timer's failure surfaces on a later call.
                Exception failure = null;
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (failure == null && clock.Elapsed < TestNet.Timeout)
                {
                    try
                    {
                        buffer.Append("data\n", null);
                        buffer.EndOfInput();
                        Thread.Sleep(20);
                    }
                    catch (System.Net.Sockets.SocketException e)
                    {
                        failure = e;
                    }
                }

                Assert.NotNull(failure);
            }
        }

        [Fact]
        public void A_background_send_buffer_keeps_the_order_of_a_fast_stream_with_large_pieces_among_small_ones()
        {
            using (var pair = Pair.Open())
            {
                var expected = new MemoryStream();
                Task<byte[]> all = TestNet.Run(() =>
                {
                    var got = new MemoryStream();
                    pair.Server.ReceiveTo(got, -1, TestNet.Timeout, TestNet.Token);
                    return got.ToArray();
                });
                using (var buffer = new SendBuffer(pair.Client, TestNet.Timeout, TestNet.Token, background: true))
                {
                    for (int i = 0; i < 20000; i++)
                    {
                        byte[] piece = i % 5000 == 0 ? Bytes.Random(600_000, i) : Encoding.ASCII.GetBytes($"line {i}\n");
                        expected.Write(piece, 0, piece.Length);
                        buffer.Append(piece);
                        buffer.EndOfInput();
                    }

                    buffer.Flush();
                }

                pair.Client.Close(CloseDirection.Send);
                Assert.True(expected.ToArray().SequenceEqual(TestNet.Await(all)), "the bytes arrived out of order or incomplete");
            }
        }

        private static bool IsWaiting(NetSocket socket) =>
            !socket.TryReceiveTurnForTest();

        private static byte[] BlockOf(int number)
        {
            var block = new byte[Block];
            for (int i = 0; i < Block; i += 4)
            {
                BitConverter.GetBytes(number).CopyTo(block, i);
            }

            return block;
        }

        private sealed class FailingStream : Stream
        {
            private int _writesLeft;

            public FailingStream(int failAfterWrites) => _writesLeft = failAfterWrites;

            public MemoryStream Written { get; } = new MemoryStream();

            public bool Disposed { get; private set; }

            public override bool CanRead => false;

            public override bool CanSeek => true;

            public override bool CanWrite => true;

            public override long Length => Written.Length;

            public override long Position { get => Written.Position; set => Written.Position = value; }

            public override void Write(byte[] buffer, int offset, int count)
            {
                if (_writesLeft-- <= 0)
                {
                    // A write that gets half its bytes out before the disk fills.
                    Written.Write(buffer, offset, count / 2);
                    throw new IOException("No space left on device");
                }

                Written.Write(buffer, offset, count);
            }

            public override void SetLength(long value) => Written.SetLength(value);

            public override void Flush()
            {
            }

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            public override long Seek(long offset, SeekOrigin origin) => Written.Seek(offset, origin);

            protected override void Dispose(bool disposing)
            {
                Disposed = true;
                base.Dispose(disposing);
            }
        }
    }
}

using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    public sealed class SendTests
    {
        /// <summary>Small kernel buffers on both ends, so a large send cannot go out in one call.</summary>
        private static Pair SmallBufferPair() => Pair.Open(
            clientOptions: new SocketOptions { SendBufferSize = 4096 },
            listenerOptions: new SocketOptions { ReceiveBufferSize = 4096 });

        [Fact]
        public void A_send_larger_than_the_kernel_buffers_is_continued_until_all_bytes_are_out()
        {
            byte[] data = Bytes.Random(4 * 1024 * 1024 + 17, 1);
            using (Pair pair = SmallBufferPair())
            {
                Task<byte[]> reader = TestNet.Run(() =>
                {
                    // Read in small pieces, so the sender keeps meeting a full window.
                    var received = new MemoryStream();
                    while (received.Length < data.Length)
                    {
                        byte[] piece = pair.Server.ReceiveExactly((int)Math.Min(7777, data.Length - received.Length), TestNet.Timeout, TestNet.Token);
                        Assert.NotEmpty(piece);
                        received.Write(piece, 0, piece.Length);
                    }

                    return received.ToArray();
                });

                pair.Client.Send(data, 0, data.Length, TestNet.Timeout, TestNet.Token);

                Assert.Equal(data.Length, pair.Client.BytesSent);
                byte[] got = TestNet.Await(reader);
                Assert.True(data.SequenceEqual(got), "The peer received other bytes than were sent.");
                Assert.Equal(data.Length, pair.Server.BytesReceived);
            }
        }

        [Fact]
        public void Send_of_a_slice_sends_just_that_slice()
        {
            using (Pair pair = Pair.Open())
            {
                byte[] data = { 0, 1, 2, 3, 4, 5, 6, 7 };
                pair.Client.Send(data, 2, 3, TestNet.Timeout, TestNet.Token);
                pair.Client.Send(data, 0, 0, TestNet.Timeout, TestNet.Token);
                pair.Client.Close(CloseDirection.Send);
                Assert.Equal(new byte[] { 2, 3, 4 }, pair.Server.ReceiveExactly(10, TestNet.Timeout, TestNet.Token));
                Assert.Equal(3, pair.Client.BytesSent);
            }
        }

        [Fact]
        public void Send_checks_its_arguments()
        {
            using (Pair pair = Pair.Open())
            {
                Assert.Throws<ArgumentNullException>(() => pair.Client.Send(null, 0, 0, TestNet.Timeout, TestNet.Token));
                Assert.Throws<ArgumentOutOfRangeException>(() => pair.Client.Send(new byte[4], 2, 3, TestNet.Timeout, TestNet.Token));
                Assert.Throws<ArgumentOutOfRangeException>(() => pair.Client.Send(new byte[4], -1, 1, TestNet.Timeout, TestNet.Token));
                Assert.Equal(0, pair.Client.BytesSent);
            }
        }

        [Fact]
        public void A_send_to_a_peer_that_does_not_read_times_out_with_SocketTimeoutException_Send()
        {
            byte[] data = new byte[64 * 1024 * 1024];
            using (Pair pair = SmallBufferPair())
            {
                var e = Assert.Throws<SocketTimeoutException>(() => pair.Client.Send(data, TimeSpan.FromMilliseconds(500), TestNet.Token));
                Assert.Equal(SocketOperation.Send, e.Operation);
                Assert.InRange(pair.Client.BytesSent, 1, data.Length - 1);
                Assert.Equal(SocketState.Connected, pair.Client.State);
            }
        }

        [Fact]
        public void A_send_to_a_peer_that_does_not_read_ends_promptly_on_cancellation()
        {
            byte[] data = new byte[64 * 1024 * 1024];
            using (Pair pair = SmallBufferPair())
            using (var cancel = new CancellationTokenSource())
            {
                Task send = TestNet.Run(() => pair.Client.Send(data, Timeout.InfiniteTimeSpan, cancel.Token));
                TestNet.WaitUntil(() => pair.Client.BytesSent > 0, "the send has started");
                cancel.CancelAfter(200);
                Exception e = TestNet.AwaitFailure(send);
                Assert.IsAssignableFrom<OperationCanceledException>(e);
                Assert.True(pair.Client.BytesSent < data.Length);
            }
        }

        [Fact]
        public void SendFrom_streams_a_whole_stream_and_reports_progress()
        {
            byte[] data = Bytes.Random(3 * 1024 * 1024 + 5, 2);
            using (Pair pair = Pair.Open())
            {
                Task<byte[]> reader = TestNet.Run(() => pair.Server.ReceiveExactly(data.Length, TestNet.Timeout, TestNet.Token));
                var progress = new System.Collections.Generic.List<long>();
                long sent = pair.Client.SendFrom(new MemoryStream(data), TestNet.Timeout, TestNet.Token, progress.Add);

                Assert.Equal(data.Length, sent);
                Assert.True(data.SequenceEqual(TestNet.Await(reader)));
                Assert.NotEmpty(progress);
                Assert.Equal(data.Length, progress.Last());
                Assert.Equal(progress.OrderBy(p => p), progress);
            }
        }

        [Fact]
        public void SendFrom_an_empty_stream_sends_nothing()
        {
            using (Pair pair = Pair.Open())
            {
                Assert.Equal(0, pair.Client.SendFrom(new MemoryStream(), TestNet.Timeout, TestNet.Token));
                Assert.Equal(0, pair.Client.BytesSent);
            }
        }

        [Fact]
        public void Ten_MiB_of_random_bytes_make_the_round_trip_intact()
        {
            byte[] data = Bytes.Random(10 * 1024 * 1024, 3);
            byte[] expected = Compat.Sha256(data);
            using (Pair pair = Pair.Open())
            {
                Task sender = TestNet.Run(() =>
                {
                    pair.Client.Send(data, TestNet.Timeout, TestNet.Token);
                    pair.Client.Close(CloseDirection.Send);
                });

                // The server echoes everything back while the client collects the echo.
                Task echo = TestNet.Run(() =>
                {
                    pair.Server.ReceiveChunks(-1, TestNet.Timeout, TestNet.Token, chunk => pair.Server.Send(chunk, TestNet.Timeout, TestNet.Token));
                    pair.Server.Close(CloseDirection.Send);
                });

                var back = new MemoryStream();
                long received = pair.Client.ReceiveTo(back, -1, TestNet.Timeout, TestNet.Token);

                TestNet.Await(sender);
                TestNet.Await(echo);
                Assert.Equal(data.Length, received);
                Assert.Equal(expected, Compat.Sha256(back.ToArray()));
                Assert.Equal(data.Length, pair.Client.BytesSent);
                Assert.Equal(data.Length, pair.Client.BytesReceived);
                Assert.Equal(data.Length, pair.Server.BytesReceived);
                Assert.Equal(data.Length, pair.Server.BytesSent);
            }
        }
    }
}

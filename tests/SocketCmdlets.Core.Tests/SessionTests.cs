using System;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    public sealed class HexDumpTests
    {
        [Fact]
        public void A_row_shows_offset_hex_and_printable_ascii_in_80_columns()
        {
            byte[] data = Encoding.ASCII.GetBytes("Hello, world!\r\n\0\u007F");
            string[] rows = HexDump.Rows(data, 0).ToArray();
            Assert.Equal(2, rows.Length);
            Assert.Equal("00000000   48 65 6C 6C 6F 2C 20 77 6F 72 6C 64 21 0D 0A 00  Hello, world!...", rows[0]);
            Assert.Equal("00000010   7F" + new string(' ', 15 * 3) + "  .", rows[1]);
            Assert.True(rows[0].Length <= 80);
        }

        [Fact]
        public void Rows_continue_the_stream_offset_and_pad_a_short_last_row()
        {
            byte[] data = Enumerable.Range(0, 20).Select(i => (byte)(0xF0 + (i % 16))).ToArray();
            string[] rows = HexDump.Rows(data, 0x20).ToArray();
            Assert.Equal(2, rows.Length);
            Assert.StartsWith("00000020   F0 F1", rows[0]);
            Assert.StartsWith("00000030   F0 F1 F2 F3" + new string(' ', 12 * 3 + 2) + "....", rows[1]);
            Assert.Equal(rows[0].Length, rows[1].Length + 12);
        }

        [Fact]
        public void No_bytes_no_rows_and_bad_ranges_are_refused()
        {
            Assert.Empty(HexDump.Rows(new byte[0], 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => HexDump.Rows(new byte[4], 2, 3, 0).ToArray());
            Assert.Throws<ArgumentNullException>(() => HexDump.Rows(null, 0, 0, 0).ToArray());
        }
    }

    public sealed class SessionTranscriptTests
    {
        private static readonly DateTimeOffset At = new DateTimeOffset(2026, 12, 2, 22, 41, 7, 512, TimeSpan.Zero);

        private static string[] Lines(Action<SessionTranscript> write)
        {
            var text = new StringWriter();
            using (var transcript = new SessionTranscript(text, () => At))
            {
                write(transcript);
                return text.ToString().Split('\n').Where(l => l.Length > 0).ToArray();
            }
        }

        [Fact]
        public void Each_line_is_one_timestamped_entry_with_its_direction()
        {
            string[] lines = Lines(t =>
            {
                t.Note("session with x");
                t.Sent("hello\r\n");
                t.Received("one\ntwo\r\nthr");
            });
            Assert.Equal(new[]
            {
                "2026-12-02T22:41:07.512+00:00 # session with x",
                "2026-12-02T22:41:07.512+00:00 > hello",
                "2026-12-02T22:41:07.512+00:00 < one",
                "2026-12-02T22:41:07.512+00:00 < two",
                "2026-12-02T22:41:07.512+00:00 < thr",
            }, lines);
        }

        [Fact]
        public void Control_characters_are_escaped_and_empty_text_writes_nothing()
        {
            string[] lines = Lines(t =>
            {
                t.Received(string.Empty);
                t.Received("a\u001b[31mb\tc");
            });
            Assert.Equal(new[] { "2026-12-02T22:41:07.512+00:00 < a\\x1B[31mb\tc" }, lines);
        }

        [Fact]
        public void A_file_transcript_is_created_and_overwritten()
        {
            string path = Path.Combine(Path.GetTempPath(), "session-transcript-" + Guid.NewGuid().ToString("n") + ".log");
            try
            {
                File.WriteAllText(path, "old content\n");
                using (var transcript = new SessionTranscript(path, () => At))
                {
                    transcript.Sent("new");
                }

                Assert.Equal("2026-12-02T22:41:07.512+00:00 > new\n", File.ReadAllText(path));
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    public sealed class SessionLineEditorTests
    {
        [Fact]
        public void Typed_characters_make_a_line_that_Enter_completes()
        {
            var editor = new SessionLineEditor();
            Assert.Equal(SessionKeyAction.Inserted, editor.Key('h'));
            Assert.Equal("h", editor.Echo);
            editor.Key('i');
            Assert.Equal(SessionKeyAction.Line, editor.Key('\r', isEnter: true));
            Assert.Equal("hi", editor.Completed);
            Assert.Equal(string.Empty, editor.Text);
        }

        [Fact]
        public void Backspace_removes_the_last_character_and_does_nothing_on_an_empty_line()
        {
            var editor = new SessionLineEditor();
            Assert.Equal(SessionKeyAction.Ignored, editor.Key('\b', isBackspace: true));
            editor.Key('a');
            editor.Key('b');
            Assert.Equal(SessionKeyAction.Erased, editor.Key('\u007F'));
            Assert.Equal(1, editor.Erased);
            Assert.Equal("a", editor.Text);
        }

        [Fact]
        public void Ctrl_D_ends_the_input_with_the_text_typed_before_it()
        {
            var editor = new SessionLineEditor();
            editor.Key('x');
            Assert.Equal(SessionKeyAction.EndOfInput, editor.Key('\u0004'));
            Assert.Equal("x", editor.Completed);
            Assert.Equal(string.Empty, editor.Text);
        }

        [Fact]
        public void Ctrl_Z_then_Enter_ends_the_input_as_on_Windows_and_shows_as_caret_Z()
        {
            var editor = new SessionLineEditor();
            editor.Key('y');
            Assert.Equal(SessionKeyAction.Inserted, editor.Key('\u001A'));
            Assert.Equal("^Z", editor.Echo);
            Assert.Equal("y^Z", editor.Display);
            Assert.Equal(SessionKeyAction.Erased, editor.Key('\b'));
            Assert.Equal(2, editor.Erased);
            editor.Key('\u001A');
            Assert.Equal(SessionKeyAction.EndOfInput, editor.Key('\r'));
            Assert.Equal("y", editor.Completed);
        }

        [Fact]
        public void Ctrl_C_as_a_key_interrupts_and_other_control_keys_are_ignored()
        {
            var editor = new SessionLineEditor();
            Assert.Equal(SessionKeyAction.Interrupt, editor.Key('\u0003'));
            Assert.Equal(SessionKeyAction.Ignored, editor.Key('\u001b'));
            Assert.Equal(SessionKeyAction.Ignored, editor.Key('\0'));
            Assert.Equal(string.Empty, editor.Text);
        }

        [Fact]
        public void A_surrogate_pair_is_erased_whole()
        {
            var editor = new SessionLineEditor();
            editor.Key('a');
            editor.Key('\uD83D');
            editor.Key('\uDE00');
            editor.Key('\b');
            Assert.Equal("a", editor.Text);
        }
    }

    public sealed class SessionPumpTests
    {
        private static SessionEvent Next(SessionPump pump)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < TestNet.TaskBound)
            {
                if (pump.TryTake(out SessionEvent e, 50, TestNet.Token))
                {
                    return e;
                }
            }

            throw new TimeoutException("No session event arrived in time.");
        }

        [Fact]
        public void Data_arrives_while_lines_are_sent_and_the_end_of_stream_is_reported()
        {
            using (Pair pair = Pair.Open())
            using (var pump = new SessionPump(pair.Client))
            {
                pump.Start();
                pair.Server.Send(Encoding.ASCII.GetBytes("unprompted\n"), TestNet.Timeout, TestNet.Token);
                SessionEvent first = Next(pump);
                Assert.Equal(SessionEventKind.Data, first.Kind);
                Assert.Equal("unprompted\n", Encoding.ASCII.GetString(first.Data));

                pump.Send(Encoding.ASCII.GetBytes("typed\n"), TestNet.Timeout, TestNet.Token);
                Assert.Equal("typed\n", Encoding.ASCII.GetString(pair.Server.ReceiveExactly(6, TestNet.Timeout, TestNet.Token)));

                pair.Server.Close();
                Assert.Equal(SessionEventKind.EndOfStream, Next(pump).Kind);
                Assert.True(pump.Finished);
            }
        }

        [Fact]
        public void A_half_close_reaches_the_peer_and_its_reply_still_arrives()
        {
            using (Pair pair = Pair.Open())
            using (var pump = new SessionPump(pair.Client))
            {
                pump.Start();
                pump.HalfClose();
                Assert.Equal(SocketState.HalfClosed, pair.Client.State);
                Assert.Empty(pair.Server.ReceiveExactly(1, TestNet.Timeout, TestNet.Token));
                pair.Server.Send(Encoding.ASCII.GetBytes("late"), TestNet.Timeout, TestNet.Token);
                Assert.Equal("late", Encoding.ASCII.GetString(Next(pump).Data));
            }
        }

        [Fact]
        public void A_reset_is_reported_as_a_failure()
        {
            using (Pair pair = Pair.Open())
            using (var pump = new SessionPump(pair.Client))
            {
                pump.Start();
                pair.Server.Socket.LingerState = new LingerOption(true, 0);
                pair.Server.Close();
                SessionEvent e = Next(pump);
                Assert.Equal(SessionEventKind.Failed, e.Kind);
                Assert.Equal(SocketError.ConnectionReset, Assert.IsType<SocketException>(e.Error).SocketErrorCode);
            }
        }

        [Fact]
        public void Stop_ends_a_waiting_receive_and_leaves_the_socket_open()
        {
            using (Pair pair = Pair.Open())
            {
                var pump = new SessionPump(pair.Client);
                pump.Start();
                Assert.False(pump.TryTake(out _, 100, TestNet.Token));
                Assert.True(pump.Stop(10000));
                pump.Dispose();
                Assert.Equal(SocketState.Connected, pair.Client.State);
                pair.Server.Send(Encoding.ASCII.GetBytes("kept"), TestNet.Timeout, TestNet.Token);
                Assert.Equal("kept", Encoding.ASCII.GetString(pair.Client.ReceiveExactly(4, TestNet.Timeout, TestNet.Token)));
            }
        }

        [Fact]
        public void Bytes_not_taken_before_Stop_are_handed_out_by_Drain()
        {
            using (Pair pair = Pair.Open())
            using (var pump = new SessionPump(pair.Client))
            {
                pump.Start();
                // More chunks than the queue holds: the receive waits, and nothing is lost at the stop.
                byte[] sent = Bytes.Random(200 * 1024, 7);
                for (int i = 0; i < 100; i++)
                {
                    pair.Server.Send(sent, i * 2048, 2048, TestNet.Timeout, TestNet.Token);
                }

                TestNet.WaitUntil(() => pair.Client.BytesReceived > 64 * 2048 / 2, "the queue to fill");
                Assert.True(pump.Stop(10000));
                var received = new System.Collections.Generic.List<byte>();
                foreach (byte[] chunk in pump.Drain())
                {
                    received.AddRange(chunk);
                }

                byte[] rest = pair.Client.ReceiveExactly(sent.Length - received.Count, TestNet.Timeout, TestNet.Token);
                received.AddRange(rest);
                Assert.Equal(sent, received.ToArray());
            }
        }

        [Fact]
        public void A_cancelled_wait_throws_OperationCanceledException()
        {
            using (Pair pair = Pair.Open())
            using (var pump = new SessionPump(pair.Client))
            using (var cancel = new CancellationTokenSource())
            {
                pump.Start();
                cancel.Cancel();
                Assert.ThrowsAny<OperationCanceledException>(() => pump.TryTake(out _, 5000, cancel.Token));
            }
        }
    }
}

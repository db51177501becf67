using System;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Text;
using System.Threading;

namespace SocketCmdlets.Commands
{
    /// <summary>The conversation itself: keys from the host, received bytes from the engine's pump, both on this thread.</summary>
    public sealed partial class EnterSocketSessionCommand
    {
        // How long one wait for received data lasts before the keyboard is looked at again.
        private const int SliceMilliseconds = 20;

        // At most this many keys or received chunks are handled in a row, so neither side starves the other.
        private const int Burst = 256;

        private void Converse(NetSocket socket, SessionTranscript transcript)
        {
            PSHostRawUserInterface raw = Host.UI.RawUI;
            var screen = new SessionConsole(Host.UI);
            var editor = new SessionLineEditor();
            Decoder decoder = Encoding.GetDecoder();
            string peer = Peer(socket);
            long offset = 0;
            bool sending = socket.State == SocketState.Connected;
            string end = "stopped";

            transcript?.Note($"session with {peer}");
            if (VerboseEnabled)
            {
                WriteVerbose($"Session with {peer}: typed lines are sent with {Describe(NewLine)}; Ctrl+D (Ctrl+Z Enter on Windows) ends sending, Ctrl+C ends the session.");
            }

            var pump = new SessionPump(socket);
            try
            {
                pump.Start();
                while (true)
                {
                    int keys = 0;
                    while (keys < Burst && raw.KeyAvailable)
                    {
                        keys++;
                        // Key-up events are asked for too, so a read never waits for a key-down that has not come
                        // (on Windows a key-up alone makes KeyAvailable true); they are then ignored.
                        KeyInfo key = raw.ReadKey(ReadKeyOptions.NoEcho | ReadKeyOptions.IncludeKeyDown | ReadKeyOptions.IncludeKeyUp | ReadKeyOptions.AllowCtrlC);
                        if (!key.KeyDown)
                        {
                            continue;
                        }

                        SessionKeyAction action = editor.Key(key.Character, key.VirtualKeyCode == 13, key.VirtualKeyCode == 8);
                        if (action == SessionKeyAction.Interrupt)
                        {
                            end = "stopped (Ctrl+C)";
                            return;
                        }

                        if (!sending)
                        {
                            // After the half-close nothing more can be sent; what is typed is dropped.
                            editor.Clear();
                            continue;
                        }

                        switch (action)
                        {
                            case SessionKeyAction.Inserted:
                                screen.Echo(editor.Echo, editor.Display);
                                break;
                            case SessionKeyAction.Erased:
                                screen.Erase(editor.Erased, editor.Display);
                                break;
                            case SessionKeyAction.Line:
                                screen.EndInputLine();
                                if (!SendText(pump, socket, screen, transcript, editor.Completed + NewLine))
                                {
                                    end = "the send failed";
                                    return;
                                }

                                break;
                            case SessionKeyAction.EndOfInput:
                                screen.Finish();
                                if ((editor.Completed.Length > 0 && !SendText(pump, socket, screen, transcript, editor.Completed))
                                    || !Try(pump.HalfClose, socket, $"half-close socket {socket.Id}"))
                                {
                                    end = "the send failed";
                                    return;
                                }

                                sending = false;
                                transcript?.Note("sending ended (half-close)");
                                Verbose(screen, $"Sending ended: socket {socket.Id} half-closed (shutdown of sending); what the peer sends is still shown. Ctrl+C ends the session.");
                                break;
                        }
                    }

                    int chunks = 0;
                    while (chunks < Burst && pump.TryTake(out SessionEvent received, chunks == 0 && keys == 0 ? SliceMilliseconds : 0, StopToken))
                    {
                        chunks++;
                        switch (received.Kind)
                        {
                            case SessionEventKind.Data:
                                Show(screen, transcript, decoder, received.Data, ref offset);
                                Verbose(screen, $"Received {received.Data.Length} bytes from {peer}.");
                                break;
                            case SessionEventKind.EndOfStream:
                                Flush(screen, transcript, decoder);
                                end = "the peer closed the connection";
                                Verbose(screen, $"The peer closed the connection; the session with {peer} ends.");
                                return;
                            default:
                                Flush(screen, transcript, decoder);
                                end = "failed: " + ErrorFactory.Text(received.Error);
                                screen.Around(() => WriteError(ErrorFactory.FromException(received.Error, socket, $"receive from {peer}", SocketOperation.Receive)));
                                return;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
            {
                end = "stopped (Ctrl+C)";
                throw new PipelineStoppedException();
            }
            finally
            {
                if (pump.Stop())
                {
                    // What arrived but was not shown yet (Ctrl+C, a failed send) is shown now: nothing received is lost.
                    foreach (byte[] left in pump.Drain())
                    {
                        Show(screen, transcript, decoder, left, ref offset);
                    }

                    pump.Dispose();
                }
                else
                {
                    // The receive thread holds no console; it ends with the socket, whoever closes it.
                    WriteWarningSafe("The receive thread of the session did not end in time.");
                }

                screen.Finish();
                transcript?.Note("session ended: " + end);
            }
        }

        /// <summary>Sends typed text; false (after writing the error) when the send failed, which ends the session.</summary>
        private bool SendText(SessionPump pump, NetSocket socket, SessionConsole screen, SessionTranscript transcript, string text)
        {
            byte[] bytes = new PayloadEncoder(Encoding, null).ToBytes(text);
            transcript?.Sent(text);
            bool sent = false;
            screen.Around(() => sent = Try(() => pump.Send(bytes, socket.SendTimeout, StopToken), socket, $"send to {Peer(socket)}", SocketOperation.Send));
            if (sent)
            {
                Verbose(screen, $"Sent {bytes.Length} bytes to {Peer(socket)}.");
            }

            return sent;
        }

        private void Show(SessionConsole screen, SessionTranscript transcript, Decoder decoder, byte[] data, ref long offset)
        {
            if (Hex.IsPresent)
            {
                var rows = new StringBuilder();
                foreach (string row in HexDump.Rows(data, offset))
                {
                    rows.Append(row).Append('\n');
                    transcript?.Received(row);
                }

                offset += data.Length;
                screen.Around(() => Host.UI.Write(rows.ToString()));
                return;
            }

            var chars = new char[decoder.GetCharCount(data, 0, data.Length, false)];
            int count = decoder.GetChars(data, 0, data.Length, chars, 0, false);
            string text = new string(chars, 0, count);
            transcript?.Received(text);
            screen.Show(text);
        }

        private void Flush(SessionConsole screen, SessionTranscript transcript, Decoder decoder)
        {
            if (Hex.IsPresent)
            {
                return;
            }

            // Bytes of a character the stream ended inside: shown as replacement characters.
            var chars = new char[decoder.GetCharCount(new byte[0], 0, 0, true)];
            int count = decoder.GetChars(new byte[0], 0, 0, chars, 0, true);
            if (count > 0)
            {
                string text = new string(chars, 0, count);
                transcript?.Received(text);
                screen.Show(text);
            }
        }

        private void Verbose(SessionConsole screen, string message)
        {
            if (VerboseEnabled)
            {
                screen.Around(() => WriteVerbose(message));
            }
        }

        private void WriteWarningSafe(string message)
        {
            try
            {
                WriteWarning(message);
            }
            catch (PipelineStoppedException)
            {
                // Stopping: the warning has nowhere to go.
            }
        }

        private static string Describe(string newLine) =>
            newLine.Length == 0 ? "no line ending" : newLine.Replace("\r", "`r").Replace("\n", "`n");
    }
}

using System;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>
    /// The pump for two plain sides (TCP or Unix, no TLS): one thread, non-blocking sockets, poll() on both. Each
    /// direction has one buffer; a side is read only while its direction's buffer is empty, so a slow reader stops the
    /// reading of its writer (backpressure).
    /// </summary>
    internal sealed partial class RelayConnection
    {
        private const int PollMilliseconds = Deadline.SliceMilliseconds;

        private static Task RunOnThread(Action body)
        {
            var done = new TaskCompletionSource<bool>();
            var thread = new Thread(() =>
            {
                try
                {
                    body();
                    done.SetResult(true);
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            })
            {
                IsBackground = true,
                Name = "SocketRelay pump",
            };
            thread.Start();
            return done.Task;
        }

        /// <summary>Pumps both directions until both have ended or the connection was ended (stop, idle, reset, error).</summary>
        private void PumpPlain()
        {
            using (var up = new Direction(_source, _target, true, _bufferSize))
            using (var down = new Direction(_target, _source, false, _bufferSize))
            {
                PumpPlain(up, down);
            }
        }

        // The loop of a connection runs once: without this it would stay in unoptimised code (see HotPath).
        [MethodImpl(HotPath.Optimize)]
        private void PumpPlain(Direction up, Direction down)
        {
            if (!up.Start(this) | !down.Start(this))
            {
                return;
            }

            var poller = new RelayPoller(_source.RawSocket, _target.RawSocket);
            while (_reason == null && !(up.Done && down.Done))
            {
                PollEvents source = PollEvents.None;
                PollEvents target = PollEvents.None;
                up.Want(ref source, ref target);
                down.Want(ref target, ref source);
                PollEvents sourceReady;
                PollEvents targetReady;
                try
                {
                    poller.Wait(source, target, PollMilliseconds, out sourceReady, out targetReady);
                }
                catch (Exception e) when (e is ObjectDisposedException || e is SocketException)
                {
                    // Ended from another thread (stop, idle timeout), which closed the sockets.
                    Fail(e, _source, _target);
                    return;
                }

                try
                {
                    if (!up.Step(this, sourceReady, targetReady) || !down.Step(this, targetReady, sourceReady))
                    {
                        return;
                    }
                }
                catch (Exception e) when (e is ObjectDisposedException || e is SocketException)
                {
                    // A socket closed by another thread (stop, idle timeout) between the poll and the call.
                    Fail(e, _source, _target);
                    return;
                }
            }
        }

        /// <summary>One direction of the plain pump: its buffer and what is left to write.</summary>
        private sealed class Direction : IDisposable
        {
            /// <summary>The most one splice moves; the pipe is made as large where the system allows.</summary>
            private const int SpliceChunk = 1024 * 1024;

            private SplicePipe _pipe;

            private readonly RelaySide _from;
            private readonly RelaySide _to;
            private readonly bool _toTarget;
            private readonly int _bufferSize;
            private byte[] _buffer;
            private byte[] _initial;
            private int _start;
            private int _end;
            private bool _endOfStream;

            public Direction(RelaySide from, RelaySide to, bool toTarget, int bufferSize)
            {
                _from = from;
                _to = to;
                _toTarget = toTarget;
                _bufferSize = bufferSize;
            }

            /// <summary>True once the source side ended its stream and everything before it was written.</summary>
            public bool Done => _endOfStream && _end == _start && _initial == null && Piped == 0;

            private int Piped => _pipe?.Pending ?? 0;

            public void Dispose() => _pipe?.Dispose();

            /// <summary>Takes over the bytes buffered before the relay; false when the connection already ended.</summary>
            public bool Start(RelayConnection relay)
            {
                if (_from.DeferredError != SocketError.Success)
                {
                    relay.End(RelayEndReason.Reset, null, _to);
                    return false;
                }

                // On Linux the bytes go socket -> pipe -> socket inside the kernel (splice); elsewhere, and for the bytes
                // received before the relay, through a buffer of ours (made only then).
                _pipe = SplicePipe.TryCreate(SpliceChunk);
                _initial = _from.TakeInitial();
                if (_pipe == null || _initial != null)
                {
                    _buffer = new byte[_bufferSize];
                }

                if (_initial != null)
                {
                    int n = Math.Min(_initial.Length, _buffer.Length);
                    Buffer.BlockCopy(_initial, 0, _buffer, 0, n);
                    _end = n;
                    _initial = n == _initial.Length ? null : Tail(_initial, n);
                }

                _endOfStream = _from.PeerEndedBeforeStart;
                FinishIfDone();
                return true;
            }

            /// <summary>Adds what this direction waits for: room on the target while bytes are left, else bytes from the source.</summary>
            public void Want(ref PollEvents from, ref PollEvents to)
            {
                if (_end > _start || Piped > 0)
                {
                    to |= PollEvents.Write;
                }
                else if (!_endOfStream)
                {
                    from |= PollEvents.Read;
                }
            }

            /// <summary>Reads or writes what the poll said is ready; false when the connection ended.</summary>
            [MethodImpl(HotPath.Optimize)]
            public bool Step(RelayConnection relay, PollEvents fromReady, PollEvents toReady)
            {
                if (_end == _start && Piped == 0 && !_endOfStream && (fromReady & ReadReady) != 0)
                {
                    // A bulk stream goes on without a poll between chunks while both sides keep up: read, write all,
                    // read again, until a side would block (then the poll waits for it), a few rounds at most so the
                    // other direction gets its turn. A small read ends the rounds: an exchange has sent all it had,
                    // and another read would only fail with EAGAIN (a wasted call per forwarded message).
                    for (int round = 0; round < RoundsPerPoll; round++)
                    {
                        if (!ReadAndFlush(relay, out bool more))
                        {
                            return false;
                        }

                        if (!more)
                        {
                            break;
                        }
                    }

                    return true;
                }

                if ((_end > _start || Piped > 0) && (toReady & WriteReady) != 0)
                {
                    return _end > _start ? Flush(relay) : FlushPipe(relay);
                }

                return true;
            }

            private const int RoundsPerPoll = 16;

            /// <summary>A read this large suggests a bulk stream with more behind it; a smaller one, an exchange whose bytes are all in.</summary>
            private const int BulkRead = 64 * 1024;

            /// <summary>Readable, or an error or hang-up that the next read reports.</summary>
            private const PollEvents ReadReady = PollEvents.Read | PollEvents.Error | PollEvents.HangUp | PollEvents.Invalid;

            /// <summary>Writable, or an error or hang-up that the next write reports.</summary>
            private const PollEvents WriteReady = PollEvents.Write | PollEvents.Error | PollEvents.HangUp | PollEvents.Invalid;

            /// <summary>
            /// One read and a flush of it; <paramref name="more"/> is true when everything was written and the source may
            /// have more (another round can go without a poll). False when the connection ended.
            /// </summary>
            [MethodImpl(HotPath.Optimize)]
            private bool ReadAndFlush(RelayConnection relay, out bool more)
            {
                more = false;
                if (_pipe != null && _end == _start && _initial == null)
                {
                    return SpliceAndFlush(relay, out more);
                }

                {
                    int n = _from.RawSocket.Receive(_buffer, 0, _buffer.Length, SocketFlags.None, out SocketError status);
                    if (status == SocketError.WouldBlock)
                    {
                        return true;
                    }

                    if (status != SocketError.Success)
                    {
                        relay.Fail(new SocketException((int)status), _from, _to);
                        return false;
                    }

                    if (n == 0)
                    {
                        SourceEnded();
                        return true;
                    }

                    relay.Touch();
                    _start = 0;
                    _end = n;

                    // Most often the other side can take it at once: no second poll for it.
                    if (!Flush(relay))
                    {
                        return false;
                    }

                    more = _end == _start && !_endOfStream && n >= Math.Min(BulkRead, _buffer.Length);
                    return true;
                }
            }

            /// <summary>One splice from the source into the pipe and on into the target (the zero-copy ReadAndFlush).</summary>
            [MethodImpl(HotPath.Optimize)]
            private bool SpliceAndFlush(RelayConnection relay, out bool more)
            {
                more = false;
                int n;
                try
                {
                    n = _pipe.Fill(_from.RawSocket, SpliceChunk);
                }
                catch (SocketException e)
                {
                    relay.Fail(e, _from, _to);
                    return false;
                }

                if (n < 0)
                {
                    return true;
                }

                if (n == 0)
                {
                    SourceEnded();
                    return true;
                }

                relay.Touch();
                if (!FlushPipe(relay))
                {
                    return false;
                }

                more = Piped == 0 && !_endOfStream && n >= BulkRead;
                return true;
            }

            /// <summary>The source ended its stream: the target is half-closed while the other direction goes on.</summary>
            private void SourceEnded()
            {
                _endOfStream = true;
                _from.Socket.MarkEndOfStream();
                _to.ShutdownSend();
            }

            [MethodImpl(HotPath.Optimize)]
            private bool FlushPipe(RelayConnection relay)
            {
                while (Piped > 0)
                {
                    int sent;
                    try
                    {
                        sent = _pipe.Drain(_to.RawSocket);
                    }
                    catch (SocketException e)
                    {
                        relay.Fail(e, _to, _from);
                        return false;
                    }

                    if (sent < 0)
                    {
                        return true;
                    }

                    relay.Forwarded(sent, _toTarget, _from, _to);
                }

                FinishIfDone();
                return true;
            }

            [MethodImpl(HotPath.Optimize)]
            private bool Flush(RelayConnection relay)
            {
                while (_end > _start)
                {
                    int sent = _to.RawSocket.Send(_buffer, _start, _end - _start, SocketFlags.None, out SocketError status);
                    if (status == SocketError.WouldBlock)
                    {
                        return true;
                    }

                    if (status != SocketError.Success)
                    {
                        relay.Fail(new SocketException((int)status), _to, _from);
                        return false;
                    }

                    _start += sent;
                    relay.Forwarded(sent, _toTarget, _from, _to);
                }

                _start = _end = 0;
                if (_initial != null)
                {
                    int n = Math.Min(_initial.Length, _buffer.Length);
                    Buffer.BlockCopy(_initial, 0, _buffer, 0, n);
                    _end = n;
                    _initial = n == _initial.Length ? null : Tail(_initial, n);
                    return Flush(relay);
                }

                FinishIfDone();
                return true;
            }

            private void FinishIfDone()
            {
                if (Done)
                {
                    _to.ShutdownSend();
                }
            }

            private static byte[] Tail(byte[] bytes, int from)
            {
                var rest = new byte[bytes.Length - from];
                Buffer.BlockCopy(bytes, from, rest, 0, rest.Length);
                return rest;
            }
        }
    }
}

using System;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>
    /// Gathers small pieces (strings, single bytes, small arrays) into larger sends, so a long pipeline costs few system
    /// calls rather than one per item. Large arrays go straight to the socket without a copy.
    /// <para>
    /// In the background mode (Send-SocketData) a piece is handed to a sender on the thread pool as soon as it is
    /// complete (<see cref="EndOfInput"/>): a reply reaches the peer at once, and while that sender is busy with one
    /// send, the pieces that keep coming gather for the next one (as a group commit does), so a fast stream is sent in
    /// large writes and a slow one without delay. Two buffers take turns: one gathers while the other is sent. A
    /// failure of a background send is thrown by the next call on the buffer. Otherwise (Invoke-SocketRequest) only
    /// <see cref="Flush"/> and a full buffer send.
    /// </para>
    /// </summary>
    internal sealed class SendBuffer : IDisposable
    {
        /// <summary>The largest gathered send.</summary>
        private const int MaxBuffer = BufferPool.ChunkSize;

        private const int FirstBuffer = 4096;

        private readonly object _sync = new object();
        private readonly NetSocket _socket;
        private readonly TimeSpan _timeout;
        private readonly CancellationToken _cancellationToken;
        private readonly bool _background;
        private readonly WaitCallback _drain;
        private byte[] _buffer;
        private byte[] _spare;
        private int _length;
        private bool _sending;
        private bool _disposed;
        private ExceptionDispatchInfo _failure;

        /// <summary>
        /// A buffer for <paramref name="socket"/>. With <paramref name="background"/>, each piece marked complete with
        /// <see cref="EndOfInput"/> is sent by a background sender without waiting for more; without it, only
        /// <see cref="Flush"/> and a full buffer send.
        /// </summary>
        public SendBuffer(NetSocket socket, TimeSpan timeout, CancellationToken cancellationToken, bool background = false)
        {
            _socket = socket ?? throw new ArgumentNullException(nameof(socket));
            _timeout = timeout;
            _cancellationToken = cancellationToken;
            _background = background;
            _drain = Drain;
        }

        /// <summary>The socket this buffer sends to.</summary>
        public NetSocket Socket => _socket;

        /// <summary>Bytes gathered and not yet sent (not counting a background send under way).</summary>
        public int Buffered => _length;

        /// <summary>Adds text, encoded with <paramref name="encoding"/> (never with a byte-order mark).</summary>
        public void Append(string text, Encoding encoding)
        {
            if (string.IsNullOrEmpty(text))
            {
                return;
            }

            encoding = encoding ?? TextEncoding.Default;
            lock (_sync)
            {
                ThrowIfFailed();
                int most = encoding.GetMaxByteCount(text.Length);
                int size = most <= MaxBuffer - _length ? most : encoding.GetByteCount(text);
                if (size > MaxBuffer / 2)
                {
                    SendDirect(encoding.GetBytes(text));
                    return;
                }

                Reserve(size);
                _length += encoding.GetBytes(text, 0, text.Length, _buffer, _length);
            }
        }

        /// <summary>Adds bytes; an array of half a chunk or more is sent as it is, without a copy.</summary>
        public void Append(byte[] data)
        {
            if (data == null || data.Length == 0)
            {
                return;
            }

            lock (_sync)
            {
                ThrowIfFailed();
                if (data.Length >= MaxBuffer / 2)
                {
                    SendDirect(data);
                    return;
                }

                Reserve(data.Length);
                Buffer.BlockCopy(data, 0, _buffer, _length, data.Length);
                _length += data.Length;
            }
        }

        /// <summary>Adds one byte.</summary>
        public void Append(byte value)
        {
            lock (_sync)
            {
                ThrowIfFailed();
                Reserve(1);
                _buffer[_length++] = value;
            }
        }

        /// <summary>
        /// Marks the end of one piece of input (one piped object): in the background mode, what is gathered is handed to
        /// the sender now, unless a send is under way (then it goes with the next one). A piece is sent whole: a line and
        /// its line ending leave in one segment, not two (two small segments in a row meet Nagle's algorithm and the
        /// peer's delayed acknowledgement).
        /// </summary>
        public void EndOfInput()
        {
            if (!_background)
            {
                return;
            }

            lock (_sync)
            {
                ThrowIfFailed();
                long now = System.Diagnostics.Stopwatch.GetTimestamp();
                _streaming = now - _lastInput < s_streamingGapTicks;
                _lastInput = now;
                if (_length > 0 && !_sending)
                {
                    _sending = true;
                    ThreadPool.UnsafeQueueUserWorkItem(_drain, null);
                }
            }
        }

        /// <summary>Inputs closer together than this are a stream: the sender lets a few more gather before it sends.</summary>
        private static readonly long s_streamingGapTicks = System.Diagnostics.Stopwatch.Frequency / 20_000;

        /// <summary>The longest the sender waits for a stream to fill a send (50 µs), and the fill it waits for.</summary>
        private static readonly long s_gatherTicks = System.Diagnostics.Stopwatch.Frequency / 20_000;

        private const int GatherBytes = 64 * 1024;

        private long _lastInput;
        private bool _streaming;

        /// <summary>
        /// Sends what has been gathered, after any background send under way, and throws the failure of a background
        /// send if one failed.
        /// </summary>
        public void Flush()
        {
            lock (_sync)
            {
                ThrowIfFailed();
                WaitForSender();
                SendGathered();
            }
        }

        /// <summary>Stops using the buffer; anything not flushed is dropped (a background send under way completes).</summary>
        public void Dispose()
        {
            lock (_sync)
            {
                _disposed = true;
                _buffer = null;
                _spare = null;
                _length = 0;
            }
        }

        /// <summary>Makes room for <paramref name="count"/> more bytes: grows the buffer, or sends what it holds.</summary>
        private void Reserve(int count)
        {
            if (_buffer != null && _buffer.Length - _length >= count)
            {
                return;
            }

            if (_length + count <= MaxBuffer)
            {
                int size = Math.Max(FirstBuffer, _buffer?.Length ?? 0);
                while (size < _length + count)
                {
                    size *= 2;
                }

                var bigger = new byte[Math.Min(size, MaxBuffer)];
                if (_length > 0)
                {
                    Buffer.BlockCopy(_buffer, 0, bigger, 0, _length);
                }

                _buffer = bigger;
                return;
            }

            // Full: what is gathered goes first, in order.
            WaitForSender();
            SendGathered();
            Reserve(count);
        }

        /// <summary>Sends a large piece as it is, after everything gathered before it.</summary>
        private void SendDirect(byte[] data)
        {
            WaitForSender();
            SendGathered();
            _socket.Send(data, _timeout, _cancellationToken);
        }

        /// <summary>Sends the gathered bytes on the calling thread; the caller holds the lock and no sender runs.</summary>
        private void SendGathered()
        {
            if (_length == 0)
            {
                return;
            }

            int length = _length;
            _length = 0;
            _socket.Send(_buffer, 0, length, _timeout, _cancellationToken);
        }

        /// <summary>Waits (holding the lock between looks) until no background send is under way; Ctrl+C ends the wait.</summary>
        private void WaitForSender()
        {
            while (_sending)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                Monitor.Wait(_sync, Deadline.SliceMilliseconds);
            }

            ThrowIfFailed();
        }

        /// <summary>The background sender: sends what is gathered, again and again, until nothing is left.</summary>
        private void Drain(object state)
        {
            while (true)
            {
                byte[] sending;
                int count;

                // While inputs stream in (each close behind the last), a few more microseconds fill the send with more of
                // them: fewer, larger writes for a fast pipeline. A reply that came alone is not a stream: no wait.
                long gatherUntil = System.Diagnostics.Stopwatch.GetTimestamp() + s_gatherTicks;
                var spin = default(SpinWait);
                while (Volatile.Read(ref _streaming) && Volatile.Read(ref _length) < GatherBytes && !Volatile.Read(ref _disposed) && System.Diagnostics.Stopwatch.GetTimestamp() < gatherUntil)
                {
                    spin.SpinOnce();
                }

                lock (_sync)
                {
                    if (_disposed || _failure != null || _length == 0)
                    {
                        _sending = false;
                        Monitor.PulseAll(_sync);
                        return;
                    }

                    // The buffers take turns: the pipeline gathers into the spare while this one is sent.
                    sending = _buffer;
                    count = _length;
                    _buffer = _spare != null && _spare.Length >= sending.Length ? _spare : new byte[sending.Length];
                    _spare = null;
                    _length = 0;
                }

                try
                {
                    _socket.Send(sending, 0, count, _timeout, _cancellationToken);
                }
                catch (Exception e)
                {
                    lock (_sync)
                    {
                        // Thrown by the next call on the pipeline thread, which reports it.
                        _failure = ExceptionDispatchInfo.Capture(e);
                        _sending = false;
                        Monitor.PulseAll(_sync);
                    }

                    return;
                }

                lock (_sync)
                {
                    if (!_disposed)
                    {
                        _spare = sending;
                    }
                }
            }
        }

        private void ThrowIfFailed() => _failure?.Throw();
    }
}

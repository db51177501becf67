using System;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>
    /// Gathers many small pieces (strings, single bytes, small arrays) into 1 MiB sends, so a long pipeline costs one
    /// system call per megabyte rather than one per item. Large arrays go straight to the socket without a copy.
    /// With a flush delay, what was gathered is also sent by a timer that delay after the first unsent piece, so data
    /// flows while the pipeline runs (a reply reaches the peer within milliseconds), and gathering happens only while
    /// input keeps coming. A failure of such a send is thrown by the next call on the buffer.
    /// </summary>
    public sealed class SendBuffer : IDisposable
    {
        private readonly object _sync = new object();
        private readonly NetSocket _socket;
        private readonly TimeSpan _timeout;
        private readonly CancellationToken _cancellationToken;
        private readonly int _flushDelayMilliseconds;
        private Timer _timer;
        private bool _armed;
        private bool _disposed;
        private ExceptionDispatchInfo _failure;
        private byte[] _buffer;
        private int _length;

        /// <summary>
        /// A buffer for <paramref name="socket"/>. With <paramref name="flushDelayMilliseconds"/> above 0, gathered bytes
        /// are sent that long after the first of them at the latest; with 0 only <see cref="Flush"/> and a full buffer send.
        /// </summary>
        public SendBuffer(NetSocket socket, TimeSpan timeout, CancellationToken cancellationToken, int flushDelayMilliseconds = 0)
        {
            _socket = socket ?? throw new ArgumentNullException(nameof(socket));
            _timeout = timeout;
            _cancellationToken = cancellationToken;
            _flushDelayMilliseconds = Math.Max(0, flushDelayMilliseconds);
        }

        /// <summary>The socket this buffer sends to.</summary>
        public NetSocket Socket => _socket;

        /// <summary>Bytes gathered and not yet sent.</summary>
        public int Buffered => _length;

        /// <summary>Adds text, encoded with <paramref name="encoding"/> (never with a byte-order mark).</summary>
        public void Append(string text, Encoding encoding)
        {
            if (string.IsNullOrEmpty(text))
            {
                return;
            }

            lock (_sync)
            {
                ThrowIfFailed();
                AppendCore(text, encoding);
                Arm();
            }
        }

        private void AppendCore(string text, Encoding encoding)
        {
            encoding = encoding ?? TextEncoding.Default;
            EnsureBuffer();
            if (encoding.GetMaxByteCount(text.Length) > _buffer.Length - _length && encoding.GetByteCount(text) > _buffer.Length - _length)
            {
                FlushCore();
                if (encoding.GetByteCount(text) > _buffer.Length)
                {
                    _socket.Send(encoding.GetBytes(text), _timeout, _cancellationToken);
                    return;
                }
            }

            _length += encoding.GetBytes(text, 0, text.Length, _buffer, _length);
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
                if (data.Length >= BufferPool.ChunkSize / 2)
                {
                    FlushCore();
                    _socket.Send(data, _timeout, _cancellationToken);
                    return;
                }

                EnsureBuffer();
                if (data.Length > _buffer.Length - _length)
                {
                    FlushCore();
                }

                Buffer.BlockCopy(data, 0, _buffer, _length, data.Length);
                _length += data.Length;
                Arm();
            }
        }

        /// <summary>Adds one byte.</summary>
        public void Append(byte value)
        {
            lock (_sync)
            {
                ThrowIfFailed();
                EnsureBuffer();
                if (_length == _buffer.Length)
                {
                    FlushCore();
                }

                _buffer[_length++] = value;
                Arm();
            }
        }

        /// <summary>Sends what has been gathered (and throws the failure of a timed send, if one failed).</summary>
        public void Flush()
        {
            lock (_sync)
            {
                ThrowIfFailed();
                FlushCore();
            }
        }

        /// <summary>Stops the timer and returns the buffer to the pool; anything not flushed is dropped.</summary>
        public void Dispose()
        {
            lock (_sync)
            {
                _disposed = true;
                _timer?.Dispose();
                _timer = null;
                BufferPool.Return(_buffer);
                _buffer = null;
                _length = 0;
            }
        }

        private void FlushCore()
        {
            if (_length == 0)
            {
                return;
            }

            int length = _length;
            _length = 0;
            _socket.Send(_buffer, 0, length, _timeout, _cancellationToken);
        }

        /// <summary>Starts the flush timer when bytes wait and it is not running.</summary>
        private void Arm()
        {
            if (_flushDelayMilliseconds == 0 || _armed || _length == 0)
            {
                return;
            }

            _armed = true;
            if (_timer == null)
            {
                _timer = new Timer(OnTimer, null, _flushDelayMilliseconds, Timeout.Infinite);
            }
            else
            {
                _timer.Change(_flushDelayMilliseconds, Timeout.Infinite);
            }
        }

        private void OnTimer(object state)
        {
            lock (_sync)
            {
                _armed = false;
                if (_disposed || _failure != null)
                {
                    return;
                }

                try
                {
                    FlushCore();
                }
                catch (Exception e)
                {
                    // Thrown by the next call on the pipeline thread, which reports it.
                    _failure = ExceptionDispatchInfo.Capture(e);
                }
            }
        }

        private void ThrowIfFailed() => _failure?.Throw();

        private void EnsureBuffer()
        {
            if (_buffer == null)
            {
                _buffer = BufferPool.Rent();
            }
        }
    }
}

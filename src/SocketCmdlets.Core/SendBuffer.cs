using System;
using System.Text;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>
    /// Gathers many small pieces (strings, single bytes, small arrays) into 1 MiB sends, so a long pipeline costs one
    /// system call per megabyte rather than one per item. Large arrays go straight to the socket without a copy.
    /// </summary>
    public sealed class SendBuffer : IDisposable
    {
        private readonly NetSocket _socket;
        private readonly TimeSpan _timeout;
        private readonly CancellationToken _cancellationToken;
        private byte[] _buffer;
        private int _length;

        public SendBuffer(NetSocket socket, TimeSpan timeout, CancellationToken cancellationToken)
        {
            _socket = socket ?? throw new ArgumentNullException(nameof(socket));
            _timeout = timeout;
            _cancellationToken = cancellationToken;
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

            encoding = encoding ?? TextEncoding.Default;
            EnsureBuffer();
            if (encoding.GetMaxByteCount(text.Length) > _buffer.Length - _length && encoding.GetByteCount(text) > _buffer.Length - _length)
            {
                Flush();
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

            if (data.Length >= BufferPool.ChunkSize / 2)
            {
                Flush();
                _socket.Send(data, _timeout, _cancellationToken);
                return;
            }

            EnsureBuffer();
            if (data.Length > _buffer.Length - _length)
            {
                Flush();
            }

            Buffer.BlockCopy(data, 0, _buffer, _length, data.Length);
            _length += data.Length;
        }

        /// <summary>Adds one byte.</summary>
        public void Append(byte value)
        {
            EnsureBuffer();
            if (_length == _buffer.Length)
            {
                Flush();
            }

            _buffer[_length++] = value;
        }

        /// <summary>Sends what has been gathered.</summary>
        public void Flush()
        {
            if (_length == 0)
            {
                return;
            }

            int length = _length;
            _length = 0;
            _socket.Send(_buffer, 0, length, _timeout, _cancellationToken);
        }

        /// <summary>Returns the buffer to the pool; anything not flushed is dropped.</summary>
        public void Dispose()
        {
            BufferPool.Return(_buffer);
            _buffer = null;
            _length = 0;
        }

        private void EnsureBuffer()
        {
            if (_buffer == null)
            {
                _buffer = BufferPool.Rent();
            }
        }
    }
}

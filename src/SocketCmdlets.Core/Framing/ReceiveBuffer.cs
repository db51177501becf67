using System;

namespace SocketCmdlets
{
    /// <summary>
    /// Bytes received and not yet handed out: <c>Array[Start..End)</c>. Pure bookkeeping, no socket: the socket fills
    /// the free space after <see cref="End"/> and commits what it read; the record reader and the text decoder take
    /// from the front. It belongs to one socket and is used under that socket's receive turn.
    /// </summary>
    internal sealed class ReceiveBuffer
    {
        /// <summary>A buffer this small is kept between calls; a larger one goes back to the pool when idle.</summary>
        internal const int SmallSize = 4096;

        private byte[] _array;
        private int _start;
        private int _end;

        /// <summary>The array the pending bytes are in (null when none is held).</summary>
        public byte[] Array => _array;

        /// <summary>Where the pending bytes start in <see cref="Array"/>.</summary>
        public int Start => _start;

        /// <summary>Where the pending bytes end in <see cref="Array"/> (the free space starts here).</summary>
        public int End => _end;

        /// <summary>Bytes received and not yet handed out.</summary>
        public int Count => _end - _start;

        /// <summary>The size of the array held (0: none).</summary>
        public int Capacity => _array?.Length ?? 0;

        /// <summary>The free space after the pending bytes.</summary>
        public int Free => Capacity - _end;

        /// <summary>Hands out <paramref name="count"/> bytes from the front.</summary>
        public void Consume(int count) => _start += count;

        /// <summary>Hands out every pending byte.</summary>
        public void ConsumeAll() => _start = _end;

        /// <summary>Moves the front back to <paramref name="start"/> (a record that turned out too long stays pending).</summary>
        public void Rewind(int start) => _start = start;

        /// <summary>Counts <paramref name="count"/> bytes written into the free space as pending.</summary>
        public void Commit(int count) => _end += count;

        /// <summary>Copies up to <paramref name="count"/> pending bytes out, handing them out; returns how many.</summary>
        public int Take(byte[] destination, int offset, int count)
        {
            int n = Math.Min(count, Count);
            if (n > 0)
            {
                Buffer.BlockCopy(_array, _start, destination, offset, n);
                _start += n;
            }

            return n;
        }

        /// <summary>
        /// Makes free space after the pending bytes for a record of up to <paramref name="room"/> bytes: the pooled
        /// chunk serves unless the pending bytes already fill half of it; then the array grows, up to that room.
        /// </summary>
        public void MakeRoom(int room = BufferPool.ChunkSize)
        {
            int pending = Count;
            int size = pending < BufferPool.ChunkSize / 2 ? BufferPool.ChunkSize : Math.Max(BufferPool.ChunkSize, Math.Min(room, Math.Max(pending + 1, pending * 2)));
            if (_array == null || _array.Length < size)
            {
                MoveTo(size == BufferPool.ChunkSize ? BufferPool.Rent() : new byte[size]);
            }
            else if (_start > 0 && (pending == 0 || _array.Length - _end < _array.Length / 4))
            {
                Buffer.BlockCopy(_array, _start, _array, 0, pending);
                _start = 0;
                _end = pending;
            }
        }

        /// <summary>Adds bytes after the pending ones (tests, and bytes that arrive by other means).</summary>
        public void Append(byte[] bytes, int offset, int count)
        {
            if (Free < count)
            {
                MakeRoom(Count + count);
                if (Free < count)
                {
                    MoveTo(new byte[Count + count]);
                }
            }

            Buffer.BlockCopy(bytes, offset, _array, _end, count);
            _end += count;
        }

        /// <summary>Puts bytes taken from the buffer back in front of the pending ones.</summary>
        public void PutBack(byte[] bytes)
        {
            if (bytes.Length == 0)
            {
                return;
            }

            int pending = Count;
            var buffer = new byte[Math.Max(SmallSize, bytes.Length + pending)];
            Buffer.BlockCopy(bytes, 0, buffer, 0, bytes.Length);
            if (pending > 0)
            {
                Buffer.BlockCopy(_array, _start, buffer, bytes.Length, pending);
            }

            BufferPool.Return(_array);
            _array = buffer;
            _start = 0;
            _end = bytes.Length + pending;
        }

        /// <summary>Takes every pending byte out as a new array, leaving none.</summary>
        public byte[] TakeAll()
        {
            var bytes = new byte[Count];
            Take(bytes, 0, bytes.Length);
            return bytes;
        }

        /// <summary>Hands the large array back when little or nothing is pending, so idle sockets stay small.</summary>
        public void Settle()
        {
            int pending = Count;
            if (_array == null || _array.Length <= SmallSize)
            {
                return;
            }

            if (pending == 0)
            {
                Release();
            }
            else if (pending <= SmallSize)
            {
                var small = new byte[SmallSize];
                Buffer.BlockCopy(_array, _start, small, 0, pending);
                BufferPool.Return(_array);
                _array = small;
                _start = 0;
                _end = pending;
            }
        }

        /// <summary>Gives the array back to the pool, dropping what is pending.</summary>
        public void Release()
        {
            BufferPool.Return(_array);
            _array = null;
            _start = 0;
            _end = 0;
        }

        /// <summary>Moves the pending bytes to the start of <paramref name="bigger"/>, which replaces the array.</summary>
        private void MoveTo(byte[] bigger)
        {
            int pending = Count;
            if (pending > 0)
            {
                Buffer.BlockCopy(_array, _start, bigger, 0, pending);
            }

            BufferPool.Return(_array);
            _array = bigger;
            _start = 0;
            _end = pending;
        }
    }
}

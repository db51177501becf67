using System;
using System.Runtime.CompilerServices;
using System.Text;

namespace SocketCmdlets
{
    /// <summary>What the record reader says of a record it hands out.</summary>
    [Flags]
    internal enum RecordFlags
    {
        /// <summary>A terminated record, and no other whole record is buffered after it (the next one needs a receive).</summary>
        None = 0,

        /// <summary>Another whole record is already buffered after this one.</summary>
        MoreBuffered = 1,

        /// <summary>The last bytes of the stream, which ended without a terminator.</summary>
        Unterminated = 2,
    }

    /// <summary>
    /// Receives records: the handler gets the record's bytes (valid during the call only) and what the reader knows of
    /// it, and returns whether it takes the record. A record not taken stays buffered, uncounted, and the receive ends.
    /// </summary>
    internal delegate bool RecordHandler(byte[] buffer, int offset, int length, RecordFlags flags);

    /// <summary>
    /// Cuts delimited records out of a <see cref="ReceiveBuffer"/>. Pure: it reads bytes already received and never
    /// waits; the socket fills the buffer when <see cref="Next"/> says more is needed. Used for one receive call.
    /// </summary>
    internal sealed class RecordReader
    {
        private readonly byte[] _terminator;
        private readonly byte[] _carriageReturn;
        private readonly int _unit;
        private readonly int _maxRecordLength;

        // Bytes from the front already searched without finding a terminator (relative to the buffer's start).
        private int _scanned;

        // Where the next terminator is, relative to the buffer's start, once a look ahead found it (-1: not known).
        private int _found = -1;

        /// <summary>
        /// Records ended by <paramref name="delimiter"/> in <paramref name="encoding"/>; with
        /// <paramref name="trimCarriageReturn"/>, a CR before the terminator goes too (for lines).
        /// </summary>
        public RecordReader(Encoding encoding, string delimiter, bool trimCarriageReturn, int maxRecordLength)
        {
            if (string.IsNullOrEmpty(delimiter))
            {
                throw new ArgumentException("The delimiter cannot be empty.", nameof(delimiter));
            }

            if (maxRecordLength < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(maxRecordLength), maxRecordLength, "The maximum record length must be positive.");
            }

            encoding = encoding ?? TextEncoding.Default;
            _terminator = encoding.GetBytes(delimiter);
            _carriageReturn = trimCarriageReturn ? encoding.GetBytes("\r") : null;
            _unit = TextEncoding.UnitSize(encoding);
            _maxRecordLength = maxRecordLength;
        }

        /// <summary>The room a record may need in the buffer: the longest record, its carriage return and terminator.</summary>
        public int Room => _maxRecordLength + _terminator.Length + (_carriageReturn?.Length ?? 0);

        /// <summary>
        /// Takes the next whole record off the front of <paramref name="buffer"/>: true with its place in
        /// <see cref="ReceiveBuffer.Array"/> (valid until the buffer is filled again); false when more bytes are needed.
        /// A record longer than the limit throws <see cref="RecordTooLongException"/> and stays buffered.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        public bool Next(ReceiveBuffer buffer, out int start, out int length)
        {
            int at = _found >= 0 ? _found : Find(buffer);
            _found = -1;
            if (at < 0)
            {
                // The tail may hold the first bytes of a terminator (and a carriage return): they are not record.
                int pending = buffer.Count;
                if (pending - (_carriageReturn?.Length ?? 0) - (_terminator.Length - 1) > _maxRecordLength)
                {
                    throw new RecordTooLongException(_maxRecordLength);
                }

                start = 0;
                length = 0;
                return false;
            }

            start = buffer.Start;
            length = at;
            if (_carriageReturn != null && EndsWith(buffer.Array, start, length, _carriageReturn))
            {
                length -= _carriageReturn.Length;
            }

            if (length > _maxRecordLength)
            {
                throw new RecordTooLongException(_maxRecordLength);
            }

            buffer.Consume(at + _terminator.Length);
            _scanned = 0;
            return true;
        }

        /// <summary>True when a whole record is buffered (so <see cref="Next"/> will not need more bytes).</summary>
        public bool HasRecord(ReceiveBuffer buffer)
        {
            if (_found < 0)
            {
                _found = Find(buffer);
            }

            return _found >= 0;
        }

        /// <summary>
        /// At the end of the stream: the bytes left without a terminator as the last record, if any (they stay buffered
        /// until <see cref="ReceiveBuffer.ConsumeAll"/>). All of them count against the limit.
        /// </summary>
        public bool Last(ReceiveBuffer buffer, out int start, out int length)
        {
            start = buffer.Start;
            length = buffer.Count;
            if (length == 0)
            {
                return false;
            }

            if (length > _maxRecordLength)
            {
                throw new RecordTooLongException(_maxRecordLength);
            }

            return true;
        }

        /// <summary>Undoes what the reader took since <paramref name="start"/> (a record the caller did not take).</summary>
        public void Unread(ReceiveBuffer buffer, int start)
        {
            buffer.Rewind(start);
            _scanned = 0;
            _found = -1;
        }

        /// <summary>The terminator's place relative to the buffer's start, or -1; remembers how far it searched.</summary>
        [MethodImpl(HotPath.Optimize)]
        private int Find(ReceiveBuffer buffer)
        {
            byte[] array = buffer.Array;
            int begin = buffer.Start;
            int end = buffer.End;
            int at = IndexOf(array, begin + _scanned, end, _terminator);
            while (at >= 0 && (at - begin) % _unit != 0)
            {
                // A match that straddles two characters (UTF-16, UTF-32) is not a terminator.
                at = IndexOf(array, at + 1, end, _terminator);
            }

            if (at < 0)
            {
                _scanned = Math.Max(0, end - begin - _terminator.Length + 1);
                return -1;
            }

            return at - begin;
        }

        private static int IndexOf(byte[] buffer, int start, int end, byte[] value)
        {
            if (buffer == null)
            {
                return -1;
            }

            while (start <= end - value.Length)
            {
                int at = Array.IndexOf(buffer, value[0], start, end - start - value.Length + 1);
                if (at < 0)
                {
                    return -1;
                }

                int i = 1;
                while (i < value.Length && buffer[at + i] == value[i])
                {
                    i++;
                }

                if (i == value.Length)
                {
                    return at;
                }

                start = at + 1;
            }

            return -1;
        }

        private static bool EndsWith(byte[] buffer, int start, int length, byte[] suffix)
        {
            if (length < suffix.Length)
            {
                return false;
            }

            for (int i = 0; i < suffix.Length; i++)
            {
                if (buffer[start + length - suffix.Length + i] != suffix[i])
                {
                    return false;
                }
            }

            return true;
        }
    }
}

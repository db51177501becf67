using System;
using System.IO;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>
    /// Sending and receiving. Receives on one socket are served one at a time, and so are sends (each under its own
    /// turn): several runspaces may share a socket, and nothing one call does touches another call's bytes.
    /// </summary>
    public sealed partial class NetSocket
    {
        private readonly Turn _receiveTurn = new Turn();
        private readonly Turn _sendTurn = new Turn();

        /// <summary>
        /// Waits for this socket's receive turn (receives run one at a time) within <paramref name="timeout"/>.
        /// </summary>
        internal Turn.Held EnterReceive(TimeSpan timeout, CancellationToken cancellationToken) =>
            _receiveTurn.Enter(timeout, cancellationToken, t => new SocketTimeoutException(SocketOperation.Receive, t, ToString(),
                "its turn did not come (another call on this socket was receiving all that time)"));

        /// <summary>Waits for this socket's send turn (sends run one at a time) within <paramref name="timeout"/>.</summary>
        internal Turn.Held EnterSend(TimeSpan timeout, CancellationToken cancellationToken) =>
            _sendTurn.Enter(timeout, cancellationToken, t => new SocketTimeoutException(SocketOperation.Send, t, ToString(),
                "its turn did not come (another call on this socket was sending all that time)"));

        /// <summary>For tests: takes and gives back the receive turn; false when another thread holds it.</summary>
        internal bool TryReceiveTurnForTest()
        {
            if (!_receiveTurn.TryEnter(out Turn.Held held))
            {
                return false;
            }

            held.Dispose();
            return true;
        }

        /// <summary>
        /// Takes both turns, receive then send, for an exchange (a request and its reply) that no other call may split.
        /// </summary>
        public IDisposable EnterExchange(TimeSpan timeout, CancellationToken cancellationToken)
        {
            Turn.Held receive = EnterReceive(timeout, cancellationToken);
            try
            {
                return new Exchange(receive, EnterSend(timeout, cancellationToken));
            }
            catch
            {
                receive.Dispose();
                throw;
            }
        }

        private sealed class Exchange : IDisposable
        {
            private Turn.Held _receive;
            private Turn.Held _send;
            private bool _done;

            public Exchange(Turn.Held receive, Turn.Held send)
            {
                _receive = receive;
                _send = send;
            }

            public void Dispose()
            {
                if (_done)
                {
                    return;
                }

                _done = true;
                _send.Dispose();
                _receive.Dispose();
            }
        }

        // Received bytes not yet handed out: _receiveBuffer[_pendingStart.._pendingEnd).
        private byte[] _receiveBuffer;
        private int _pendingStart;
        private int _pendingEnd;

        // A receive failure met while taking what had already arrived, reported by the next receive.
        private SocketError _deferredError;

        /// <summary>
        /// The largest byte array handed out per chunk when streaming to the end: below the large-object threshold, so
        /// a long stream of chunks recycles young-generation memory instead of touching fresh pages for every megabyte.
        /// </summary>
        internal const int ChunkObjectSize = 80 * 1024;

        /// <summary>The most bytes decoded into one string when streaming text to the end (a string under 85,000 bytes).</summary>
        internal const int TextChunkBytes = 40 * 1024;

        /// <summary>Bytes received from the network but not yet handed out.</summary>
        public int PendingBytes => _pendingEnd - _pendingStart;

        /// <summary>The size of the receive buffer the socket holds now (0: none), for tests of what a waiting call holds.</summary>
        internal int ReceiveBufferCapacity => _receiveBuffer?.Length ?? 0;

        /// <summary>Sends all of <paramref name="count"/> bytes; a partial send is continued, never dropped.</summary>
        [MethodImpl(HotPath.Optimize)]
        public void Send(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (buffer == null)
            {
                throw new ArgumentNullException(nameof(buffer));
            }

            if (offset < 0 || count < 0 || offset + count > buffer.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(count));
            }

            RequireState("send", "sending needs a connected socket (Connect-Socket or Receive-SocketConnection).", SocketState.Connected);
            using (EnterSend(timeout, cancellationToken))
            {
                long before = BytesSent;
                try
                {
                    SendCore(buffer, offset, count, timeout, cancellationToken);
                }
                catch (Exception e) when (TransferFacts.Record(e, TransferFacts.BytesSent, BytesSent - before))
                {
                    throw;
                }
            }
        }

        /// <summary>Sends all of <paramref name="count"/> bytes; the caller holds the send turn.</summary>
        [MethodImpl(HotPath.Optimize)]
        private void SendCore(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (_tls != null)
            {
                SendTlsInSlices(buffer, offset, count, timeout, cancellationToken);
                return;
            }

            while (count > 0)
            {
                int sent;
                SocketError error;
                try
                {
                    sent = SendSome(buffer, offset, count, out error);
                }
                catch (ObjectDisposedException)
                {
                    throw Closed("send");
                }

                if (error == SocketError.Success)
                {
                    offset += sent;
                    count -= sent;
                    Interlocked.Add(ref _bytesSent, sent);
                }
                else if (error == SocketError.WouldBlock)
                {
                    WaitReady(SelectMode.SelectWrite, Deadline.After(timeout), cancellationToken, SocketOperation.Send);
                }
                else
                {
                    throw new SocketException((int)error);
                }
            }
        }

        /// <summary>Sends a whole array.</summary>
        public void Send(byte[] buffer, TimeSpan timeout, CancellationToken cancellationToken) =>
            Send(buffer, 0, buffer?.Length ?? 0, timeout, cancellationToken);

        /// <summary>Streams <paramref name="source"/> to the peer in 1 MiB chunks; returns the bytes sent.</summary>
        [MethodImpl(HotPath.Optimize)]
        public long SendFrom(Stream source, TimeSpan timeout, CancellationToken cancellationToken, Action<long> progress = null)
        {
            RequireState("send", "sending needs a connected socket (Connect-Socket or Receive-SocketConnection).", SocketState.Connected);
            using (EnterSend(timeout, cancellationToken))
            {
                byte[] chunk = BufferPool.Rent();
                long total = 0;
                long before = BytesSent;
                try
                {
                    int read;
                    while ((read = source.Read(chunk, 0, chunk.Length)) > 0)
                    {
                        SendCore(chunk, 0, read, timeout, cancellationToken);
                        total += read;
                        progress?.Invoke(total);
                    }

                    return total;
                }
                catch (Exception e) when (TransferFacts.Record(e, TransferFacts.BytesSent, BytesSent - before))
                {
                    throw;
                }
                finally
                {
                    BufferPool.Return(chunk);
                }
            }
        }

        /// <summary>
        /// Receives up to <paramref name="count"/> chunks as byte arrays (count -1: until end of stream); each chunk is
        /// what one receive yields, up to 1 MiB. Returns the number of chunks.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        public int ReceiveChunks(int count, TimeSpan timeout, CancellationToken cancellationToken, Action<byte[]> onChunk)
        {
            RequireReceivable();
            using (EnterReceive(timeout, cancellationToken))
            {
                int chunks = 0;

                // Streaming to the end, a bulk stream (one that fills whole chunks) is received straight into the arrays
                // handed out; small messages go through the pooled buffer, so each costs an array of its own size only.
                bool bulk = false;
                try
                {
                    while (count < 0 || chunks < count)
                    {
                        if (bulk && PendingBytes == 0 && _tls == null)
                        {
                            byte[] direct = ReceiveDirect(timeout, cancellationToken);
                            if (direct == null)
                            {
                                break;
                            }

                            bulk = direct.Length == ChunkObjectSize;
                            chunks++;
                            onChunk(direct);
                            continue;
                        }

                        if (PendingBytes == 0)
                        {
                            int read = Fill(timeout, cancellationToken);
                            if (read == 0)
                            {
                                break;
                            }

                            bulk = count < 0 && read >= ChunkObjectSize;
                        }

                        var chunk = new byte[count < 0 ? Math.Min(PendingBytes, ChunkObjectSize) : PendingBytes];
                        Buffer.BlockCopy(_receiveBuffer, _pendingStart, chunk, 0, chunk.Length);
                        _pendingStart += chunk.Length;
                        chunks++;
                        onChunk(chunk);
                    }
                }
                finally
                {
                    Settle();
                }

                return chunks;
            }
        }

        /// <summary>
        /// Receives up to <paramref name="count"/> chunks as text (count -1: until end of stream). A character split
        /// across reads is held back until it is complete, so it always decodes correctly.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        public int ReceiveTextChunks(Encoding encoding, int count, TimeSpan timeout, CancellationToken cancellationToken, Action<string> onText)
        {
            RequireReceivable();
            encoding = encoding ?? TextEncoding.Default;
            using (EnterReceive(timeout, cancellationToken))
            {
                int chunks = 0;
                try
                {
                    while (count < 0 || chunks < count)
                    {
                        int available = count < 0 ? Math.Min(PendingBytes, TextChunkBytes) : PendingBytes;
                        int complete = TextEncoding.CompleteLength(encoding, _receiveBuffer, _pendingStart, available);

                        if (complete == 0)
                        {
                            if (Fill(timeout, cancellationToken) == 0)
                            {
                                if (PendingBytes > 0)
                                {
                                    // The stream ended inside a character: decode what is there (as replacement characters).
                                    string tail = encoding.GetString(_receiveBuffer, _pendingStart, PendingBytes);
                                    _pendingStart = _pendingEnd;
                                    chunks++;
                                    onText(tail);
                                }

                                break;
                            }

                            continue;
                        }

                        string text = encoding.GetString(_receiveBuffer, _pendingStart, complete);
                        _pendingStart += complete;
                        chunks++;
                        onText(text);
                    }
                }
                finally
                {
                    Settle();
                }

                return chunks;
            }
        }

        /// <summary>
        /// Receives exactly <paramref name="count"/> bytes, or fewer if the stream ends first. The result grows as data
        /// arrives (a peer that claims a large size costs what it sends, not what it claims). When the call fails (a
        /// timeout, Ctrl+C, a reset) the bytes it took stay in the socket's buffer for the next receive, and the
        /// exception says how many (<see cref="TransferFacts.BytesKept"/>).
        /// </summary>
        public byte[] ReceiveExactly(int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (count < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(count), count, "The byte count cannot be negative.");
            }

            RequireReceivable();
            using (EnterReceive(timeout, cancellationToken))
            {
                var result = new byte[Math.Min(count, Math.Max(ExactlyFirstSize, PendingBytes))];
                int have = 0;
                try
                {
                    int fromPending = Math.Min(PendingBytes, count);
                    if (fromPending > 0)
                    {
                        Buffer.BlockCopy(_receiveBuffer, _pendingStart, result, 0, fromPending);
                        _pendingStart += fromPending;
                        have = fromPending;
                    }

                    while (have < count)
                    {
                        if (have == result.Length)
                        {
                            // Grow as data arrives: doubling, up to the count asked for.
                            Array.Resize(ref result, (int)Math.Min(count, Math.Max(2L * result.Length, ExactlyFirstSize)));
                        }

                        int read = ReceiveRaw(result, have, result.Length - have, timeout, cancellationToken);
                        if (read == 0)
                        {
                            break;
                        }

                        have += read;
                    }
                }
                catch (Exception e) when (have > 0 && Keep(e, result, have, count))
                {
                    throw;
                }
                finally
                {
                    Settle();
                }

                if (have < result.Length)
                {
                    Array.Resize(ref result, have);
                }

                return result;
            }
        }

        /// <summary>The first allocation of a -ByteCount read; it doubles as data arrives.</summary>
        private const int ExactlyFirstSize = 64 * 1024;

        /// <summary>
        /// Puts the first <paramref name="have"/> bytes of a read that failed back in the receive buffer and records how
        /// many were kept of how many asked for. Returns false (an exception filter that does not catch).
        /// </summary>
        private bool Keep(Exception e, byte[] bytes, int have, long expected)
        {
            var kept = new byte[have];
            Buffer.BlockCopy(bytes, 0, kept, 0, have);
            PutBack(kept);
            TransferFacts.Record(e, TransferFacts.BytesKept, PendingBytes);
            TransferFacts.Record(e, TransferFacts.BytesExpected, expected);
            return false;
        }

        /// <summary>
        /// Receives up to <paramref name="count"/> records ended by <paramref name="delimiter"/> (count -1: until end of
        /// stream), without the terminator. With <paramref name="trimCarriageReturn"/>, a <c>\r</c> before the
        /// terminator is removed too (for lines). A final record without terminator is returned at end of stream. A
        /// record longer than <paramref name="maxRecordLength"/> throws <see cref="RecordTooLongException"/> and stays
        /// buffered, so nothing is lost. <paramref name="onDrained"/>, when given, is called each time the records
        /// received so far have all been handed out and more must be received (so a caller that batches records can
        /// pass on a batch before a wait). Without <paramref name="unterminatedLast"/>, bytes without a terminator at the
        /// end of the stream are not a record: they stay pending and are not counted.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        public int ReceiveRecords(Encoding encoding, string delimiter, bool trimCarriageReturn, int count, int maxRecordLength,
            TimeSpan timeout, CancellationToken cancellationToken, Action<byte[], int, int> onRecord, Action onDrained = null,
            bool unterminatedLast = true)
        {
            if (string.IsNullOrEmpty(delimiter))
            {
                throw new ArgumentException("The delimiter cannot be empty.", nameof(delimiter));
            }

            if (maxRecordLength < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(maxRecordLength), maxRecordLength, "The maximum record length must be positive.");
            }

            RequireReceivable();
            encoding = encoding ?? TextEncoding.Default;
            byte[] terminator = encoding.GetBytes(delimiter);
            byte[] carriageReturn = trimCarriageReturn ? encoding.GetBytes("\r") : null;
            int unit = TextEncoding.UnitSize(encoding);
            using (EnterReceive(timeout, cancellationToken))
            {
                int records = 0;
                try
                {
                    int scanned = 0;
                    while (count < 0 || records < count)
                    {
                        int at = IndexOf(_receiveBuffer, _pendingStart + scanned, _pendingEnd, terminator);
                        while (at >= 0 && (at - _pendingStart) % unit != 0)
                        {
                            // A match that straddles two characters (UTF-16, UTF-32) is not a terminator.
                            at = IndexOf(_receiveBuffer, at + 1, _pendingEnd, terminator);
                        }

                        if (at >= 0)
                        {
                            int length = at - _pendingStart;
                            int recordStart = _pendingStart;
                            _pendingStart = at + terminator.Length;
                            scanned = 0;
                            if (carriageReturn != null && EndsWith(_receiveBuffer, recordStart, length, carriageReturn))
                            {
                                length -= carriageReturn.Length;
                            }

                            if (length > maxRecordLength)
                            {
                                _pendingStart = recordStart;
                                throw new RecordTooLongException(maxRecordLength);
                            }

                            records++;
                            onRecord(_receiveBuffer, recordStart, length);
                            continue;
                        }

                        int pending = PendingBytes;
                        // The tail may hold the first bytes of a terminator (and a carriage return): they are not record.
                        if (pending - (carriageReturn?.Length ?? 0) - (terminator.Length - 1) > maxRecordLength)
                        {
                            throw new RecordTooLongException(maxRecordLength);
                        }

                        scanned = Math.Max(0, pending - terminator.Length + 1);
                        onDrained?.Invoke();
                        int room = maxRecordLength + terminator.Length + (carriageReturn?.Length ?? 0);
                        if (Fill(timeout, cancellationToken, room) == 0)
                        {
                            if (PendingBytes > 0 && unterminatedLast)
                            {
                                if (PendingBytes > maxRecordLength)
                                {
                                    // The last record has no terminator to take off: all of it counts.
                                    throw new RecordTooLongException(maxRecordLength);
                                }

                                int recordStart = _pendingStart;
                                int length = PendingBytes;
                                _pendingStart = _pendingEnd;
                                records++;
                                onRecord(_receiveBuffer, recordStart, length);
                            }

                            break;
                        }
                    }
                }
                finally
                {
                    Settle();
                }

                return records;
            }
        }

        /// <summary>
        /// Copies the stream to the destination that <paramref name="open"/> opens, until end of stream, or until
        /// <paramref name="maxBytes"/> bytes when it is not negative. Returns the bytes copied. The destination is opened
        /// only once there is something to write, or at a clean end of stream, so a receive that cannot start (a closed
        /// socket, a reset, a timeout) leaves an existing file as it was. A failed write puts the bytes it could not
        /// write back in the socket's buffer and cuts the destination back to what was written before, where it can;
        /// the exception carries <see cref="TransferFacts.BytesWritten"/> and <see cref="TransferFacts.BytesKept"/>.
        /// Memory use is one 1 MiB buffer whatever the size.
        /// </summary>
        public long ReceiveTo(Func<Stream> open, long maxBytes, TimeSpan timeout, CancellationToken cancellationToken, Action<long> progress = null) =>
            ReceiveTo(open ?? throw new ArgumentNullException(nameof(open)), owns: true, maxBytes, timeout, cancellationToken, progress);

        /// <summary>
        /// Copies the stream to <paramref name="destination"/>, which stays open (see the overload that opens its
        /// destination, for the rest).
        /// </summary>
        public long ReceiveTo(Stream destination, long maxBytes, TimeSpan timeout, CancellationToken cancellationToken, Action<long> progress = null)
        {
            if (destination == null)
            {
                throw new ArgumentNullException(nameof(destination));
            }

            return ReceiveTo(() => destination, owns: false, maxBytes, timeout, cancellationToken, progress);
        }

        [MethodImpl(HotPath.Optimize)]
        private long ReceiveTo(Func<Stream> open, bool owns, long maxBytes, TimeSpan timeout, CancellationToken cancellationToken, Action<long> progress)
        {
            RequireReceivable();
            using (EnterReceive(timeout, cancellationToken))
            {
                Stream destination = null;
                long total = 0;
                long limit = maxBytes < 0 ? long.MaxValue : maxBytes;
                byte[] chunk = null;
                try
                {
                    int fromPending = (int)Math.Min(PendingBytes, limit);
                    if (fromPending > 0)
                    {
                        destination = open();
                        WriteOrKeep(destination, _receiveBuffer, _pendingStart, fromPending, total, fromPendingBuffer: true);
                        _pendingStart += fromPending;
                        total = fromPending;
                        progress?.Invoke(total);
                    }

                    Settle();
                    while (total < limit)
                    {
                        if (chunk == null)
                        {
                            // Nothing is taken from the pool until data is there: a waiting call holds no large buffer.
                            WaitReadable(timeout, cancellationToken);
                            chunk = BufferPool.Rent();
                        }

                        int want = (int)Math.Min(chunk.Length, limit - total);
                        int read = ReceiveRaw(chunk, 0, want, timeout, cancellationToken);
                        if (read == 0)
                        {
                            break;
                        }

                        // Whatever else has already arrived goes into the same write: fewer, larger writes to the file.
                        read = TakeAvailable(chunk, read, want);
                        destination = destination ?? OpenKeeping(open, chunk, read);
                        WriteOrKeep(destination, chunk, 0, read, total, fromPendingBuffer: false);
                        total += read;
                        progress?.Invoke(total);
                    }

                    if (destination == null)
                    {
                        // A clean end of stream with nothing received: the destination is made, empty.
                        destination = open();
                    }

                    destination.Flush();
                    return total;
                }
                catch (Exception e) when (TransferFacts.Record(e, TransferFacts.BytesWritten, total))
                {
                    throw;
                }
                finally
                {
                    BufferPool.Return(chunk);
                    if (owns)
                    {
                        destination?.Dispose();
                    }
                }
            }
        }

        /// <summary>
        /// Writes received bytes to the destination. When the write fails, the bytes are kept in the socket's buffer
        /// (the next receive hands them out) and the destination is cut back to the <paramref name="written"/> bytes
        /// before them where it can be, so the file and the socket between them hold every byte exactly once.
        /// </summary>
        private void WriteOrKeep(Stream destination, byte[] buffer, int offset, int count, long written, bool fromPendingBuffer)
        {
            try
            {
                destination.Write(buffer, offset, count);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is NotSupportedException)
            {
                if (!fromPendingBuffer)
                {
                    var kept = new byte[count];
                    Buffer.BlockCopy(buffer, offset, kept, 0, count);
                    PutBack(kept);
                }

                TransferFacts.Record(e, TransferFacts.BytesKept, PendingBytes);
                try
                {
                    if (destination.CanSeek)
                    {
                        destination.SetLength(written);
                    }
                }
                catch (Exception cut) when (cut is IOException || cut is UnauthorizedAccessException || cut is NotSupportedException)
                {
                    // The destination cannot be cut back (a device): what it took of the failed write is unknown.
                }

                throw;
            }
        }

        /// <summary>Opens the destination; when that fails, the bytes already taken off the socket go back in its buffer.</summary>
        private Stream OpenKeeping(Func<Stream> open, byte[] chunk, int count)
        {
            try
            {
                return open();
            }
            catch (Exception e) when (Keep(e, chunk, count, count))
            {
                throw;
            }
        }

        /// <summary>
        /// Waits until the socket has something to read (data, end of stream or an error). Before it waits, the receive
        /// buffer is given back to the pool (or shrunk to the few bytes pending), so a call that waits for data holds no
        /// large buffer. For TLS, and when the end of stream or an error is already known, it returns at once.
        /// </summary>
        private void WaitReadable(TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (_tls != null || EndOfStream || _deferredError != SocketError.Success)
            {
                return;
            }

            bool ready;
            try
            {
                ready = _socket.Poll(0, SelectMode.SelectRead);
            }
            catch (ObjectDisposedException)
            {
                throw Closed("receive");
            }

            if (!ready)
            {
                Settle();
                WaitReady(SelectMode.SelectRead, Deadline.After(timeout), cancellationToken, SocketOperation.Receive);
            }
        }

        /// <summary>
        /// Receives one chunk into a new array of <see cref="ChunkObjectSize"/> bytes: waits for the first bytes, then takes
        /// what more is already there without waiting, and trims the array only when it is not full. Null at end of stream.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        private byte[] ReceiveDirect(TimeSpan timeout, CancellationToken cancellationToken)
        {
            WaitReadable(timeout, cancellationToken);
            byte[] chunk = BufferPool.AllocateUninitialized(ChunkObjectSize);
            int filled = ReceiveRaw(chunk, 0, chunk.Length, timeout, cancellationToken);
            if (filled == 0)
            {
                return null;
            }

            filled = TakeAvailable(chunk, filled, chunk.Length);
            if (filled < chunk.Length)
            {
                var trimmed = new byte[filled];
                Buffer.BlockCopy(chunk, 0, trimmed, 0, filled);
                chunk = trimmed;
            }

            return chunk;
        }

        /// <summary>
        /// Adds to <paramref name="buffer"/>, after its first <paramref name="filled"/> bytes and up to
        /// <paramref name="limit"/>, what has already arrived, without waiting. Returns the new fill; at end of stream
        /// <see cref="EndOfStream"/> is set and the bytes before it are kept. Not for TLS.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        private int TakeAvailable(byte[] buffer, int filled, int limit)
        {
            while (filled < limit && !EndOfStream && _tls == null)
            {
                int read = ReceiveOnce(buffer, filled, limit - filled, out SocketError error);
                if (error == SocketError.WouldBlock)
                {
                    break;
                }

                if (error != SocketError.Success)
                {
                    // The bytes already in the buffer are handed out first; the next receive reports the failure
                    // (the system reports a reset only once).
                    _deferredError = error;
                    break;
                }

                filled += read;
            }

            return filled;
        }

        /// <summary>
        /// One receive() without waiting. On success the bytes are counted, and 0 marks the end of the stream; otherwise
        /// <paramref name="error"/> says why (WouldBlock: nothing there yet).
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        private int ReceiveOnce(byte[] buffer, int offset, int count, out SocketError error)
        {
            int read;
            try
            {
                read = _socket.Receive(buffer, offset, count, SocketFlags.None, out error);
            }
            catch (ObjectDisposedException)
            {
                throw Closed("receive");
            }

            if (error == SocketError.Success)
            {
                if (read == 0)
                {
                    EndOfStream = true;
                }
                else
                {
                    Interlocked.Add(ref _bytesReceived, read);
                }
            }

            return read;
        }

        /// <summary>Receives into <paramref name="buffer"/> from the network; 0 means end of stream.</summary>
        [MethodImpl(HotPath.Optimize)]
        private int ReceiveRaw(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (_deferredError != SocketError.Success)
            {
                SocketError deferred = _deferredError;
                _deferredError = SocketError.Success;
                throw new SocketException((int)deferred);
            }

            if (EndOfStream)
            {
                return 0;
            }

            if (_tls != null)
            {
                return ReceiveTls(buffer, offset, count, timeout, cancellationToken);
            }

            Deadline deadline = default;
            bool waited = false;
            while (true)
            {
                int read = ReceiveOnce(buffer, offset, count, out SocketError error);
                if (error == SocketError.Success)
                {
                    return read;
                }

                if (error != SocketError.WouldBlock)
                {
                    throw new SocketException((int)error);
                }

                if (!waited)
                {
                    deadline = Deadline.After(timeout);
                    waited = true;
                }

                WaitReady(SelectMode.SelectRead, deadline, cancellationToken, SocketOperation.Receive);
            }
        }

        /// <summary>
        /// Receives more bytes after the pending ones, making room for a record of up to <paramref name="room"/> bytes.
        /// Returns the bytes added; 0 at end of stream.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        private int Fill(TimeSpan timeout, CancellationToken cancellationToken, int room = BufferPool.ChunkSize)
        {
            // Wait (with the buffer given back, or shrunk to what is pending) before taking a large one.
            WaitReadable(timeout, cancellationToken);
            int pending = PendingBytes;

            // The pooled chunk serves unless a record already fills half of it; then grow, up to the room a record may need.
            int size = pending < BufferPool.ChunkSize / 2 ? BufferPool.ChunkSize : Math.Max(BufferPool.ChunkSize, Math.Min(room, Math.Max(pending + 1, pending * 2)));
            if (_receiveBuffer == null || _receiveBuffer.Length < size)
            {
                byte[] bigger = size == BufferPool.ChunkSize ? BufferPool.Rent() : new byte[size];
                if (pending > 0)
                {
                    Buffer.BlockCopy(_receiveBuffer, _pendingStart, bigger, 0, pending);
                }

                BufferPool.Return(_receiveBuffer);
                _receiveBuffer = bigger;
                _pendingStart = 0;
                _pendingEnd = pending;
            }
            else if (_pendingStart > 0 && (pending == 0 || _receiveBuffer.Length - _pendingEnd < _receiveBuffer.Length / 4))
            {
                Buffer.BlockCopy(_receiveBuffer, _pendingStart, _receiveBuffer, 0, pending);
                _pendingStart = 0;
                _pendingEnd = pending;
            }

            int read = ReceiveRaw(_receiveBuffer, _pendingEnd, _receiveBuffer.Length - _pendingEnd, timeout, cancellationToken);
            _pendingEnd += read;
            return read;
        }

        /// <summary>Hands the large receive buffer back when little or nothing is pending, so idle sockets stay small.</summary>
        private void Settle()
        {
            int pending = PendingBytes;
            if (_receiveBuffer == null || _receiveBuffer.Length <= 4096)
            {
                return;
            }

            if (pending == 0)
            {
                ReleaseReceiveBuffer();
            }
            else if (pending <= 4096)
            {
                var small = new byte[4096];
                Buffer.BlockCopy(_receiveBuffer, _pendingStart, small, 0, pending);
                BufferPool.Return(_receiveBuffer);
                _receiveBuffer = small;
                _pendingStart = 0;
                _pendingEnd = pending;
            }
        }

        private void ReleaseReceiveBuffer()
        {
            BufferPool.Return(_receiveBuffer);
            _receiveBuffer = null;
            _pendingStart = 0;
            _pendingEnd = 0;
        }

        private void RequireReceivable() =>
            RequireState("receive", "receiving needs a connected socket (Connect-Socket or Receive-SocketConnection).", SocketState.Connected, SocketState.HalfClosed);

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

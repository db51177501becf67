using System;
using System.IO;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>
    /// Receiving on a stream socket: chunks, text, counted reads and records, each under the receive turn, taken from
    /// the receive buffer (<see cref="ReceiveBuffer"/>) that the transport fills.
    /// </summary>
    public sealed partial class NetSocket
    {
        /// <summary>
        /// The largest byte array handed out per chunk when streaming to the end: below the large-object threshold, so
        /// a long stream of chunks recycles young-generation memory instead of touching fresh pages for every megabyte.
        /// </summary>
        internal const int ChunkObjectSize = 80 * 1024;

        /// <summary>The most bytes decoded into one string when streaming text to the end (a string under 85,000 bytes).</summary>
        internal const int TextChunkBytes = 40 * 1024;

        /// <summary>
        /// Receives up to <paramref name="count"/> chunks as byte arrays (count -1: until end of stream); each chunk is
        /// what one receive yields, up to 1 MiB. Returns the number of chunks.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        internal int ReceiveChunks(int count, TimeSpan timeout, CancellationToken cancellationToken, Action<byte[]> onChunk)
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
                        if (bulk && PendingBytes == 0 && _transport.TakesWithoutWaiting)
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
                        _inbox.Take(chunk, 0, chunk.Length);
                        chunks++;
                        onChunk(chunk);
                    }
                }
                finally
                {
                    _inbox.Settle();
                }

                return chunks;
            }
        }

        /// <summary>
        /// Receives up to <paramref name="count"/> chunks as text (count -1: until end of stream). A character split
        /// across reads is held back until it is complete, so it always decodes correctly.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        internal int ReceiveTextChunks(Encoding encoding, int count, TimeSpan timeout, CancellationToken cancellationToken, Action<string> onText)
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
                        string text = TextDecoder.TakeComplete(_inbox, encoding, count < 0 ? TextChunkBytes : int.MaxValue);
                        if (text == null)
                        {
                            if (Fill(timeout, cancellationToken) == 0)
                            {
                                // The stream ended inside a character: decode what is there (as replacement characters).
                                string tail = TextDecoder.TakeRest(_inbox, encoding);
                                if (tail != null)
                                {
                                    chunks++;
                                    onText(tail);
                                }

                                break;
                            }

                            continue;
                        }

                        chunks++;
                        onText(text);
                    }
                }
                finally
                {
                    _inbox.Settle();
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
        internal byte[] ReceiveExactly(int count, TimeSpan timeout, CancellationToken cancellationToken)
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
                    have = _inbox.Take(result, 0, Math.Min(PendingBytes, count));

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
                    _inbox.Settle();
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
            _inbox.PutBack(kept);
            TransferFacts.Record(e, TransferFacts.BytesKept, PendingBytes);
            TransferFacts.Record(e, TransferFacts.BytesExpected, expected);
            return false;
        }

        /// <summary>
        /// Receives up to <paramref name="count"/> records ended by <paramref name="delimiter"/> (count -1: until end of
        /// stream), without the terminator; a final record without terminator is handed out at end of stream. See the
        /// overload that takes a <see cref="RecordHandler"/> for the rest.
        /// </summary>
        internal int ReceiveRecords(Encoding encoding, string delimiter, bool trimCarriageReturn, int count, int maxRecordLength,
            TimeSpan timeout, CancellationToken cancellationToken, Action<byte[], int, int> onRecord)
        {
            if (onRecord == null)
            {
                throw new ArgumentNullException(nameof(onRecord));
            }

            return ReceiveRecords(new RecordReader(encoding, delimiter, trimCarriageReturn, maxRecordLength), count, timeout, cancellationToken,
                (buffer, offset, length, flags) =>
                {
                    onRecord(buffer, offset, length);
                    return true;
                });
        }

        /// <summary>
        /// Receives up to <paramref name="count"/> records that <paramref name="reader"/> cuts (count -1: until end of
        /// stream). Each goes to <paramref name="onRecord"/> with what the reader knows of it: whether another whole
        /// record is already buffered, and whether it is the unterminated end of the stream. A record the handler does
        /// not take stays buffered, uncounted, and the call ends. A record longer than the reader's limit throws
        /// <see cref="RecordTooLongException"/> and stays buffered, so nothing is lost. Returns the records taken.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        internal int ReceiveRecords(RecordReader reader, int count, TimeSpan timeout, CancellationToken cancellationToken, RecordHandler onRecord)
        {
            RequireReceivable();
            using (EnterReceive(timeout, cancellationToken))
            {
                int records = 0;
                try
                {
                    while (count < 0 || records < count)
                    {
                        if (reader.Next(_inbox, out int start, out int length))
                        {
                            RecordFlags flags = reader.HasRecord(_inbox) ? RecordFlags.MoreBuffered : RecordFlags.None;
                            if (!onRecord(_inbox.Array, start, length, flags))
                            {
                                reader.Unread(_inbox, start);
                                break;
                            }

                            records++;
                            continue;
                        }

                        if (Fill(timeout, cancellationToken, reader.Room) == 0)
                        {
                            if (reader.Last(_inbox, out start, out length) && onRecord(_inbox.Array, start, length, RecordFlags.Unterminated))
                            {
                                _inbox.ConsumeAll();
                                records++;
                            }

                            break;
                        }
                    }
                }
                finally
                {
                    _inbox.Settle();
                }

                return records;
            }
        }
    }
}

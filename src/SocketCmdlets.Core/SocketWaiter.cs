using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>select()/poll() over several sockets, in short slices so cancellation is seen promptly.</summary>
    internal static class SocketWaiter
    {
        private const int TlsSliceMilliseconds = 10;

        /// <summary>
        /// Waits until at least one socket is readable (data, buffered data, end of stream, or a pending connection on
        /// a listener) or writable, as asked, and returns those that are; an empty list when the timeout passes.
        /// Closed sockets, and stream sockets neither connected nor listening, are left out (see <paramref name="onClosed"/>).
        /// </summary>
        public static IList<NetSocket> Wait(IEnumerable<NetSocket> sockets, bool read, bool write, TimeSpan timeout, CancellationToken cancellationToken, Action<NetSocket> onClosed = null)
        {
            if (!read && !write)
            {
                read = true;
            }

            var open = new List<NetSocket>();
            foreach (NetSocket socket in (sockets ?? Enumerable.Empty<NetSocket>()).Where(s => s != null).Distinct())
            {
                if (socket.State == SocketState.Closed || (socket.State == SocketState.Created && socket.Protocol == SocketProtocol.Tcp))
                {
                    // A closed socket, or a stream socket neither connected nor listening, can never become ready.
                    onClosed?.Invoke(socket);
                }
                else
                {
                    open.Add(socket);
                }
            }

            var ready = new List<NetSocket>();
            if (open.Count == 0)
            {
                return ready;
            }

            Deadline deadline = Deadline.After(timeout);
            bool checkedOnce = false;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();

                // Bytes the engine already holds, or an end of stream already seen, make a socket readable at once.
                // Over TLS raw readability says nothing (a TLS 1.3 session ticket has no data for the caller): a read is
                // started and its completion watched, in slices of at most 10 ms.
                var buffered = read ? open.Where(s => s.IsEncrypted ? s.TlsReceiveReady() : s.PendingBytes > 0 || s.EndOfStream).ToList() : new List<NetSocket>();
                bool watchingTls = read && open.Any(s => s.IsEncrypted);
                int slice = buffered.Count > 0 ? 0 : deadline.NextSliceMilliseconds();
                if (watchingTls && slice > TlsSliceMilliseconds)
                {
                    slice = TlsSliceMilliseconds;
                }

                if (slice < 0)
                {
                    if (checkedOnce)
                    {
                        return ready;
                    }

                    // A zero timeout still looks once (a poll).
                    slice = 0;
                }

                checkedOnce = true;
                var byRaw = new Dictionary<Socket, NetSocket>();
                foreach (NetSocket s in open)
                {
                    byRaw[s.Socket] = s;
                }

                List<Socket> readList = read ? byRaw.Where(p => !p.Value.IsEncrypted).Select(p => p.Key).ToList() : null;
                List<Socket> writeList = write ? byRaw.Keys.ToList() : null;
                bool disposed = false;
                try
                {
                    if ((readList?.Count ?? 0) + (writeList?.Count ?? 0) > 0)
                    {
                        Socket.Select(readList, writeList, null, slice * 1000);
                    }
                    else if (slice > 0)
                    {
                        // Only TLS sockets to watch: wait out the slice (Ctrl+C ends it).
                        cancellationToken.WaitHandle.WaitOne(slice);
                    }
                }
                catch (ObjectDisposedException)
                {
                    // A socket was closed while we waited: the lists say nothing; look again without it.
                    disposed = true;
                }

                var hits = new HashSet<NetSocket>();
                if (!disposed)
                {
                    hits.UnionWith(buffered);
                    foreach (Socket raw in (readList ?? new List<Socket>()).Concat(writeList ?? new List<Socket>()))
                    {
                        hits.Add(byRaw[raw]);
                    }
                }

                // A socket closed during the wait is not ready: report it and watch the others.
                foreach (NetSocket closed in open.Where(s => s.State == SocketState.Closed).ToList())
                {
                    open.Remove(closed);
                    hits.Remove(closed);
                    onClosed?.Invoke(closed);
                }

                if (open.Count == 0)
                {
                    return ready;
                }

                if (hits.Count > 0)
                {
                    // Keep the caller's order.
                    ready.AddRange(open.Where(hits.Contains));
                    return ready;
                }
            }
        }
    }
}

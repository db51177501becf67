using System.Collections.Concurrent;
using System.Linq;

namespace SocketCmdlets
{
    /// <summary>
    /// The process-wide list of open sockets. Thread-safe: sockets travel between runspaces.
    /// </summary>
    internal static class SocketRegistry
    {
        private static readonly ConcurrentDictionary<int, NetSocket> s_open = new ConcurrentDictionary<int, NetSocket>();

        /// <summary>The open sockets, ordered by id (a copy, safe to enumerate while sockets close).</summary>
        public static NetSocket[] Snapshot() => s_open.Values.OrderBy(s => s.Id).ToArray();

        /// <summary>The open socket with this id, or null.</summary>
        public static NetSocket Find(int id) => s_open.TryGetValue(id, out NetSocket socket) ? socket : null;

        /// <summary>The number of open sockets.</summary>
        public static int Count => s_open.Count;

        /// <summary>Closes every open socket.</summary>
        public static void CloseAll()
        {
            foreach (NetSocket socket in Snapshot())
            {
                socket.Close();
            }
        }

        /// <summary>Closes every open socket whose <see cref="NetSocket.Owner"/> equals <paramref name="owner"/>.</summary>
        public static void CloseOwnedBy(object owner)
        {
            foreach (NetSocket socket in Snapshot())
            {
                if (Equals(socket.Owner, owner))
                {
                    socket.Close();
                }
            }
        }

        internal static void Add(NetSocket socket) => s_open[socket.Id] = socket;

        internal static void Remove(NetSocket socket) => s_open.TryRemove(socket.Id, out _);
    }
}

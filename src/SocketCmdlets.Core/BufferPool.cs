using System.Threading;

namespace SocketCmdlets
{
    /// <summary>
    /// A few reusable 1 MiB transfer buffers. Bulk paths rent one per transfer, so a long copy allocates nothing
    /// per chunk and an idle socket holds no buffer at all.
    /// </summary>
    internal static class BufferPool
    {
        /// <summary>The size of every transfer buffer: large enough for loopback line rate, and not 64 KiB.</summary>
        public const int ChunkSize = 1024 * 1024;

        private static readonly byte[][] s_slots = new byte[4][];

        public static byte[] Rent()
        {
            for (int i = 0; i < s_slots.Length; i++)
            {
                byte[] buffer = Interlocked.Exchange(ref s_slots[i], null);
                if (buffer != null)
                {
                    return buffer;
                }
            }

            return new byte[ChunkSize];
        }

        public static void Return(byte[] buffer)
        {
            if (buffer == null || buffer.Length != ChunkSize)
            {
                return;
            }

            for (int i = 0; i < s_slots.Length; i++)
            {
                if (Interlocked.CompareExchange(ref s_slots[i], buffer, null) == null)
                {
                    return;
                }
            }
        }
    }
}

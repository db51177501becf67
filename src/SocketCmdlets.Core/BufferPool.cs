using System;
using System.Reflection;
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

        // GC.AllocateUninitializedArray<byte> (.NET 5 and later) skips zeroing memory that a receive overwrites at once;
        // netstandard2.0 cannot name it, so it is bound at run time, with new byte[] where it does not exist.
        private static readonly Func<int, bool, byte[]> s_allocateUninitialized = BindAllocateUninitialized();

        /// <summary>A new array whose contents are undefined: for callers that overwrite every byte they hand out.</summary>
        public static byte[] AllocateUninitialized(int length) =>
            s_allocateUninitialized != null ? s_allocateUninitialized(length, false) : new byte[length];

        private static Func<int, bool, byte[]> BindAllocateUninitialized()
        {
            try
            {
                MethodInfo method = typeof(GC).GetMethod("AllocateUninitializedArray", BindingFlags.Public | BindingFlags.Static);
                return (Func<int, bool, byte[]>)method?.MakeGenericMethod(typeof(byte)).CreateDelegate(typeof(Func<int, bool, byte[]>));
            }
            catch (Exception e) when (e is ArgumentException || e is InvalidOperationException || e is MemberAccessException)
            {
                return null;
            }
        }

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

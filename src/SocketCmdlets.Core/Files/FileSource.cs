using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>
    /// Opens a file to send, so that neither the open nor a read can block beyond Ctrl+C: opening a FIFO (named pipe)
    /// for reading blocks in open() until a writer comes, and reading one blocks until its writer writes.
    /// </summary>
    internal static class FileSource
    {
        /// <summary>How long a released open or read may take to come back before its thread is given up on.</summary>
        private const int ReleaseMilliseconds = 5000;

        /// <summary>
        /// Opens <paramref name="path"/> for reading. The open runs on a thread of its own, waited for in short slices;
        /// on cancellation a FIFO's blocked open is released by opening its write end, and the opened stream is closed.
        /// A file that cannot seek (FIFO, character device) comes back wrapped so that each read is cancellable too.
        /// </summary>
        /// <exception cref="PathIsDirectoryException">The path is a directory.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public static Stream OpenRead(string path, CancellationToken cancellationToken)
        {
            if (Directory.Exists(path))
            {
                throw new PathIsDirectoryException(path);
            }

            Task<FileStream> open = Task.Factory.StartNew(
                () => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            try
            {
                Deadline.After(Timeout.InfiniteTimeSpan).Wait(open, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Release(path, open);

                // Closes the stream once the open is over, now or, were it still blocked, whenever it ends.
                open.ContinueWith(t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw;
            }

            FileStream stream = open.GetAwaiter().GetResult();
            return stream.CanSeek ? (Stream)stream : new CancellableReadStream(stream, path, cancellationToken);
        }

        /// <summary>
        /// Releases a thread blocked opening or reading a FIFO: opening its write end completes a pending open (a reader
        /// and a writer have met), and one byte written completes a pending read (the byte is dropped with the stream).
        /// Waits, bounded, for the thread to come back.
        /// </summary>
        internal static void Release(string path, Task blocked, bool writeOneByte = false)
        {
            if (blocked.IsCompleted)
            {
                return;
            }

            // The write end is opened on a thread too: were the reader gone after all, the open would block in turn.
            Task release = Task.Factory.StartNew(() =>
            {
                using (var writer = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1))
                {
                    if (writeOneByte)
                    {
                        writer.WriteByte(0);
                    }
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            try
            {
                Task.WaitAll(new[] { blocked, release }, ReleaseMilliseconds);
            }
            catch (AggregateException)
            {
                // The open or read failed, or the write end could not be opened (no right to write): either way the
                // blocked call is over or cannot be helped; its own exception is not the caller's concern.
            }

            Observe(release);
            Observe(blocked);
        }

        private static void Observe(Task task) =>
            task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        /// <summary>
        /// Reads a stream that cannot seek (a FIFO) on a worker thread into a buffer of its own, waited for in slices,
        /// so a silent writer cannot hold Ctrl+C; the caller's buffer is only written by the caller's thread.
        /// </summary>
        private sealed class CancellableReadStream : Stream
        {
            private readonly FileStream _inner;
            private readonly string _path;
            private readonly CancellationToken _cancellationToken;
            private readonly byte[] _chunk = new byte[64 * 1024];
            private Task<int> _pending;

            public CancellableReadStream(FileStream inner, string path, CancellationToken cancellationToken)
            {
                _inner = inner;
                _path = path;
                _cancellationToken = cancellationToken;
            }

            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => false;

            public override long Length => throw new NotSupportedException();

            public override long Position
            {
                get => throw new NotSupportedException();
                set => throw new NotSupportedException();
            }

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (count <= 0)
                {
                    return 0;
                }

                int want = Math.Min(count, _chunk.Length);
                Task<int> read = _pending = Task.Run(() => _inner.Read(_chunk, 0, want));
                try
                {
                    Deadline.After(Timeout.InfiniteTimeSpan).Wait(read, _cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    Release(_path, read, writeOneByte: true);
                    throw;
                }

                _pending = null;
                int n = read.GetAwaiter().GetResult();
                Buffer.BlockCopy(_chunk, 0, buffer, offset, n);
                return n;
            }

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    Task<int> pending = _pending;
                    if (pending != null && !pending.IsCompleted)
                    {
                        Release(_path, pending, writeOneByte: true);
                    }

                    _inner.Dispose();
                }

                base.Dispose(disposing);
            }

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}

using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>A fact that needs FIFOs (mkfifo): skipped, with the reason, where there are none.</summary>
    public sealed class FifoFactAttribute : FactAttribute
    {
        public FifoFactAttribute()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows) || !File.Exists("/usr/bin/mkfifo"))
            {
                Skip = "needs mkfifo (coreutils) and FIFOs, which Windows does not have";
            }
        }
    }

    public sealed class FileSourceTests : IDisposable
    {
        private readonly string _folder = Path.Combine(Path.GetTempPath(), "sc-filesource-" + Guid.NewGuid().ToString("N"));

        public FileSourceTests() => Directory.CreateDirectory(_folder);

        public void Dispose() => Directory.Delete(_folder, true);

        [Fact]
        public void A_directory_is_PathIsDirectory()
        {
            var e = Assert.Throws<PathIsDirectoryException>(() => FileSource.OpenRead(_folder, CancellationToken.None));
            Assert.Equal(_folder, e.Path);
        }

        [Fact]
        public void A_missing_file_is_FileNotFound()
        {
            Assert.Throws<FileNotFoundException>(() => FileSource.OpenRead(Path.Combine(_folder, "missing"), CancellationToken.None));
        }

        [Fact]
        public void A_regular_file_opens_seekable_with_its_bytes()
        {
            string path = Path.Combine(_folder, "file.bin");
            File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
            using (Stream stream = FileSource.OpenRead(path, CancellationToken.None))
            {
                Assert.True(stream.CanSeek);
                Assert.Equal(3, stream.Length);
                var buffer = new byte[8];
                Assert.Equal(3, stream.Read(buffer, 0, buffer.Length));
            }
        }

        [FifoFact]
        public void A_FIFO_without_a_writer_gives_way_to_cancellation_and_leaves_no_reader()
        {
            string fifo = MakeFifo();
            using (var cancel = new CancellationTokenSource(300))
            {
                Task open = Task.Run(() => FileSource.OpenRead(fifo, cancel.Token));
                Assert.IsAssignableFrom<OperationCanceledException>(Ended(open));
            }

            // No reader is left in open(): a writer now waits in turn, until timeout(1) ends it with 124.
            using (Process writer = Start("timeout", "1", "sh", "-c", $"echo x > '{fifo}'"))
            {
                Assert.True(writer.WaitForExit(10000));
                Assert.Equal(124, writer.ExitCode);
            }
        }

        [FifoFact]
        public void A_FIFO_is_read_to_the_end_its_writer_makes()
        {
            string fifo = MakeFifo();
            using (Process writer = Start("sh", "-c", $"printf 'through the fifo' > '{fifo}'"))
            using (Stream stream = FileSource.OpenRead(fifo, CancellationToken.None))
            {
                Assert.False(stream.CanSeek);
                var all = new MemoryStream();
                stream.CopyTo(all);
                Assert.Equal("through the fifo", Encoding.ASCII.GetString(all.ToArray()));
                Assert.True(writer.WaitForExit(10000));
            }
        }

        [FifoFact]
        public void A_read_of_a_silent_FIFO_writer_gives_way_to_cancellation()
        {
            string fifo = MakeFifo();
            using (Process writer = Start("sh", "-c", $"exec 3>'{fifo}'; exec sleep 60"))
            {
                try
                {
                    using (var cancel = new CancellationTokenSource())
                    using (Stream stream = FileSource.OpenRead(fifo, cancel.Token))
                    {
                        Task<int> read = Task.Run(() => stream.Read(new byte[16], 0, 16));
                        Assert.False(((IAsyncResult)read).AsyncWaitHandle.WaitOne(300), "the read should wait for the silent writer");
                        cancel.Cancel();
                        Assert.IsAssignableFrom<OperationCanceledException>(Ended(read));
                    }
                }
                finally
                {
                    writer.Kill();
                    writer.WaitForExit(5000);
                }
            }
        }

        /// <summary>Waits (bounded) for a task to end and returns the exception it ended with (null: none).</summary>
        private static Exception Ended(Task task)
        {
            Assert.True(((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(15)), "the call did not give way to cancellation");
            return task.Exception?.GetBaseException();
        }

        private string MakeFifo()
        {
            string path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".fifo");
            using (Process mkfifo = Start("mkfifo", path))
            {
                Assert.True(mkfifo.WaitForExit(10000));
                Assert.Equal(0, mkfifo.ExitCode);
            }

            return path;
        }

        private static Process Start(string file, params string[] arguments)
        {
            // Arguments as one string (ArgumentList is not in .NET Framework, which this project may also target).
            string line = string.Join(" ", Array.ConvertAll(arguments, a => "\"" + a.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\""));
            return Process.Start(new ProcessStartInfo(file, line) { UseShellExecute = false });
        }
    }
}

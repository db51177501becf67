using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace SocketBench
{
    /// <summary>What one raw transfer did: bytes (and lines) moved and the time it took.</summary>
    public sealed class TransferResult
    {
        public long Bytes { get; set; }
        public long Lines { get; set; }
        public double Seconds { get; set; }

        /// <summary>The <see cref="Stopwatch"/> timestamp at which the transfer ended (the last byte was read).</summary>
        public long EndTimestamp { get; set; }
    }

    /// <summary>Loopback helpers. Every socket here is IPv4 127.0.0.1 and every blocking call has a timeout.</summary>
    public static class Loopback
    {
        public static Socket Listen(int backlog = 512)
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                listener.Listen(backlog);
                return listener;
            }
            catch
            {
                listener.Dispose();
                throw;
            }
        }

        public static int PortOf(Socket socket) => ((IPEndPoint)socket.LocalEndPoint).Port;

        /// <summary>A port that was free a moment ago (for programs such as iperf3 that need one named).</summary>
        public static int FreePort()
        {
            using (Socket probe = Listen(1))
            {
                return PortOf(probe);
            }
        }

        public static Socket Connect(int port, int timeoutMs)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                IAsyncResult pending = client.BeginConnect(new IPEndPoint(IPAddress.Loopback, port), null, null);
                if (!pending.AsyncWaitHandle.WaitOne(timeoutMs))
                {
                    throw new TimeoutException($"Connecting to 127.0.0.1:{port} took longer than {timeoutMs} ms.");
                }

                client.EndConnect(pending);
                SetTimeouts(client, timeoutMs);
                return client;
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }

        /// <summary>Accepts one connection, waiting at most <paramref name="timeoutMs"/>.</summary>
        public static Socket Accept(Socket listener, int timeoutMs)
        {
            if (!listener.Poll(checked(timeoutMs * 1000), SelectMode.SelectRead))
            {
                throw new TimeoutException($"No connection arrived within {timeoutMs} ms.");
            }

            Socket accepted = listener.Accept();
            SetTimeouts(accepted, timeoutMs);
            return accepted;
        }

        public static void SetTimeouts(Socket socket, int timeoutMs)
        {
            socket.SendTimeout = timeoutMs;
            socket.ReceiveTimeout = timeoutMs;
        }

        public static void SendAll(Socket socket, byte[] buffer, int offset, int count)
        {
            while (count > 0)
            {
                int sent = socket.Send(buffer, offset, count, SocketFlags.None);
                offset += sent;
                count -= sent;
            }
        }

        /// <summary>
        /// Sends <paramref name="total"/> bytes of <paramref name="data"/> in writes of up to <paramref name="writeSize"/>,
        /// wrapping around to its start, then shuts down the sending side.
        /// </summary>
        public static void SendRepeating(Socket socket, byte[] data, long total, int writeSize)
        {
            long left = total;
            int at = 0;
            while (left > 0)
            {
                int n = (int)Math.Min(Math.Min(writeSize, left), data.Length - at);
                SendAll(socket, data, at, n);
                left -= n;
                at = (at + n) % data.Length;
            }

            socket.Shutdown(SocketShutdown.Send);
        }

        /// <summary>
        /// Round trips of <paramref name="size"/> bytes with the echo server at <paramref name="port"/> (NoDelay), after
        /// <paramref name="warmUp"/> untimed ones; returns microseconds per round trip. The loop is C#, so the figure is
        /// the path's (client, forwarder, echo server), not the PowerShell interpreter's.
        /// </summary>
        public static double PingPong(int port, int size, int warmUp, int count, int timeoutMs)
        {
            using (Socket s = Connect(port, timeoutMs))
            {
                s.NoDelay = true;
                var request = new byte[size];
                var reply = new byte[size];
                var clock = new System.Diagnostics.Stopwatch();
                for (int i = 0; i < warmUp + count; i++)
                {
                    if (i == warmUp)
                    {
                        clock.Start();
                    }

                    SendAll(s, request, 0, size);
                    int got = 0;
                    while (got < size)
                    {
                        int more = s.Receive(reply, got, size - got, SocketFlags.None);
                        if (more == 0)
                        {
                            throw new InvalidOperationException("The echo server closed.");
                        }

                        got += more;
                    }
                }

                return clock.Elapsed.TotalMilliseconds * 1000.0 / count;
            }
        }

        internal static void Join(Thread thread, int timeoutMs, string what)
        {
            if (!thread.Join(timeoutMs))
            {
                throw new TimeoutException($"{what} was still running after {timeoutMs} ms.");
            }
        }
    }

    /// <summary>The raw .NET baselines of the bulk scenarios: a sender thread and a receiver loop, 1 MiB buffers.</summary>
    public static class RawBulk
    {
        /// <summary>
        /// Sends <paramref name="total"/> bytes of <paramref name="source"/> (in <paramref name="bufferSize"/> slices,
        /// wrapping around) over a loopback connection and receives them into one buffer that is thrown away. The clock
        /// runs from the sender's start to the receiver's end of stream; the connection is made before.
        /// </summary>
        public static TransferResult SocketPair(byte[] source, long total, int bufferSize, int timeoutMs)
        {
            using (Socket listener = Loopback.Listen(1))
            using (Socket client = Loopback.Connect(Loopback.PortOf(listener), timeoutMs))
            using (Socket server = Loopback.Accept(listener, timeoutMs))
            {
                Exception failure = null;
                var sender = new Thread(() =>
                {
                    try
                    {
                        Loopback.SendRepeating(client, source, total, bufferSize);
                    }
                    catch (Exception e)
                    {
                        failure = e;
                    }
                }) { IsBackground = true, Name = "raw bulk sender" };

                var buffer = new byte[bufferSize];
                var clock = Stopwatch.StartNew();
                sender.Start();
                long received = 0;
                int read;
                while ((read = server.Receive(buffer, 0, buffer.Length, SocketFlags.None)) > 0)
                {
                    received += read;
                }

                clock.Stop();
                Loopback.Join(sender, timeoutMs, "The raw sender");
                if (failure != null)
                {
                    throw new InvalidOperationException("The raw sender failed: " + failure.Message, failure);
                }

                return new TransferResult { Bytes = received, Seconds = clock.Elapsed.TotalSeconds, EndTimestamp = Stopwatch.GetTimestamp() };
            }
        }

        /// <summary>
        /// FileStream -> socket -> socket -> FileStream with <paramref name="bufferSize"/> buffers (unbuffered streams,
        /// sequential scan, as the module opens its files). The clock runs from the sender's start to the destination
        /// file being closed.
        /// </summary>
        public static TransferResult FilePair(string sourcePath, string destinationPath, int bufferSize, int timeoutMs)
        {
            using (Socket listener = Loopback.Listen(1))
            using (Socket client = Loopback.Connect(Loopback.PortOf(listener), timeoutMs))
            using (Socket server = Loopback.Accept(listener, timeoutMs))
            {
                Exception failure = null;
                var sender = new Thread(() =>
                {
                    try
                    {
                        var chunk = new byte[bufferSize];
                        using (var file = new FileStream(sourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
                        {
                            int n;
                            while ((n = file.Read(chunk, 0, chunk.Length)) > 0)
                            {
                                Loopback.SendAll(client, chunk, 0, n);
                            }
                        }

                        client.Shutdown(SocketShutdown.Send);
                    }
                    catch (Exception e)
                    {
                        failure = e;
                    }
                }) { IsBackground = true, Name = "raw file sender" };

                var buffer = new byte[bufferSize];
                var clock = Stopwatch.StartNew();
                sender.Start();
                long received = 0;
                using (var file = new FileStream(destinationPath, FileMode.Create, FileAccess.Write, FileShare.Read, 1, FileOptions.SequentialScan))
                {
                    int read;
                    while ((read = server.Receive(buffer, 0, buffer.Length, SocketFlags.None)) > 0)
                    {
                        file.Write(buffer, 0, read);
                        received += read;
                    }
                }

                clock.Stop();
                Loopback.Join(sender, timeoutMs, "The raw file sender");
                if (failure != null)
                {
                    throw new InvalidOperationException("The raw file sender failed: " + failure.Message, failure);
                }

                return new TransferResult { Bytes = received, Seconds = clock.Elapsed.TotalSeconds, EndTimestamp = Stopwatch.GetTimestamp() };
            }
        }

        /// <summary>Receives until end of stream into a file with one <paramref name="bufferSize"/> buffer (the memory baseline).</summary>
        public static long ReceiveToFile(Socket socket, string path, int bufferSize)
        {
            var buffer = new byte[bufferSize];
            long total = 0;
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1, FileOptions.SequentialScan))
            {
                int read;
                while ((read = socket.Receive(buffer, 0, buffer.Length, SocketFlags.None)) > 0)
                {
                    file.Write(buffer, 0, read);
                    total += read;
                }
            }

            return total;
        }
    }

    /// <summary>
    /// An echo server on 127.0.0.1: one thread accepts, one thread per connection writes back what it reads. The same
    /// server answers the cmdlets and the raw calls in the round-trip scenario.
    /// </summary>
    public sealed class EchoServer : IDisposable
    {
        private const int StopCheckMs = 200;
        private readonly Socket _listener;
        private readonly Thread _acceptor;
        private readonly List<Socket> _connections = new List<Socket>();
        private readonly List<Thread> _workers = new List<Thread>();
        private volatile bool _stopping;

        private EchoServer()
        {
            _listener = Loopback.Listen(64);
            Port = Loopback.PortOf(_listener);
            _acceptor = new Thread(AcceptLoop) { IsBackground = true, Name = "echo acceptor" };
            _acceptor.Start();
        }

        public int Port { get; }

        public static EchoServer Start() => new EchoServer();

        private void AcceptLoop()
        {
            while (!_stopping)
            {
                try
                {
                    if (!_listener.Poll(StopCheckMs * 1000, SelectMode.SelectRead))
                    {
                        continue;
                    }

                    Socket connection = _listener.Accept();
                    connection.NoDelay = true;
                    connection.ReceiveTimeout = StopCheckMs;
                    var worker = new Thread(() => Echo(connection)) { IsBackground = true, Name = "echo worker" };
                    lock (_connections)
                    {
                        _connections.Add(connection);
                        _workers.Add(worker);
                    }

                    worker.Start();
                }
                catch (Exception) when (_stopping)
                {
                    return;
                }
                catch (SocketException)
                {
                    // A connection that went away before it was accepted.
                }
            }
        }

        private void Echo(Socket connection)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (!_stopping)
                {
                    int read;
                    try
                    {
                        read = connection.Receive(buffer, 0, buffer.Length, SocketFlags.None);
                    }
                    catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut || e.SocketErrorCode == SocketError.WouldBlock)
                    {
                        // The receive timeout only makes the loop look at _stopping now and then.
                        continue;
                    }

                    if (read == 0)
                    {
                        return;
                    }

                    Loopback.SendAll(connection, buffer, 0, read);
                }
            }
            catch (Exception)
            {
                // A reset or a close from Dispose ends this connection only.
            }
            finally
            {
                connection.Dispose();
            }
        }

        public void Dispose()
        {
            _stopping = true;
            _listener.Dispose();
            _acceptor.Join(5000);
            Thread[] workers;
            lock (_connections)
            {
                workers = _workers.ToArray();
            }

            foreach (Thread worker in workers)
            {
                worker.Join(5000);
            }
        }
    }

    /// <summary>
    /// A raw peer that accepts one connection on 127.0.0.1 and serves it on a thread of its own. <see cref="Join"/>
    /// waits (bounded) for the thread and rethrows what failed on it.
    /// </summary>
    public abstract class SingleConnectionPeer : IDisposable
    {
        private readonly Socket _listener;
        private readonly Thread _thread;
        private readonly string _name;
        private readonly int _timeoutMs;
        private Exception _failure;

        protected SingleConnectionPeer(string name, int timeoutMs)
        {
            _name = name;
            _timeoutMs = timeoutMs;
            _listener = Loopback.Listen(1);
            Port = Loopback.PortOf(_listener);
            _thread = new Thread(Run) { IsBackground = true, Name = name };
        }

        public int Port { get; }

        /// <summary>Starts the thread; called by the subclass once it is fully constructed.</summary>
        protected void StartServing() => _thread.Start();

        /// <summary>Serves the accepted connection; runs on the peer's thread.</summary>
        protected abstract void Serve(Socket connection);

        private void Run()
        {
            try
            {
                using (Socket connection = Loopback.Accept(_listener, _timeoutMs))
                {
                    Serve(connection);
                }
            }
            catch (Exception e)
            {
                _failure = e;
            }
        }

        protected void Join(int timeoutMs)
        {
            Loopback.Join(_thread, timeoutMs, "The " + _name);
            if (_failure != null)
            {
                throw new InvalidOperationException($"The {_name} failed: " + _failure.Message, _failure);
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>
    /// Accepts one connection and reads it to the end, counting bytes and '\n' bytes; records when the end of stream
    /// arrived. The raw receiving side of the line-sending scenario.
    /// </summary>
    public sealed class LineSink : SingleConnectionPeer
    {
        private TransferResult _result;

        private LineSink(int timeoutMs)
            : base("line sink", timeoutMs)
        {
            StartServing();
        }

        public static LineSink Start(int timeoutMs) => new LineSink(timeoutMs);

        protected override void Serve(Socket connection)
        {
            var buffer = new byte[1024 * 1024];
            long bytes = 0, lines = 0;
            int read;
            while ((read = connection.Receive(buffer, 0, buffer.Length, SocketFlags.None)) > 0)
            {
                bytes += read;
                lines += buffer.AsSpan(0, read).Count((byte)'\n');
            }

            _result = new TransferResult { Bytes = bytes, Lines = lines, EndTimestamp = Stopwatch.GetTimestamp() };
        }

        /// <summary>Waits for the end of stream; throws when it does not come within <paramref name="timeoutMs"/>.</summary>
        public TransferResult Wait(int timeoutMs)
        {
            Join(timeoutMs);
            return _result;
        }
    }

    /// <summary>
    /// Accepts one connection, sends it data as fast as it can (1 MiB writes), then shuts down and closes: the raw
    /// sending side of the line-receiving and memory scenarios.
    /// </summary>
    public sealed class BulkSource : SingleConnectionPeer
    {
        private readonly byte[] _data;
        private readonly long _total;
        private readonly int _writeSize;

        private BulkSource(byte[] data, long total, int writeSize, int timeoutMs)
            : base("bulk source", timeoutMs)
        {
            _data = data;
            _total = total;
            _writeSize = writeSize;
            StartServing();
        }

        /// <summary>Sends <paramref name="data"/> once.</summary>
        public static BulkSource FromBytes(byte[] data, int writeSize, int timeoutMs) => new BulkSource(data, data.LongLength, writeSize, timeoutMs);

        /// <summary>Sends <paramref name="total"/> bytes from one <paramref name="writeSize"/> buffer, over and over.</summary>
        public static BulkSource Repeat(long total, int writeSize, int timeoutMs)
        {
            var data = new byte[writeSize];
            new Random(1).NextBytes(data);
            return new BulkSource(data, total, writeSize, timeoutMs);
        }

        protected override void Serve(Socket connection) => Loopback.SendRepeating(connection, _data, _total, _writeSize);

        public void Wait(int timeoutMs) => Join(timeoutMs);
    }

    /// <summary>The process's resident memory, from /proc/self/status on Linux.</summary>
    public static class ProcessMemory
    {
        /// <summary>
        /// Resets the peak resident set size (VmHWM) to the current one (Linux 4.0 and later: "5" into
        /// /proc/self/clear_refs). False where that is not possible.
        /// </summary>
        public static bool TryResetPeak()
        {
            try
            {
                File.WriteAllText("/proc/self/clear_refs", "5");
                return true;
            }
            catch (Exception)
            {
                return false;
            }
        }

        /// <summary>VmRSS in bytes, or the working set where /proc is missing.</summary>
        public static long Resident() => ReadStatus("VmRSS:") ?? Environment.WorkingSet;

        /// <summary>VmHWM (the peak resident set size) in bytes, or -1 where /proc is missing.</summary>
        public static long PeakResident() => ReadStatus("VmHWM:") ?? -1;

        private static long? ReadStatus(string key)
        {
            try
            {
                foreach (string line in File.ReadLines("/proc/self/status"))
                {
                    if (line.StartsWith(key, StringComparison.Ordinal))
                    {
                        string[] parts = line.Substring(key.Length).Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        return long.Parse(parts[0]) * 1024;
                    }
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }

            return null;
        }
    }

    /// <summary>
    /// Samples the working set on a thread every few milliseconds and keeps the highest value: the portable fallback
    /// for the peak where VmHWM cannot be reset.
    /// </summary>
    public sealed class PeakSampler : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;
        private long _peak;

        private PeakSampler(int intervalMs)
        {
            _peak = ProcessMemory.Resident();
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    long now = ProcessMemory.Resident();
                    if (now > Interlocked.Read(ref _peak))
                    {
                        Interlocked.Exchange(ref _peak, now);
                    }

                    Thread.Sleep(intervalMs);
                }
            }) { IsBackground = true, Name = "peak sampler" };
            _thread.Start();
        }

        public long Peak => Interlocked.Read(ref _peak);

        public static PeakSampler Start(int intervalMs = 2) => new PeakSampler(intervalMs);

        public void Dispose()
        {
            _stop = true;
            _thread.Join(2000);
        }
    }

    /// <summary>Test data.</summary>
    public static class BenchData
    {
        /// <summary>Writes <paramref name="count"/> short ASCII lines ending in '\n'; returns the file's length.</summary>
        public static long WriteLines(string path, int count)
        {
            using (var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" })
            {
                for (int i = 1; i <= count; i++)
                {
                    writer.Write("line ");
                    writer.Write(i.ToString("D7"));
                    writer.WriteLine(" the quick brown fox");
                }
            }

            return new FileInfo(path).Length;
        }

        /// <summary>Writes a file of <paramref name="length"/> pseudo-random bytes, 1 MiB at a time.</summary>
        public static void WriteRandomFile(string path, long length)
        {
            var chunk = new byte[1024 * 1024];
            new Random(7).NextBytes(chunk);
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1))
            {
                long left = length;
                while (left > 0)
                {
                    int n = (int)Math.Min(chunk.Length, left);
                    file.Write(chunk, 0, n);
                    left -= n;
                }

                // On disk before any run starts, so no run shares the machine with this file's writeback.
                file.Flush(flushToDisk: true);
            }
        }

        /// <summary>A byte array of <paramref name="length"/> bytes with every page touched (a repeating pattern).</summary>
        public static byte[] Pattern(int length)
        {
            var bytes = GC.AllocateUninitializedArray<byte>(length);
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)(i * 31 + (i >> 12));
            }

            return bytes;
        }
    }
}

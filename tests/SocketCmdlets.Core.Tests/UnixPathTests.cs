using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>Runs on Linux with Unix domain sockets only; elsewhere the test is skipped with the reason.</summary>
    public sealed class LinuxFactAttribute : FactAttribute
    {
        public LinuxFactAttribute()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || !UnixEndPoints.IsSupported)
            {
                Skip = "Needs Linux (mkfifo, Unix domain stream and datagram sockets).";
            }
        }
    }

    /// <summary>
    /// Binding and connecting Unix socket paths never hang, never hold the socket's lock while probing, never hand a live
    /// server a phantom connection, and name what is in the way.
    /// </summary>
    public sealed class UnixPathTests : IDisposable
    {
        private static int s_serial;
        private readonly List<string> _paths = new List<string>();
        private readonly List<IDisposable> _owned = new List<IDisposable>();

        [DllImport("libc", SetLastError = true)]
        private static extern int mkfifo(string path, uint mode);

        private string NewPath()
        {
            string path = Path.Combine(Path.GetTempPath(), $"scx-{System.Diagnostics.Process.GetCurrentProcess().Id}-{Interlocked.Increment(ref s_serial)}.sock");
            _paths.Add(path);
            return path;
        }

        private T Own<T>(T item) where T : IDisposable
        {
            _owned.Add(item);
            return item;
        }

        public void Dispose()
        {
            _owned.ForEach(o => o.Dispose());
            foreach (string path in _paths)
            {
                if (Directory.Exists(path))
                {
                    Directory.Delete(path);
                }
                else
                {
                    File.Delete(path);
                }
            }
        }

        private NetSocket Unix() => Own(NetSocket.Create(SocketProtocol.Tcp, SocketFamily.Unix));

        /// <summary>A live Unix server whose backlog is full: a further connect fails with EAGAIN.</summary>
        private NetSocket FullServer(string path)
        {
            NetSocket server = Unix().BindPath(path).Listen(1);
            for (int i = 0; i < 16; i++)
            {
                var filler = Own(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false });
                try
                {
                    filler.Connect(UnixEndPoints.Create(path));
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
                {
                    return server;
                }
            }

            throw new InvalidOperationException("The Unix listener's backlog never filled.");
        }

        private static int Pending(NetSocket server)
        {
            int count = 0;
            while (count < 64 && server.Socket.Poll(0, SelectMode.SelectRead))
            {
                server.Socket.Accept().Dispose();
                count++;
            }

            return count;
        }

        [LinuxFact]
        public void A_server_bound_to_a_path_and_a_client_connected_to_it_exchange_bytes_both_ways()
        {
            string path = NewPath();
            NetSocket server = Unix().BindPath(path).Listen();
            Assert.Equal(SocketState.Listening, server.State);
            Assert.Equal(path, server.LocalPath);
            Assert.Equal(UnixPathKind.Socket, UnixPath.KindOf(path));

            NetSocket client = Unix().ConnectPath(path, TestNet.Timeout, TestNet.Token);
            NetSocket accepted = Own(server.Accept(TestNet.Timeout, TestNet.Token));
            Assert.Equal(SocketState.Connected, client.State);
            Assert.Equal(path, client.RemotePath);
            Assert.Equal(path, accepted.LocalPath);

            TestNet.Send(client, "to the server");
            Assert.Equal("to the server", System.Text.Encoding.UTF8.GetString(TestNet.Receive(accepted, 13)));
            TestNet.Send(accepted, "back");
            Assert.Equal("back", System.Text.Encoding.UTF8.GetString(TestNet.Receive(client, 4)));
        }

        [LinuxFact]
        public void Closing_the_bound_socket_removes_its_socket_file()
        {
            string path = NewPath();
            NetSocket server = Unix().BindPath(path).Listen();
            server.Close();
            Assert.Equal(UnixPathKind.None, UnixPath.KindOf(path));
        }

        [LinuxFact]
        public void Connecting_to_a_path_where_nothing_is_is_FileNotFound()
        {
            string path = NewPath();
            var e = Assert.Throws<FileNotFoundException>(() => Unix().ConnectPath(path, TestNet.Timeout, TestNet.Token));
            Assert.Equal(path, e.FileName);
        }

        [LinuxFact]
        public void A_path_in_a_folder_that_does_not_exist_is_refused_before_binding()
        {
            string path = Path.Combine(Path.GetTempPath(), "no-such-folder-" + Guid.NewGuid().ToString("N"), "s.sock");
            NetSocket socket = Unix();
            Assert.Throws<DirectoryNotFoundException>(() => socket.BindPath(path));
            Assert.Equal(SocketState.Created, socket.State);
        }

        [Fact]
        public void Path_calls_on_an_IP_socket_are_an_invalid_state()
        {
            NetSocket tcp = Own(NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork));
            Assert.Throws<InvalidSocketStateException>(() => tcp.BindPath(Path.Combine(Path.GetTempPath(), "x.sock")));
            Assert.Throws<InvalidSocketStateException>(() => tcp.ConnectPath(Path.Combine(Path.GetTempPath(), "x.sock"), TestNet.Timeout, TestNet.Token));
        }

        [LinuxFact]
        public void A_FIFO_at_the_path_is_refused_at_once_and_left_as_it_is()
        {
            string path = NewPath();
            Assert.Equal(0, mkfifo(path, Convert.ToUInt32("600", 8)));
            NetSocket socket = Unix();
            Task bind = Task.Run(() => socket.BindPath(path));
            var e = Assert.IsType<PathInUseException>(TestNet.AwaitFailure(bind));
            Assert.Equal(UnixPathKind.Fifo, e.Kind);
            Assert.Contains("FIFO", e.Message);
            Assert.Equal(UnixPathKind.Fifo, UnixPath.KindOf(path));
            Assert.Equal(SocketState.Created, socket.State);
        }

        [LinuxFact]
        public void A_directory_or_a_regular_file_at_the_path_is_named_and_left_alone()
        {
            string folder = NewPath();
            Directory.CreateDirectory(folder);
            Assert.Equal(UnixPathKind.Directory, Assert.Throws<PathInUseException>(() => Unix().BindPath(folder)).Kind);
            Assert.True(Directory.Exists(folder));

            string file = NewPath();
            File.WriteAllText(file, "not a socket");
            var e = Assert.Throws<PathInUseException>(() => Unix().BindPath(file));
            Assert.Equal(UnixPathKind.RegularFile, e.Kind);
            Assert.Contains("regular file", e.Message);
            Assert.Equal("not a socket", File.ReadAllText(file));
        }

        [LinuxFact]
        public void Binding_the_path_of_a_live_server_hands_it_no_phantom_connection()
        {
            string path = NewPath();
            NetSocket server = Unix().BindPath(path).Listen();
            Assert.Equal(UnixPathKind.Socket, Assert.Throws<PathInUseException>(() => Unix().BindPath(path)).Kind);
            Assert.Equal(0, Pending(server));
            Assert.Equal(SocketState.Listening, server.State);
        }

        [LinuxFact]
        public void Binding_the_path_of_a_server_with_a_full_backlog_fails_at_once_and_Close_is_not_held_up()
        {
            string path = NewPath();
            NetSocket server = FullServer(path);
            int queued = Pending(server);
            Assert.True(queued > 0);
            FullServerAgain(path, server);

            NetSocket socket = Unix();
            Task bind = Task.Run(() => socket.BindPath(path));
            Task close = Task.Run(() => socket.Close());
            TestNet.Await(close);
            Exception e = TestNet.AwaitFailure(bind);
            Assert.True(e is PathInUseException || e is InvalidSocketStateException, e.ToString());
            Assert.Equal(UnixPathKind.Socket, Assert.Throws<PathInUseException>(() => Unix().BindPath(path)).Kind);
        }

        private void FullServerAgain(string path, NetSocket server)
        {
            // Fill the queue again after counting it empty.
            for (int i = 0; i < 16; i++)
            {
                var filler = Own(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false });
                try
                {
                    filler.Connect(UnixEndPoints.Create(path));
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
                {
                    return;
                }
            }
        }

        [LinuxFact]
        public void A_socket_file_no_socket_holds_is_replaced()
        {
            string path = NewPath();
            using (var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                raw.Bind(UnixEndPoints.Create(path + ".bind"));
                File.Move(path + ".bind", path);
            }

            var trace = new List<string>();
            NetSocket server = Unix().BindPath(path, trace.Add).Listen();
            Assert.Equal(SocketState.Listening, server.State);
            Assert.Contains(trace, l => l.Contains("stale"));
        }

        [LinuxFact]
        public void The_path_of_a_socket_only_bound_is_in_use()
        {
            // A live socket holds its file even before it listens: deleting the file would steal its address.
            string path = NewPath();
            Unix().BindPath(path);
            Assert.Equal(UnixPathKind.Socket, Assert.Throws<PathInUseException>(() => Unix().BindPath(path)).Kind);
            Assert.True(File.Exists(path));
        }

        [LinuxFact]
        public void Connecting_to_a_full_backlog_waits_until_the_server_makes_room()
        {
            string path = NewPath();
            NetSocket server = FullServer(path);
            NetSocket client = Unix();
            var trace = new ConcurrentQueue<string>();
            Task connect = Task.Run(() => client.ConnectPath(path, TimeSpan.FromSeconds(20), TestNet.Token, trace.Enqueue));
            TestNet.WaitUntil(() => trace.Any(l => l.Contains("full backlog")), "the connect says it waits");
            Assert.False(connect.IsCompleted);
            Pending(server);
            TestNet.Await(connect);
            Assert.Equal(SocketState.Connected, client.State);
            Assert.Equal(path, client.RemotePath);
        }

        [LinuxFact]
        public void Connecting_to_a_full_backlog_times_out_as_a_connect_and_can_try_again()
        {
            string path = NewPath();
            NetSocket server = FullServer(path);
            NetSocket client = Unix();
            Task connect = Task.Run(() => client.ConnectPath(path, TimeSpan.FromMilliseconds(300), TestNet.Token));
            var e = Assert.IsType<SocketTimeoutException>(TestNet.AwaitFailure(connect));
            Assert.Equal(SocketOperation.Connect, e.Operation);
            Assert.Contains("backlog", e.WhatDidNotHappen);
            Assert.Equal(SocketState.Created, client.State);

            Pending(server);
            client.ConnectPath(path, TestNet.Timeout, TestNet.Token);
            Assert.Equal(SocketState.Connected, client.State);
        }

        [LinuxFact]
        public void Connecting_to_a_full_backlog_ends_when_cancelled()
        {
            string path = NewPath();
            FullServer(path);
            NetSocket client = Unix();
            using (var stop = new CancellationTokenSource())
            {
                var trace = new ConcurrentQueue<string>();
                Task connect = Task.Run(() => client.ConnectPath(path, Timeout.InfiniteTimeSpan, stop.Token, trace.Enqueue));
                TestNet.WaitUntil(() => !trace.IsEmpty, "the connect says it waits");
                stop.Cancel();
                Assert.IsAssignableFrom<OperationCanceledException>(TestNet.AwaitFailure(connect));
                Assert.Equal(SocketState.Created, client.State);
            }
        }

        [LinuxFact]
        public void Connecting_to_a_FIFO_or_a_directory_says_it_is_not_a_socket()
        {
            string fifo = NewPath();
            Assert.Equal(0, mkfifo(fifo, Convert.ToUInt32("600", 8)));
            Assert.Equal(UnixPathKind.Fifo, Assert.Throws<NotASocketException>(() => Unix().ConnectPath(fifo, TestNet.Timeout, TestNet.Token)).Kind);

            string folder = NewPath();
            Directory.CreateDirectory(folder);
            Assert.Equal(UnixPathKind.Directory, Assert.Throws<NotASocketException>(() => Unix().ConnectPath(folder, TestNet.Timeout, TestNet.Token)).Kind);
        }
    }
}

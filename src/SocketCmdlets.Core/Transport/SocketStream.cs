using System;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>
    /// The plain transport as a <see cref="Stream"/>, for <see cref="System.Net.Security.SslStream"/> to wrap: the
    /// socket stays non-blocking (one I/O model for plain and TLS). A read first takes what has arrived; when nothing
    /// has, it waits with the socket's asynchronous receive, which holds no thread, so a TLS read left unfinished by a
    /// timeout costs nothing while it waits for its record. Bytes received before the handshake are handed out first.
    /// Deadlines and cancellation are the TLS transport's: it waits on these tasks in slices.
    /// </summary>
    internal sealed class SocketStream : Stream
    {
        private readonly NetSocket _owner;
        private readonly byte[] _prefix;
        private int _position;

        public SocketStream(NetSocket owner, byte[] prefix)
        {
            _owner = owner;
            _prefix = prefix ?? Array.Empty<byte>();
        }

        /// <summary>
        /// The bytes received before the handshake, when the handshake read none of them (it failed first); else none.
        /// They are no longer this stream's.
        /// </summary>
        public byte[] TakeUnreadPrefix()
        {
            if (_position > 0 || _prefix.Length == 0)
            {
                return Array.Empty<byte>();
            }

            _position = _prefix.Length;
            return _prefix;
        }

        /// <summary>True once a read of the socket returned its end.</summary>
        public bool SawEndOfStream { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        private Socket Raw => _owner.Socket;

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (_position < _prefix.Length)
            {
                int n = Math.Min(count, _prefix.Length - _position);
                Buffer.BlockCopy(_prefix, _position, buffer, offset, n);
                _position += n;
                return Task.FromResult(n);
            }

            int read = Raw.Receive(buffer, offset, count, SocketFlags.None, out SocketError error);
            if (error == SocketError.Success)
            {
                return Task.FromResult(Seen(read, count));
            }

            if (error != SocketError.WouldBlock)
            {
                return FromError(error);
            }

            return ReceiveLaterAsync(buffer, offset, count);
        }

        public override IAsyncResult BeginRead(byte[] buffer, int offset, int count, AsyncCallback callback, object state) =>
            Apm.Begin(ReadAsync(buffer, offset, count, CancellationToken.None), callback, state);

        public override int EndRead(IAsyncResult asyncResult) => Apm.End<int>(asyncResult);

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            while (count > 0)
            {
                int sent = PlainTransport.SendSome(Raw, buffer, offset, count, out SocketError error);
                if (error == SocketError.WouldBlock)
                {
                    return SendLaterAsync(buffer, offset, count);
                }

                if (error != SocketError.Success)
                {
                    return FromError(error);
                }

                offset += sent;
                count -= sent;
            }

            return Task.CompletedTask;
        }

        public override IAsyncResult BeginWrite(byte[] buffer, int offset, int count, AsyncCallback callback, object state) =>
            Apm.Begin(WriteAsync(buffer, offset, count, CancellationToken.None), callback, state);

        public override void EndWrite(IAsyncResult asyncResult) => Apm.End<object>(asyncResult);

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private async Task<int> ReceiveLaterAsync(byte[] buffer, int offset, int count)
        {
            Socket socket = Raw;
            try
            {
                int read = await Task<int>.Factory.FromAsync(
                    (callback, state) => socket.BeginReceive(buffer, offset, count, SocketFlags.None, callback, state),
                    socket.EndReceive, null).ConfigureAwait(false);
                return Seen(read, count);
            }
            catch (SocketException e)
            {
                // As NetworkStream says it: an IOException around the socket's error.
                throw new IOException(e.Message, e);
            }
        }

        private async Task SendLaterAsync(byte[] buffer, int offset, int count)
        {
            Socket socket = Raw;
            try
            {
                while (count > 0)
                {
                    int sent = await Task<int>.Factory.FromAsync(
                        (callback, state) => socket.BeginSend(buffer, offset, count, SocketFlags.None, callback, state),
                        socket.EndSend, null).ConfigureAwait(false);
                    offset += sent;
                    count -= sent;
                }
            }
            catch (SocketException e)
            {
                throw new IOException(e.Message, e);
            }
        }

        private int Seen(int read, int count)
        {
            if (read == 0 && count > 0)
            {
                SawEndOfStream = true;
            }

            return read;
        }

        private static Task<int> FromError(SocketError error)
        {
            var failed = new TaskCompletionSource<int>();
            failed.SetException(new IOException(new SocketException((int)error).Message, new SocketException((int)error)));
            return failed.Task;
        }

        /// <summary>Begin/End over a task, for runtimes whose SslStream calls the inner stream that way (.NET Framework, Mono).</summary>
        private static class Apm
        {
            public static IAsyncResult Begin(Task task, AsyncCallback callback, object state)
            {
                var result = new TaskCompletionSource<object>(state);
                task.ContinueWith(
                    t =>
                    {
                        if (t.IsFaulted)
                        {
                            result.TrySetException(t.Exception.InnerExceptions);
                        }
                        else if (t.IsCanceled)
                        {
                            result.TrySetCanceled();
                        }
                        else
                        {
                            result.TrySetResult(t is Task<int> read ? (object)read.Result : null);
                        }

                        callback?.Invoke(result.Task);
                    },
                    CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                return result.Task;
            }

            public static T End<T>(IAsyncResult asyncResult)
            {
                object value = ((Task<object>)asyncResult).GetAwaiter().GetResult();
                return value is T typed ? typed : default;
            }
        }
    }
}

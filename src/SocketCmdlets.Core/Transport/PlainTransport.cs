using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>
    /// The plain stream transport: non-blocking receive() and send() on the socket, each wait a loop of short
    /// <see cref="Socket.Poll(int, SelectMode)"/> slices that checks the deadline and the token.
    /// </summary>
    internal sealed class PlainTransport : IStreamTransport
    {
        private readonly NetSocket _owner;

        public PlainTransport(NetSocket owner)
        {
            _owner = owner;
        }

        /// <inheritdoc/>
        public bool TakesWithoutWaiting => true;

        // Read each time: a connect that races several addresses replaces the socket.
        private Socket Raw => _owner.Socket;

        /// <summary>
        /// One receive() without waiting. On success the bytes are counted, and 0 marks the end of the stream; otherwise
        /// <paramref name="error"/> says why (WouldBlock: nothing there yet).
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        public int ReceiveNow(byte[] buffer, int offset, int count, out SocketError error)
        {
            int read;
            try
            {
                read = Raw.Receive(buffer, offset, count, SocketFlags.None, out error);
            }
            catch (ObjectDisposedException)
            {
                throw _owner.Closed("receive");
            }

            if (error == SocketError.Success)
            {
                if (read == 0)
                {
                    _owner.MarkEndOfStream();
                }
                else
                {
                    _owner.CountReceived(read);
                }
            }

            return read;
        }

        /// <inheritdoc/>
        [MethodImpl(HotPath.Optimize)]
        public int Receive(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Deadline deadline = default;
            bool waited = false;
            while (true)
            {
                int read = ReceiveNow(buffer, offset, count, out SocketError error);
                if (error == SocketError.Success)
                {
                    return read;
                }

                if (error != SocketError.WouldBlock)
                {
                    throw new SocketException((int)error);
                }

                if (!waited)
                {
                    deadline = Deadline.After(timeout);
                    waited = true;
                }

                WaitReady(SelectMode.SelectRead, deadline, cancellationToken, SocketOperation.Receive);
            }
        }

        /// <inheritdoc/>
        [MethodImpl(HotPath.Optimize)]
        public void Send(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            while (count > 0)
            {
                int sent;
                SocketError error;
                try
                {
                    sent = SendSome(Raw, buffer, offset, count, out error);
                }
                catch (ObjectDisposedException)
                {
                    throw _owner.Closed("send");
                }

                if (error == SocketError.Success)
                {
                    offset += sent;
                    count -= sent;
                    _owner.CountSent(sent);
                }
                else if (error == SocketError.WouldBlock)
                {
                    WaitReady(SelectMode.SelectWrite, Deadline.After(timeout), cancellationToken, SocketOperation.Send);
                }
                else
                {
                    throw new SocketException((int)error);
                }
            }
        }

        /// <summary>True when the socket has something to read now (data, end of stream or an error).</summary>
        public bool ReadableNow()
        {
            try
            {
                return Raw.Poll(0, SelectMode.SelectRead);
            }
            catch (ObjectDisposedException)
            {
                throw _owner.Closed("receive");
            }
        }

        /// <summary>
        /// Waits until the socket is ready for <paramref name="mode"/>, in short slices. A socket in error counts as ready
        /// to write (Windows reports a failed connect that way only), so the next call meets the error. A timeout names
        /// <paramref name="peer"/> when given (a connect), else the socket.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        public void WaitReady(SelectMode mode, Deadline deadline, CancellationToken cancellationToken, SocketOperation operation, IPEndPoint peer = null)
        {
            bool checkedOnce = false;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int slice = deadline.NextSliceMilliseconds();
                if (slice < 0)
                {
                    if (checkedOnce)
                    {
                        throw new SocketTimeoutException(operation, deadline.Timeout, peer != null ? NetSocket.Format(peer) : _owner.ToString());
                    }

                    // A zero timeout still looks once: what is already there is taken.
                    slice = 0;
                }

                checkedOnce = true;
                Socket socket = Raw;
                try
                {
                    if (socket.Poll(slice * 1000, mode) || (mode == SelectMode.SelectWrite && socket.Poll(0, SelectMode.SelectError)))
                    {
                        return;
                    }
                }
                catch (ObjectDisposedException)
                {
                    throw _owner.Closed(operation.ToString().ToLowerInvariant());
                }
            }
        }

        /// <inheritdoc/>
        public void Shutdown()
        {
            // Plain TCP says goodbye with the FIN the socket's own shutdown sends.
        }

        /// <inheritdoc/>
        public void Dispose()
        {
            // The socket is the facade's to close.
        }

        /// <summary>
        /// One non-blocking send of what the kernel takes now. Mono's Socket.Send(byte[], …, out SocketError) loops
        /// until every byte is out, spinning on EWOULDBLOCK for ever when the peer does not read; its overload that
        /// takes a list of segments makes one system call, as every other runtime's does.
        /// </summary>
        internal static int SendSome(Socket socket, byte[] buffer, int offset, int count, out SocketError error)
        {
            if (!RuntimeFacts.IsMono)
            {
                return socket.Send(buffer, offset, count, SocketFlags.None, out error);
            }

            int sent = socket.Send(new List<ArraySegment<byte>>(1) { new ArraySegment<byte>(buffer, offset, count) }, SocketFlags.None, out error);
            return error == SocketError.Success ? sent : 0;
        }
    }
}

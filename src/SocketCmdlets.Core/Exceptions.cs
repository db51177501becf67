using System;
using System.IO;

namespace SocketCmdlets
{
    /// <summary>A socket is in the wrong state for the operation asked of it.</summary>
    public sealed class InvalidSocketStateException : InvalidOperationException
    {
        public InvalidSocketStateException(NetSocket socket, string operation, string requirement)
            : base($"Cannot {operation}: socket {socket.Id} is {socket.State}; {requirement}")
        {
            Socket = socket;
            State = socket.State;
            Operation = operation;
        }

        /// <summary>The socket that was used.</summary>
        public NetSocket Socket { get; }

        /// <summary>The state the socket was in.</summary>
        public SocketState State { get; }

        /// <summary>What was attempted.</summary>
        public string Operation { get; }
    }

    /// <summary>A blocking socket operation did not complete within its timeout.</summary>
    public sealed class SocketTimeoutException : TimeoutException
    {
        public SocketTimeoutException(SocketOperation operation, TimeSpan timeout, string where, string whatDidNotHappen = null)
            : base($"{operation} timed out after {timeout.TotalSeconds:0.###} s ({where}).")
        {
            Operation = operation;
            Timeout = timeout;
            WhatDidNotHappen = whatDidNotHappen;
        }

        /// <summary>What did not happen in time, for messages ("the TLS handshake did not finish"), when it is not the operation's usual event.</summary>
        public string WhatDidNotHappen { get; }

        /// <summary>The operation that timed out.</summary>
        public SocketOperation Operation { get; }

        /// <summary>The timeout that elapsed.</summary>
        public TimeSpan Timeout { get; }
    }

    /// <summary>A delimited record grew past the allowed length before its terminator arrived.</summary>
    public sealed class RecordTooLongException : IOException
    {
        public RecordTooLongException(int limit)
            : base($"No record terminator arrived within {limit} bytes.")
        {
            Limit = limit;
        }

        /// <summary>The maximum record length in bytes.</summary>
        public int Limit { get; }
    }
}

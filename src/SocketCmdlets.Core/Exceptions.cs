using System;
using System.IO;
using System.Net.Security;
using System.Security.Authentication;

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

    /// <summary>The peer's certificate failed validation.</summary>
    public sealed class CertificateValidationException : AuthenticationException
    {
        public CertificateValidationException(string message, SslPolicyErrors errors, Exception inner)
            : base(message, inner)
        {
            Errors = errors;
        }

        /// <summary>What was wrong.</summary>
        public SslPolicyErrors Errors { get; }
    }

    /// <summary>A TLS stream ended without the peer's close_notify, inside a record: what arrived may be truncated.</summary>
    public sealed class TlsTruncatedException : IOException
    {
        public TlsTruncatedException(NetSocket socket, Exception inner)
            : base($"The TLS stream of socket {socket.Id} was cut without close_notify: what arrived may be incomplete.", inner)
        {
            Socket = socket;
        }

        /// <summary>The socket whose stream was cut.</summary>
        public NetSocket Socket { get; }
    }

    /// <summary>The TLS handshake failed for a reason other than the certificate (a plain-text peer, a peer that closed, no common version).</summary>
    public sealed class TlsHandshakeException : IOException
    {
        public TlsHandshakeException(string message, Exception inner)
            : base(message, inner)
        {
        }
    }
}

namespace SocketCmdlets
{
    using System;

    /// <summary>
    /// Facts a failed transfer attaches to its exception (<see cref="Exception.Data"/>), so the message can say what
    /// became of the bytes: those taken off the socket and kept in its buffer for the next receive, and those written
    /// to a destination (a file) before the failure.
    /// </summary>
    public static class TransferFacts
    {
        /// <summary>Bytes taken off the socket and kept in its buffer: the next receive hands them out first.</summary>
        public const string BytesKept = "SocketCmdlets.BytesKept";

        /// <summary>Bytes written to the destination (a file) before the failure.</summary>
        public const string BytesWritten = "SocketCmdlets.BytesWritten";

        /// <summary>Bytes this call had sent when it failed.</summary>
        public const string BytesSent = "SocketCmdlets.BytesSent";

        /// <summary>Bytes of the request that had arrived when the call failed (a -ByteCount read: how many of how many).</summary>
        public const string BytesExpected = "SocketCmdlets.BytesExpected";

        /// <summary>The fact <paramref name="key"/> of <paramref name="exception"/>, or null.</summary>
        public static long? Get(Exception exception, string key) =>
            exception?.Data[key] is long value ? value : (long?)null;

        /// <summary>Records a fact and returns false, so it can run in an exception filter without catching.</summary>
        internal static bool Record(Exception exception, string key, long value)
        {
            try
            {
                exception.Data[key] = value;
            }
            catch (Exception e) when (e is ArgumentException || e is NotSupportedException)
            {
                // A read-only Data dictionary: the fact is lost, the failure is not.
            }

            return false;
        }
    }
}

using System;
using System.IO;
using System.Net.Security;
using System.Security.Authentication;

namespace SocketCmdlets
{
    /// <summary>
    /// What an operation needed that the socket did not offer, as a fact the cmdlet layer words for users (naming the
    /// cmdlet or parameter that provides it); <see cref="None"/>: the requirement text says it all.
    /// </summary>
    public enum SocketRequirement
    {
        /// <summary>Nothing to add to the requirement text.</summary>
        None,

        /// <summary>A connected socket (made by a connect, or by an accept).</summary>
        Connected,

        /// <summary>A new socket.</summary>
        New,

        /// <summary>A new Unix domain socket.</summary>
        NewUnix,

        /// <summary>A bound socket.</summary>
        Bound,

        /// <summary>A bound socket, or one the system bound by a send or a connect.</summary>
        BoundBySomeone,

        /// <summary>A listening socket.</summary>
        Listening,

        /// <summary>A UDP socket.</summary>
        Udp,

        /// <summary>A Unix domain socket (for a path).</summary>
        UnixSocket,

        /// <summary>A path, not an address and port (the socket is a Unix domain socket).</summary>
        Path,

        /// <summary>A destination for a datagram, or a default peer.</summary>
        Destination,

        /// <summary>Membership of the multicast group.</summary>
        GroupMember,

        /// <summary>A stream socket (a UDP socket does not listen; it receives datagrams where it is bound).</summary>
        StreamToListen,
    }

    /// <summary>A socket is in the wrong state for the operation asked of it.</summary>
    public sealed class InvalidSocketStateException : InvalidOperationException
    {
        public InvalidSocketStateException(NetSocket socket, string operation, string requirement, SocketRequirement needs = SocketRequirement.None)
            : base($"Cannot {operation}: socket {socket.Id} is {socket.State}; {requirement}")
        {
            Socket = socket;
            State = socket.State;
            Operation = operation;
            Requirement = requirement;
            Needs = needs;
        }

        /// <summary>The socket that was used.</summary>
        public NetSocket Socket { get; }

        /// <summary>The state the socket was in.</summary>
        public SocketState State { get; }

        /// <summary>What was attempted.</summary>
        public string Operation { get; }

        /// <summary>What the operation needs, in the engine's words (no cmdlet named).</summary>
        public string Requirement { get; }

        /// <summary>What the operation needs, as a fact the cmdlet layer words.</summary>
        public SocketRequirement Needs { get; }
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

    /// <summary>Why a certificate file could not be loaded.</summary>
    public enum CertificateLoadReason
    {
        /// <summary>Something else (the message says what).</summary>
        Other,

        /// <summary>The file could not be read: a wrong password, or not a PFX or PEM file.</summary>
        Unreadable,

        /// <summary>A PEM file with a password: encrypted PEM keys are not supported.</summary>
        EncryptedPem,
    }

    /// <summary>A certificate file could not be loaded (wrong password, no private key, not a certificate).</summary>
    public sealed class CertificateLoadException : IOException
    {
        public CertificateLoadException(string message, Exception inner, string path = null, CertificateLoadReason reason = CertificateLoadReason.Other)
            : base(message, inner)
        {
            Path = path;
            Reason = reason;
        }

        /// <summary>The file that could not be loaded, where known.</summary>
        public string Path { get; }

        /// <summary>Why, as a fact the cmdlet layer words for users.</summary>
        public CertificateLoadReason Reason { get; }
    }

    /// <summary>A socket option that does not apply to this kind of socket.</summary>
    public sealed class SocketOptionException : NotSupportedException
    {
        public SocketOptionException(string option, SocketRequirement needs, string message)
            : base(message)
        {
            Option = option;
            Needs = needs;
        }

        /// <summary>The option (a <see cref="SocketOptions"/> property name).</summary>
        public string Option { get; }

        /// <summary>What kind of socket it needs.</summary>
        public SocketRequirement Needs { get; }
    }

    /// <summary>A socket of a kind the engine does not make (UDP over a Unix domain socket).</summary>
    public sealed class UnsupportedSocketKindException : NotSupportedException
    {
        public UnsupportedSocketKindException(SocketProtocol protocol, SocketFamily family)
            : base($"Unix domain sockets are stream sockets here: {protocol} over them is not supported.")
        {
            Protocol = protocol;
            Family = family;
        }

        /// <summary>The protocol asked for.</summary>
        public SocketProtocol Protocol { get; }

        /// <summary>The address family asked for.</summary>
        public SocketFamily Family { get; }
    }

    /// <summary>A datagram is larger than UDP can carry; it was not sent.</summary>
    public sealed class DatagramTooLargeException : IOException
    {
        public DatagramTooLargeException(int size, int limit)
            : base($"The datagram is {size} bytes; UDP carries at most {limit} bytes in one datagram. Split the data or use TCP.")
        {
            Size = size;
            Limit = limit;
        }

        /// <summary>The size that was refused.</summary>
        public int Size { get; }

        /// <summary>The largest payload allowed.</summary>
        public int Limit { get; }
    }

    /// <summary>A path that names a directory where a file was expected.</summary>
    public sealed class PathIsDirectoryException : IOException
    {
        public PathIsDirectoryException(string path)
            : base($"'{path}' is a directory, not a file.")
        {
            Path = path;
        }

        /// <summary>The path that names a directory.</summary>
        public string Path { get; }
    }

    /// <summary>The peer's certificate is not one of the thumbprints given for the handshake.</summary>
    public sealed class CertificatePinMismatchException : AuthenticationException
    {
        public CertificatePinMismatchException(string message, Exception inner)
            : base(message, inner)
        {
        }
    }

    /// <summary>A Unix socket path is taken: a live socket is bound to it, or a file that is not a socket exists there.</summary>
    public sealed class PathInUseException : IOException
    {
        public PathInUseException(string path)
            : this(path, UnixPathKind.Other)
        {
        }

        public PathInUseException(string path, UnixPathKind kind, Exception inner = null)
            : base($"'{path}' is in use: {NetSocket.Describe(kind)} is there{(kind == UnixPathKind.Socket ? string.Empty : ", and only a socket file is ever replaced")}.", inner)
        {
            Path = path;
            Kind = kind;
        }

        /// <summary>The path that is taken.</summary>
        public string Path { get; }

        /// <summary>What is at the path.</summary>
        public UnixPathKind Kind { get; }
    }

    /// <summary>A Unix socket connect named a file that is not a socket (a directory, a FIFO, a regular file).</summary>
    public sealed class NotASocketException : IOException
    {
        public NotASocketException(string path, UnixPathKind kind)
            : base($"'{path}' is {NetSocket.Describe(kind)}, not a Unix socket; no server can listen there.")
        {
            Path = path;
            Kind = kind;
        }

        /// <summary>The path given.</summary>
        public string Path { get; }

        /// <summary>What is at the path.</summary>
        public UnixPathKind Kind { get; }
    }

    /// <summary>An address filter entry is not an IP address or CIDR range.</summary>
    public sealed class AddressFilterException : ArgumentException
    {
        public AddressFilterException(string message)
            : base(message)
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
    internal static class TransferFacts
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

using System;
using System.IO;
using System.Management.Automation;
using System.Net.Sockets;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// Builds every error record of the module. Error ids are stable, PascalCase and carry no run-time data; messages
    /// say what was tried, where, why it failed and what to do.
    /// </summary>
    internal static partial class ErrorFactory
    {
        /// <summary>
        /// An error record. With a <paramref name="message"/> (what was tried, where, what to do), the record's exception
        /// carries that message, so <c>catch { $_.Exception.Message }</c> reads what the console shows; the engine's or
        /// system's own exception stays as its InnerException.
        /// </summary>
        public static ErrorRecord Create(Exception exception, string errorId, ErrorCategory category, object target, string message = null)
        {
            Exception carried = message == null || message == exception.Message ? exception : new SocketCommandException(message, errorId, exception);
            var record = new ErrorRecord(carried, errorId, category, target);
            if (message != null)
            {
                record.ErrorDetails = new ErrorDetails(message);
            }

            return record;
        }

        public static ErrorRecord SocketNotFound(int id) => Create(
            new ArgumentException($"No open socket has id {id}."),
            "SocketNotFound",
            ErrorCategory.ObjectNotFound,
            id,
            $"No open socket has id {id}. It may have been closed; Get-Socket lists the open sockets.");

        /// <summary>-Name without wildcards that names no open socket.</summary>
        public static ErrorRecord SocketNotFound(string name) => Create(
            new ArgumentException($"No open socket is named '{name}'."),
            "SocketNotFound",
            ErrorCategory.ObjectNotFound,
            name,
            $"No open socket is named '{name}'. It may have been closed; Get-Socket lists the open sockets and their names.");

        /// <summary>-Name that matches several sockets where the cmdlet acts on one.</summary>
        public static ErrorRecord SocketNameAmbiguous(string name, System.Collections.Generic.IEnumerable<NetSocket> matches) => Create(
            new ArgumentException($"-Name '{name}' matches more than one socket."),
            "SocketNameAmbiguous",
            ErrorCategory.InvalidArgument,
            name,
            $"-Name '{name}' matches sockets {string.Join(", ", System.Linq.Enumerable.Select(matches, s => s.Id))}, and this cmdlet acts on one socket. Use a name that matches one, -Id, or pipe the sockets (Get-Socket -Name '{name}' | ...).");

        /// <summary>True for the failures a socket call is expected to report as an error rather than a crash.</summary>
        public static bool IsExpected(Exception e) =>
            e is SocketException || e is InvalidSocketStateException || e is TimeoutException || e is IOException
            || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException
            || e is ObjectDisposedException || e is System.Security.SecurityException || e is System.Security.Authentication.AuthenticationException;

        /// <summary>
        /// Maps an engine exception to an error record. <paramref name="attempt"/> says what was tried ("connect to
        /// localhost:80"); <paramref name="operation"/>, for calls that wait on the network, names a system timeout.
        /// </summary>
        public static ErrorRecord FromException(Exception e, object target, string attempt, SocketOperation? operation = null)
        {
            ErrorRecord record = Map(e, target, attempt, operation);
            string facts = Facts(e);
            return facts.Length == 0
                ? record
                : Create(e, record.FullyQualifiedErrorId, record.CategoryInfo.Category, record.TargetObject, (record.ErrorDetails?.Message ?? e.Message) + facts);
        }

        /// <summary>What became of the bytes of a failed transfer, as sentences to add to its message (or empty).</summary>
        private static string Facts(Exception e)
        {
            var text = new System.Text.StringBuilder();
            long? written = TransferFacts.Get(e, TransferFacts.BytesWritten);
            long? kept = TransferFacts.Get(e, TransferFacts.BytesKept);
            long? sent = TransferFacts.Get(e, TransferFacts.BytesSent);
            if (written.HasValue)
            {
                text.Append($" {written.Value} bytes were written before the failure.");
            }

            if (sent.HasValue && sent.Value > 0)
            {
                text.Append($" {sent.Value} bytes of this call were sent before the failure.");
            }

            if (kept.HasValue && kept.Value > 0)
            {
                text.Append($" {kept.Value} received bytes are kept on the socket: the next Receive-SocketData hands them out first.");
            }

            return text.ToString();
        }

        private static ErrorRecord Map(Exception e, object target, string attempt, SocketOperation? operation)
        {
            string prefix = $"Could not {attempt}: ";
            switch (e)
            {
                case InvalidSocketStateException state:
                    return Create(e, "InvalidSocketState", ErrorCategory.InvalidOperation, target ?? state.Socket, Text(state));
                case SocketTimeoutException timeout:
                    return Create(e, timeout.Operation + "Timeout", ErrorCategory.OperationTimeout, target,
                        prefix + $"{timeout.WhatDidNotHappen ?? What(timeout)} within {timeout.Timeout.TotalSeconds:0.###} s. {TimeoutAdvice(timeout.Operation)}");
                case TlsTruncatedException _:
                    return Create(e, "TlsTruncated", ErrorCategory.ProtocolError, target,
                        prefix + "the TLS stream ended without the peer's close_notify, so what arrived may be cut short (the connection was cut, or an attacker ended it). Treat the data as incomplete.");
                case RecordTooLongException tooLong:
                    return Create(e, "RecordTooLong", ErrorCategory.LimitsExceeded, target,
                        prefix + $"no terminator arrived within {tooLong.Limit} bytes (-MaxRecordLength). The data stays buffered: raise -MaxRecordLength, check -Delimiter, or read it with -ByteCount.");
                case DatagramTooLargeException tooLarge:
                    return Create(e, "DatagramTooLarge", ErrorCategory.LimitsExceeded, target, prefix + tooLarge.Message);
                case PathInUseException inUse:
                    return Create(e, "AddressInUse", ErrorCategory.ResourceUnavailable, target,
                        prefix + inUse.Message + " Choose another path, stop that server, or remove the file if it is not needed.");
                case NotASocketException notSocket:
                    return Create(e, "NotASocket", ErrorCategory.InvalidArgument, target,
                        prefix + notSocket.Message + " Give the path of the server's socket file.");
                case PathTooLongException _:
                    return Create(e, "PathTooLong", ErrorCategory.InvalidArgument, target, prefix + e.Message);
                case PlatformNotSupportedException _:
                    return Create(e, "NotSupported", ErrorCategory.NotImplemented, target, prefix + e.Message);
                case CertificateValidationException invalid:
                    return Create(e, "CertificateValidationFailed", ErrorCategory.SecurityError, target,
                        prefix + invalid.Message + " Use the host name the certificate was issued for (-TargetHost), trust its issuer or the certificate itself for this call with -TrustedCertificate (or pin it with -CertificateThumbprint), or, for tests only, -SkipCertificateCheck.");
                case CertificatePinMismatchException pin:
                    return Create(e, "CertificateThumbprintMismatch", ErrorCategory.SecurityError, target,
                        prefix + pin.Message + " Check -CertificateThumbprint against the server's certificate (its SHA-256 thumbprint is named above), or trust its issuer with -TrustedCertificate.");
                case TlsHandshakeException handshake:
                    return Create(e, "TlsHandshakeFailed", ErrorCategory.ProtocolError, target,
                        prefix + handshake.Message + " Check that the peer speaks TLS on this port and supports the TLS versions asked for.");
                case CertificateLoadException load:
                    return Create(e, "CertificateLoadFailed", ErrorCategory.InvalidData, target, prefix + Text(load));
                case SocketException socket:
                    return FromSocketException(socket, target, prefix, operation);
                case FileNotFoundException _:
                case DirectoryNotFoundException _:
                    return Create(e, "FileNotFound", ErrorCategory.ObjectNotFound, target, prefix + e.Message + " Check the path.");
                case UnauthorizedAccessException _:
                case System.Security.SecurityException _:
                    return Create(e, "AccessDenied", ErrorCategory.PermissionDenied, target, prefix + e.Message);
                case PathIsDirectoryException _:
                    return Create(e, "PathIsDirectory", ErrorCategory.InvalidArgument, target, prefix + e.Message + " Name a file.");
                case IOException _:
                    return Create(e, "FileError", ErrorCategory.WriteError, target, prefix + e.Message);
                case ObjectDisposedException _:
                    return Create(e, "InvalidSocketState", ErrorCategory.InvalidOperation, target, prefix + "the socket was closed. Create a new socket.");
                case ArgumentException _:
                case NotSupportedException _ when !(e is PlatformNotSupportedException):
                    return Create(e, "InvalidArgument", ErrorCategory.InvalidArgument, target, prefix + Text(e));
                default:
                    return Create(e, "SocketError", ErrorCategory.InvalidOperation, target, prefix + e.Message);
            }
        }

        private static ErrorRecord FromSocketException(SocketException e, object target, string prefix, SocketOperation? operation)
        {
            switch (e.SocketErrorCode)
            {
                case SocketError.ConnectionRefused:
                    return Create(e, "ConnectionRefused", ErrorCategory.ConnectionError, target,
                        prefix + "the connection was refused. Check that a server is listening on that address and port.");
                case SocketError.HostNotFound:
                case SocketError.NoData:
                case SocketError.TryAgain:
                    return Create(e, "HostNotFound", ErrorCategory.ObjectNotFound, target,
                        prefix + "the host name could not be resolved. Check its spelling and the DNS settings.");
                case SocketError.AddressAlreadyInUse:
                    return Create(e, "AddressInUse", ErrorCategory.ResourceUnavailable, target,
                        prefix + "the address and port are already in use. Choose another port, or -Port 0 for a free one, or close the socket that holds it.");
                case SocketError.AddressNotAvailable:
                    return Create(e, "AddressNotAvailable", ErrorCategory.InvalidArgument, target,
                        prefix + "that address does not belong to this machine. Use one of its addresses, Loopback or Any.");
                case SocketError.AddressFamilyNotSupported:
                    return Create(e, "AddressFamilyMismatch", ErrorCategory.InvalidArgument, target,
                        prefix + "the address is of another family than the socket (IPv4 vs IPv6). Create the socket without -AddressFamily, or with the family of the address.");
                case SocketError.ConnectionReset:
                case SocketError.ConnectionAborted:
                case SocketError.Shutdown:
                case SocketError.NotConnected:
                    return Create(e, "ConnectionReset", ErrorCategory.ConnectionError, target,
                        prefix + "the peer closed or reset the connection. Reconnect if the conversation must go on.");
                case SocketError.TimedOut when operation.HasValue:
                    return Create(e, operation + "Timeout", ErrorCategory.OperationTimeout, target,
                        prefix + "the network timed out. " + TimeoutAdvice(operation.Value));
                case SocketError.NetworkUnreachable:
                case SocketError.HostUnreachable:
                case SocketError.NetworkDown:
                case SocketError.HostDown:
                    return Create(e, "NetworkUnreachable", ErrorCategory.ConnectionError, target,
                        prefix + "the network or host cannot be reached. Check the address and the routes.");
                case SocketError.TooManyOpenSockets:
                    return Create(e, "DescriptorsExhausted", ErrorCategory.ResourceUnavailable, target,
                        prefix + "the process has no free file descriptors (too many open sockets and files). Close sockets that are no longer needed, or raise the limit (ulimit -n).");
                case SocketError.AccessDenied:
                    return Create(e, "AccessDenied", ErrorCategory.PermissionDenied, target,
                        prefix + "the system denied it. Binding to a port below 1024 may need elevated rights; sending to a broadcast address needs -Broadcast (New-Socket or Set-SocketOption).");
                default:
                    return Create(e, "SocketError", ErrorCategory.ConnectionError, target,
                        prefix + $"{e.Message} ({e.SocketErrorCode}).");
            }
        }

        /// <summary>What did not happen in time; a -ByteCount read says how many of its bytes did arrive.</summary>
        private static string What(SocketTimeoutException timeout)
        {
            long? kept = TransferFacts.Get(timeout, TransferFacts.BytesKept);
            long? expected = TransferFacts.Get(timeout, TransferFacts.BytesExpected);
            if (timeout.Operation == SocketOperation.Receive && kept > 0)
            {
                return expected.HasValue ? $"only {kept} of the {expected} bytes asked for arrived" : "the rest of the data did not arrive";
            }

            return "no " + Noun(timeout.Operation);
        }

        private static string Noun(SocketOperation operation)
        {
            switch (operation)
            {
                case SocketOperation.Accept: return "connection arrived";
                case SocketOperation.Connect: return "connection was made";
                case SocketOperation.Send: return "room to send (the peer is not reading)";
                case SocketOperation.Resolve: return "answer came from the name resolver";
                default: return "data arrived";
            }
        }

        private static string TimeoutAdvice(SocketOperation operation)
        {
            switch (operation)
            {
                case SocketOperation.Accept: return "Raise -TimeoutSec or check that clients connect to this port.";
                case SocketOperation.Connect: return "Check that the host is up and reachable, or raise -TimeoutSec.";
                case SocketOperation.Send: return "Check that the peer reads its data, or raise -TimeoutSec.";
                case SocketOperation.Resolve: return "Check the DNS settings, give an IP address instead of a name, or raise -TimeoutSec.";
                default: return "Check that the peer sends, or raise -TimeoutSec.";
            }
        }
    }

    /// <summary>
    /// The exception of every error record the module writes with a message of its own: the message says what was tried,
    /// where, why it failed and what to do; <see cref="Exception.InnerException"/> is the engine's or the system's
    /// exception (a SocketException with its error code, a TimeoutException, ...).
    /// </summary>
    public sealed class SocketCommandException : Exception
    {
        public SocketCommandException(string message, string errorId, Exception inner)
            : base(message, inner)
        {
            ErrorId = errorId;
        }

        /// <summary>The stable error id, as in the record's FullyQualifiedErrorId.</summary>
        public string ErrorId { get; }
    }
}

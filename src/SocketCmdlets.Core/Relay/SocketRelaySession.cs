using System;

namespace SocketCmdlets
{
    /// <summary>Why a relayed connection ended.</summary>
    public enum RelayEndReason
    {
        /// <summary>Both sides finished sending (end of stream each way).</summary>
        Closed,
        /// <summary>One side reset the connection; the reset was passed on to the other.</summary>
        Reset,
        /// <summary>No byte moved either way for the idle timeout.</summary>
        IdleTimeout,
        /// <summary>Stopped by the user (Ctrl+C, Stop-Job, Remove-Module).</summary>
        Stopped,
        /// <summary>The relay failed (the target refused or timed out, a TLS handshake failed, ...); see Error.</summary>
        Error,
    }

    /// <summary>One relayed connection, once it has ended: who, how much each way, how long, and why it ended.</summary>
    public sealed class SocketRelaySession
    {
        /// <summary>The client side: address:port, or the Unix socket path.</summary>
        public string SourceEndPoint { get; internal set; }

        /// <summary>The target side: address:port, or the Unix socket path.</summary>
        public string TargetEndPoint { get; internal set; }

        /// <summary>Bytes forwarded from the source to the target.</summary>
        public long BytesToTarget { get; internal set; }

        /// <summary>Bytes forwarded from the target to the source.</summary>
        public long BytesToSource { get; internal set; }

        /// <summary>When the relay of this connection started.</summary>
        public DateTime StartTime { get; internal set; }

        /// <summary>How long the relay ran.</summary>
        public TimeSpan Duration { get; internal set; }

        /// <summary>Why it ended.</summary>
        public RelayEndReason EndReason { get; internal set; }

        /// <summary>With EndReason Error: what failed, in words; otherwise empty.</summary>
        public string Error { get; internal set; }

        /// <inheritdoc />
        public override string ToString() =>
            $"{SourceEndPoint} <-> {TargetEndPoint}: {BytesToTarget} B to target, {BytesToSource} B to source, {EndReason}";
    }
}

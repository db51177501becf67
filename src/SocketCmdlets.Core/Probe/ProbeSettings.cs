using System;
using System.Collections.Generic;

namespace SocketCmdlets
{
    /// <summary>How a <see cref="PortProber"/> probes.</summary>
    internal sealed class ProbeSettings
    {
        /// <summary>The limit of one probe: name resolution, connect and TLS handshake together.</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

        /// <summary>At most this many probes in flight (each holds at most one socket).</summary>
        public int ThrottleLimit { get; set; } = 100;

        /// <summary>How many attempts per host and port (ignored when <see cref="Wait"/> is set).</summary>
        public int Count { get; set; } = 1;

        /// <summary>The pause between two attempts of the same host and port.</summary>
        public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

        /// <summary>Retry each host and port until it is open, or until <see cref="WaitTimeout"/> has passed.</summary>
        public bool Wait { get; set; }

        /// <summary>The one deadline of <see cref="Wait"/>, counted from the creation of the prober.</summary>
        public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>Probe every address of a name (one result each), rather than stopping at the first that answers.</summary>
        public bool AllAddresses { get; set; }

        /// <summary>Complete a TLS handshake on open ports and report its facts.</summary>
        public bool UseTls { get; set; }

        /// <summary>The name sent in the TLS handshake (SNI) and checked against the certificate; default: the host as given.</summary>
        public string TargetHost { get; set; }

        /// <summary>
        /// With UseTls: the roots and pins to judge the certificate by (-TrustedCertificate, -CertificateThumbprint)
        /// instead of the system's store; CertificateErrors then lists what they refuse. Null: the system's trust.
        /// </summary>
        public CertificateTrust Trust { get; set; }

        internal void Validate()
        {
            if (Timeout <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "The timeout must be positive.");
            }

            if (ThrottleLimit < 1 || Count < 1)
            {
                throw new ArgumentOutOfRangeException(ThrottleLimit < 1 ? nameof(ThrottleLimit) : nameof(Count), "The limit and the count must be at least 1.");
            }

            if (Interval < TimeSpan.Zero || WaitTimeout < TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(Interval), "The interval and the wait timeout cannot be negative.");
            }
        }
    }

    /// <summary>What a <see cref="PortProber"/> reports.</summary>
    internal enum ProbeEventKind
    {
        /// <summary>A probe ended: <see cref="ProbeEvent.Result"/>.</summary>
        Result,
        /// <summary>A line about what happens on the wire: <see cref="ProbeEvent.Message"/>.</summary>
        Trace,
        /// <summary>Every result of a host and port has been reported.</summary>
        TargetDone,
        /// <summary>With Wait: the port never opened in time; <see cref="ProbeEvent.Results"/> holds the last attempt.</summary>
        WaitTimeout,
        /// <summary>The prober itself failed: <see cref="ProbeEvent.Error"/>; nothing follows.</summary>
        Fault,
    }

    /// <summary>One report of a <see cref="PortProber"/>, taken from its queue on the caller's thread.</summary>
    internal sealed class ProbeEvent
    {
        internal ProbeEvent(ProbeEventKind kind, int target)
        {
            Kind = kind;
            Target = target;
        }

        /// <summary>What this report is.</summary>
        public ProbeEventKind Kind { get; }

        /// <summary>The index of the host and port (the order of submission, from 0); -1 for none.</summary>
        public int Target { get; }

        /// <summary>The host as submitted.</summary>
        public string ComputerName { get; internal set; }

        /// <summary>The port as submitted.</summary>
        public int Port { get; internal set; }

        /// <summary>The result (Result).</summary>
        public SocketConnectionTest Result { get; internal set; }

        /// <summary>The results of the last attempt (WaitTimeout).</summary>
        public IReadOnlyList<SocketConnectionTest> Results { get; internal set; }

        /// <summary>The text (Trace).</summary>
        public string Message { get; internal set; }

        /// <summary>The failure (Fault).</summary>
        public Exception Error { get; internal set; }
    }
}

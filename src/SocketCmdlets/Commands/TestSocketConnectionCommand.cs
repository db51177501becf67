using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// TCP connect probes of many hosts and ports at once ("is that port open?"), run inside the engine: at most
    /// -ThrottleLimit sockets open at a time, each probe bounded by -TimeoutSec, results written as they complete.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "SocketConnection", DefaultParameterSetName = CountSet)]
    [OutputType(typeof(SocketConnectionTest), typeof(bool))]
    public sealed class TestSocketConnectionCommand : SocketCommandBase
    {
        private const string CountSet = "Count";
        private const string WaitSet = "Wait";

        private PortProber _prober;
        private readonly Dictionary<int, bool> _anyOpen = new Dictionary<int, bool>();
        private readonly Dictionary<int, List<object>> _held = new Dictionary<int, List<object>>();
        private readonly HashSet<int> _done = new HashSet<int>();
        private int _nextInOrder;

        /// <summary>The host names or IP addresses to probe.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("HostName", "IPAddress", "DNSHostName", "Name")]
        [ValidateNotNullOrEmpty]
        public string[] ComputerName { get; set; }

        /// <summary>The TCP ports to probe on every host (1-65535).</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("RemotePort")]
        [ValidateNotNullOrEmpty]
        [ValidateRange(1, 65535)]
        public int[] Port { get; set; }

        /// <summary>Seconds one probe may take (name resolution, connect and TLS handshake together); fractions allowed. Default 2.</summary>
        [Parameter]
        [ValidateRange(0.001, 86400.0)]
        public double TimeoutSec { get; set; } = 2;

        /// <summary>At most this many probes (and sockets) at once. Default 100.</summary>
        [Parameter]
        [ValidateRange(1, 10000)]
        public int ThrottleLimit { get; set; } = 100;

        /// <summary>Probes each host and port this many times, one result per attempt (Attempt 1, 2, ...).</summary>
        [Parameter(ParameterSetName = CountSet)]
        [ValidateRange(1, int.MaxValue)]
        public int Count { get; set; } = 1;

        /// <summary>Retries each host and port until it is open; ends with the error WaitTimeout after -WaitTimeoutSec.</summary>
        [Parameter(Mandatory = true, ParameterSetName = WaitSet)]
        public SwitchParameter Wait { get; set; }

        /// <summary>With -Wait: seconds to keep trying, in all, from the start of the call. Default 60.</summary>
        [Parameter(ParameterSetName = WaitSet)]
        [ValidateRange(0.001, 86400.0)]
        public double WaitTimeoutSec { get; set; } = 60;

        /// <summary>Seconds between two attempts on the same host and port (-Count, -Wait). Default 1.</summary>
        [Parameter]
        [ValidateRange(0.0, 3600.0)]
        public double IntervalSec { get; set; } = 1;

        /// <summary>Writes one bool per host and port (true when any attempt found it open) instead of result objects.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        /// <summary>Probes every address a name resolves to (one result each), rather than stopping at the first that answers.</summary>
        [Parameter]
        public SwitchParameter AllAddresses { get; set; }

        /// <summary>Writes the results in the order of the input (host by host, port by port) rather than as they complete.</summary>
        [Parameter]
        public SwitchParameter Ordered { get; set; }

        /// <summary>Completes a TLS handshake on each open port and reports its protocol, cipher suite and certificate.</summary>
        [Parameter]
        public SwitchParameter UseTls { get; set; }

        /// <summary>With -UseTls: the name sent to the server (SNI) and checked against its certificate, if not -ComputerName.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string TargetHost { get; set; }

        /// <summary>With -UseTls: accepted for symmetry with Connect-Socket; a probe never fails on a certificate, whose problems are listed in CertificateErrors either way.</summary>
        [Parameter]
        public SwitchParameter SkipCertificateCheck { get; set; }

        /// <summary>With -UseTls: certificates (objects, or PEM, DER or PFX files) trusted as roots to judge each server's certificate by, instead of the system's store; CertificateErrors lists what they refuse.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public object[] TrustedCertificate { get; set; }

        /// <summary>With -UseTls: SHA-256 (or SHA-1) thumbprints of the exact certificates to accept; another certificate is listed in CertificateErrors.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] CertificateThumbprint { get; set; }

        /// <summary>Starts the probe engine.</summary>
        protected override void BeginProcessing()
        {
            if ((IsBound(nameof(TargetHost)) || SkipCertificateCheck || TrustedCertificate != null || CertificateThumbprint != null) && !UseTls)
            {
                ThrowParameterError("TlsParameterWithoutUseTls", "-TargetHost, -SkipCertificateCheck, -TrustedCertificate and -CertificateThumbprint only apply with -UseTls. Add -UseTls, or leave them out.");
            }

            CertificateTrust trust = TlsTrustParameters.Create(this, TrustedCertificate, CertificateThumbprint, SkipCertificateCheck.IsPresent);

            var settings = new ProbeSettings
            {
                Timeout = TimeSpan.FromSeconds(TimeoutSec),
                ThrottleLimit = ThrottleLimit,
                Count = Count,
                Interval = TimeSpan.FromSeconds(IntervalSec),
                Wait = Wait,
                WaitTimeout = TimeSpan.FromSeconds(WaitTimeoutSec),
                AllAddresses = AllAddresses,
                UseTls = UseTls,
                TargetHost = TargetHost,
                Trust = trust,
            };
            if (VerboseEnabled)
            {
                WriteVerbose($"Probing with at most {ThrottleLimit} connects at once, {TimeoutSec:0.###} s each" +
                    (Wait ? $", until open or {WaitTimeoutSec:0.###} s have passed." : Count > 1 ? $", {Count} times each." : "."));
            }

            _prober = new PortProber(settings, StopToken, VerboseEnabled);
        }

        /// <summary>Queues every host × port of this input and writes the results that are ready.</summary>
        protected override void ProcessRecord()
        {
            string empty = ComputerName.FirstOrDefault(string.IsNullOrWhiteSpace);
            if (empty != null)
            {
                WriteError(ErrorFactory.Create(new ArgumentException("A host name cannot be empty."), "InvalidArgument", ErrorCategory.InvalidArgument, empty,
                    "Could not probe: a host name is empty or blank. Give a host name or an IP address."));
                return;
            }

            foreach (string host in ComputerName)
            {
                foreach (int port in Port)
                {
                    _prober.Submit(host, port);
                }
            }

            Drain(0);
        }

        /// <summary>Waits for the remaining probes, writing each result as it comes.</summary>
        protected override void EndProcessing()
        {
            _prober.CompleteInput();
            Drain(50);
        }

        private void Drain(int sliceMilliseconds)
        {
            try
            {
                while (true)
                {
                    if (_prober.TryTake(out ProbeEvent probeEvent, sliceMilliseconds, StopToken))
                    {
                        Handle(probeEvent);
                    }
                    else if (sliceMilliseconds == 0 || _prober.IsCompleted)
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        }

        private void Handle(ProbeEvent e)
        {
            switch (e.Kind)
            {
                case ProbeEventKind.Trace:
                    WriteVerbose(e.Message);
                    break;
                case ProbeEventKind.Result:
                    if (Quiet)
                    {
                        _anyOpen[e.Target] = (_anyOpen.TryGetValue(e.Target, out bool open) && open) || e.Result.Open;
                    }
                    else
                    {
                        Emit(e.Target, e.Result);
                    }

                    break;
                case ProbeEventKind.WaitTimeout:
                    if (!Quiet)
                    {
                        Emit(e.Target, WaitTimeoutError(e));
                    }

                    break;
                case ProbeEventKind.TargetDone:
                    if (Quiet)
                    {
                        Emit(e.Target, _anyOpen.TryGetValue(e.Target, out bool any) && any);
                        _anyOpen.Remove(e.Target);
                    }

                    if (Ordered)
                    {
                        _done.Add(e.Target);
                        Flush();
                    }

                    break;
                case ProbeEventKind.Fault:
                    ThrowTerminatingError(ErrorFactory.Create(e.Error, "ProbeFailed", ErrorCategory.InvalidOperation, null,
                        $"The probes stopped on an unexpected failure: {e.Error.Message}"));
                    break;
            }
        }

        private ErrorRecord WaitTimeoutError(ProbeEvent e)
        {
            SocketConnectionTest last = e.Results.LastOrDefault();
            string where = Where(e.ComputerName, e.Port);
            string found = last == null ? string.Empty : $" The last attempt ({last.Attempt}) found it {last.Status}{(last.Detail != null ? ": " + last.Detail : ".")}";
            return ErrorFactory.Create(new TimeoutException($"{where} did not open within {WaitTimeoutSec:0.###} s."), "WaitTimeout", ErrorCategory.OperationTimeout, where,
                $"Could not wait for {where} to open: it was still not open after {WaitTimeoutSec:0.###} s (-WaitTimeoutSec).{found} Check the host and the service, or raise -WaitTimeoutSec.");
        }

        private void Emit(int target, object item)
        {
            if (!Ordered)
            {
                Write(item);
                return;
            }

            if (!_held.TryGetValue(target, out List<object> list))
            {
                _held[target] = list = new List<object>();
            }

            list.Add(item);
        }

        private void Flush()
        {
            if (!Ordered)
            {
                return;
            }

            while (_done.Remove(_nextInOrder))
            {
                if (_held.TryGetValue(_nextInOrder, out List<object> list))
                {
                    list.ForEach(Write);
                    _held.Remove(_nextInOrder);
                }

                _nextInOrder++;
            }
        }

        private void Write(object item)
        {
            if (item is ErrorRecord error)
            {
                WriteError(error);
            }
            else
            {
                WriteObject(item);
            }
        }

        /// <summary>Stops the probes and closes their sockets, after Ctrl+C too.</summary>
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _prober?.Dispose();
                _prober = null;
            }

            base.Dispose(disposing);
        }
    }
}

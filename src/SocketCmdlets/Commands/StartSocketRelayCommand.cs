using System;
using System.Management.Automation;
using System.Security;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// A port forwarder in the background: listens on a port (or Unix path), and relays each connection to a target
    /// host and port (or Unix path) in the engine. Returns a job (SocketRelayJob) for Get-Job, Receive-Job, Stop-Job,
    /// Wait-Job and Remove-Job.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "SocketRelay", DefaultParameterSetName = PortToHostSet)]
    [OutputType(typeof(SocketRelayJob))]
    public sealed class StartSocketRelayCommand : SocketCommandBase
    {
        private const string PortToHostSet = "PortToHost";
        private const string PortToPathSet = "PortToPath";
        private const string PathToHostSet = "PathToHost";
        private const string PathToPathSet = "PathToPath";

        /// <summary>The local port to listen on (0: a free one; the job's LocalEndPoint shows it).</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PortToHostSet)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PortToPathSet)]
        [ValidateRange(0, 65535)]
        public int ListenPort { get; set; }

        /// <summary>The local address to listen on: an IP address, Loopback or Any (every interface, the default).</summary>
        [Parameter(ParameterSetName = PortToHostSet)]
        [Parameter(ParameterSetName = PortToPathSet)]
        [ArgumentCompleter(typeof(AddressCompleter))]
        [ValidateNotNullOrEmpty]
        public string ListenAddress { get; set; } = "Any";

        /// <summary>A Unix domain socket path to listen on instead of a port.</summary>
        [Parameter(Mandatory = true, ParameterSetName = PathToHostSet)]
        [Parameter(Mandatory = true, ParameterSetName = PathToPathSet)]
        [ValidateNotNullOrEmpty]
        public string ListenPath { get; set; }

        /// <summary>The host to forward each connection to.</summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = PortToHostSet)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = PathToHostSet)]
        [Alias("HostName")]
        [ValidateNotNullOrEmpty]
        public string ComputerName { get; set; }

        /// <summary>The port to forward each connection to (1-65535).</summary>
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = PortToHostSet)]
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = PathToHostSet)]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        /// <summary>A Unix domain socket path to forward each connection to instead of a host and port.</summary>
        [Parameter(Mandatory = true, ParameterSetName = PortToPathSet)]
        [Parameter(Mandatory = true, ParameterSetName = PathToPathSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        /// <summary>Starts TLS towards the target (originates TLS): clients speak plain text, the target gets TLS.</summary>
        [Parameter(ParameterSetName = PortToHostSet)]
        [Parameter(ParameterSetName = PathToHostSet)]
        public SwitchParameter UseTls { get; set; }

        /// <summary>With -UseTls: accepts the target's certificate without validating it (for tests only).</summary>
        [Parameter(ParameterSetName = PortToHostSet)]
        [Parameter(ParameterSetName = PathToHostSet)]
        public SwitchParameter SkipCertificateCheck { get; set; }

        /// <summary>With -UseTls: the name the target's certificate must carry, if not -ComputerName.</summary>
        [Parameter(ParameterSetName = PortToHostSet)]
        [Parameter(ParameterSetName = PathToHostSet)]
        [ValidateNotNullOrEmpty]
        public string TargetHost { get; set; }

        /// <summary>Terminates TLS from clients with this certificate (an X509Certificate2 with its private key, or a PFX or PEM file).</summary>
        [Parameter]
        [ValidateNotNull]
        public object Certificate { get; set; }

        /// <summary>The password of a PFX file given to -Certificate.</summary>
        [Parameter]
        public SecureString CertificatePassword { get; set; }

        /// <summary>The PEM private key file, when -Certificate is a PEM certificate whose key is in another file.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string KeyPath { get; set; }

        /// <summary>The most connections relayed at once; more are closed at once and counted in RejectedConnections. 0 (the default): no limit.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int MaxConnections { get; set; }

        /// <summary>Only clients from these IP addresses or CIDR ranges are relayed (10.0.0.0/8, ::1); others are closed and counted.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] AllowAddress { get; set; }

        /// <summary>Clients from these IP addresses or CIDR ranges are closed at once and counted; deny wins over allow.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] DenyAddress { get; set; }

        /// <summary>Closes a connection when no byte has moved either way for this many seconds; 0 (the default) means never.</summary>
        [Parameter]
        [ValidateRange(0, double.MaxValue)]
        public double IdleTimeoutSec { get; set; }

        /// <summary>Seconds each connect to the target (and each TLS handshake) may take; 30 by default, 0 means no limit of ours.</summary>
        [Parameter]
        [ValidateRange(0, double.MaxValue)]
        public double TimeoutSec { get; set; } = 30;

        /// <summary>The job's name; by default "SocketRelay" and the listening endpoint.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        protected override void BeginProcessing()
        {
            if (!UseTls.IsPresent && (SkipCertificateCheck.IsPresent || TargetHost != null))
            {
                ThrowParameterError("ConflictingParameters", "-SkipCertificateCheck and -TargetHost go with -UseTls.");
            }

            if (Certificate == null && (CertificatePassword != null || KeyPath != null))
            {
                ThrowParameterError("ConflictingParameters", "-CertificatePassword and -KeyPath go with -Certificate.");
            }
        }

        protected override void EndProcessing()
        {
            var options = new RelayListenerOptions
            {
                ListenAddress = ListenAddress,
                ListenPort = ListenPort,
                ListenPath = ListenPath == null ? null : GetUnresolvedProviderPathFromPSPath(ListenPath),
                TargetHost = ComputerName,
                TargetPort = Port,
                TargetPath = Path == null ? null : GetUnresolvedProviderPathFromPSPath(Path),
                TargetTls = UseTls.IsPresent ? new TlsOptions { TargetHost = TargetHost ?? ComputerName, SkipCertificateCheck = SkipCertificateCheck.IsPresent } : null,
                Certificate = TlsCommands.LoadCertificate(this, Certificate, CertificatePassword, KeyPath),
                MaxConnections = MaxConnections,
                AllowAddress = AllowAddress,
                DenyAddress = DenyAddress,
                IdleTimeout = ToTimeout(IdleTimeoutSec),
                ConnectTimeout = ToTimeout(TimeoutSec),
                Name = Name,
            };
            string listen = options.ListenPath != null ? $"'{options.ListenPath}'" : Where(ListenAddress, ListenPort);

            RelayListener relay = null;
            try
            {
                relay = RelayListener.Start(options, Trace);
            }
            catch (AddressFilterException e)
            {
                ThrowTerminatingError(ErrorFactory.Create(e, "InvalidAddressFilter", ErrorCategory.InvalidArgument, AllowAddress ?? DenyAddress,
                    $"Could not start a relay on {listen}: {e.Message}"));
            }
            catch (Exception e) when (ErrorFactory.IsExpected(e))
            {
                ThrowTerminatingError(ErrorFactory.FromException(e, listen, $"start a relay on {listen}", SocketOperation.Accept));
            }

            relay.Owner = CurrentOwner;
            string command = $"{MyInvocation.MyCommand.Name} {relay.LocalEndPoint} -> {relay.Target}{(UseTls.IsPresent ? " (TLS)" : string.Empty)}";
            var job = new SocketRelayJob(command, Name ?? "SocketRelay " + relay.LocalEndPoint, relay);
            try
            {
                JobRepository.Add(job);
                job.StartJob();
            }
            catch
            {
                relay.Stop();
                throw;
            }

            if (VerboseEnabled)
            {
                WriteVerbose($"Relay job {job.Id} listens on {relay.LocalEndPoint} and forwards each connection to {relay.Target}{(UseTls.IsPresent ? " over TLS" : string.Empty)}{(Certificate != null ? ", ending TLS from clients" : string.Empty)}.");
            }

            WriteObject(job);
        }
    }
}

using System;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using SocketCmdlets.Server;

namespace SocketCmdlets.Commands
{
    /// <summary>A server in one line: listens, and runs a script block per connection on a runspace pool, as a job.</summary>
    [Cmdlet(VerbsLifecycle.Start, "SocketServer", DefaultParameterSetName = PortSet)]
    [OutputType(typeof(SocketServerJob))]
    public sealed class StartSocketServerCommand : SocketCommandBase
    {
        private const string PortSet = "Port";
        private const string PathSet = "Path";

        /// <summary>The script block run once per connection, with the connected socket as $_ and first argument.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNull]
        public ScriptBlock ScriptBlock { get; set; }

        /// <summary>The port to listen on (0: a free one, shown by the job's LocalEndPoint).</summary>
        [Parameter(Mandatory = true, ParameterSetName = PortSet)]
        [ValidateRange(0, 65535)]
        public int Port { get; set; }

        /// <summary>The local address (IP, host name, Any or Loopback); every interface by default.</summary>
        [Parameter(ParameterSetName = PortSet)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(AddressCompleter))]
        public string Address { get; set; } = "Any";

        /// <summary>The path of a Unix domain socket to listen on instead of a port.</summary>
        [Parameter(Mandatory = true, ParameterSetName = PathSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        /// <summary>More arguments for the script block, after the socket.</summary>
        [Parameter]
        [Alias("Args")]
        public object[] ArgumentList { get; set; }

        /// <summary>Most handlers that run at once (the size of the runspace pool); more connections wait for a runspace.</summary>
        [Parameter]
        [ValidateRange(1, 1024)]
        public int ThrottleLimit { get; set; } = 10;

        /// <summary>Most connections open at once; clients beyond it are closed at once and counted as rejected.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxConnections { get; set; }

        /// <summary>Only clients from these IP addresses or CIDR ranges may connect.</summary>
        [Parameter(ParameterSetName = PortSet)]
        [ValidateNotNullOrEmpty]
        public string[] AllowAddress { get; set; }

        /// <summary>Clients from these IP addresses or CIDR ranges are turned away (deny wins over allow).</summary>
        [Parameter(ParameterSetName = PortSet)]
        [ValidateNotNullOrEmpty]
        public string[] DenyAddress { get; set; }

        /// <summary>Makes every connection TLS before its handler runs: the server certificate with its private key, or the path of a PFX or PEM file.</summary>
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

        /// <summary>A name for the job (and a label for the listening socket).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        protected override void ProcessRecord()
        {
            // Everything that can be wrong with the arguments is found before a socket exists.
            AddressFilter filter = ServerArguments.Filter(this, AllowAddress, DenyAddress);
            if (Certificate == null && (CertificatePassword != null || KeyPath != null))
            {
                ThrowParameterError("ConflictingParameters", "-CertificatePassword and -KeyPath go with -Certificate.");
            }

            X509Certificate2 certificate = TlsCommands.LoadCertificate(this, Certificate, CertificatePassword, KeyPath);
            string modulePath = ServerArguments.ModulePath(MyInvocation.MyCommand.Module);
            string path = Path == null ? null : GetUnresolvedProviderPathFromPSPath(Path);
            string where = path != null ? $"'{path}'" : Where(Address, Port);

            NetSocket listener = null;
            SocketServerJob job = null;
            bool ok = false;
            try
            {
                if (!Try(() =>
                {
                    listener = Own(NetSocket.Create(SocketProtocol.Tcp, path != null ? SocketFamily.Unix : (SocketFamily?)null, null, Name));
                    if (path != null)
                    {
                        listener.BindPath(path, Trace);
                    }
                    else
                    {
                        listener.Bind(AddressResolver.ForBinding(Address, listener), Port);
                    }

                    listener.Listen();
                }, path ?? Where(Address, Port), $"listen on {where}", terminating: true))
                {
                    return;
                }

                var options = new SocketServerOptions
                {
                    MaxConnections = MaxConnections,
                    Filter = filter.IsEmpty ? null : filter,
                    Owner = CurrentOwner,
                    Tls = certificate == null ? null : new TlsOptions { IsServer = true, Certificate = certificate },
                };
                string location = SessionState.Path.CurrentFileSystemLocation?.ProviderPath;
                job = new SocketServerJob(Name, listener, options, ScriptBlock, ArgumentList, ThrottleLimit, modulePath, location, VerboseEnabled);
                if (VerboseEnabled)
                {
                    WriteVerbose($"Opening {ThrottleLimit} runspace(s) at most for the handlers{(modulePath != null ? $", each with the module from {modulePath}" : string.Empty)}.");
                }

                job.Start(StopToken);
                JobRepository.Add(job);
                ok = true;
            }
            catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
            finally
            {
                if (!ok)
                {
                    // Nothing half-made stays open, even when the error stops the pipeline.
                    job?.Dispose();
                    listener?.Close();
                }
            }

            if (VerboseEnabled)
            {
                WriteVerbose($"Server job {job.Id} listening on {job.Location} (socket {listener.Id}){(certificate != null ? " with TLS" : string.Empty)}"
                    + $"{(MaxConnections > 0 ? $", at most {MaxConnections} connections" : string.Empty)}{(filter.IsEmpty ? string.Empty : ", filtering client addresses")}.");
            }

            WriteObject(job);
        }
    }

    /// <summary>Argument checks that Start-SocketServer and Receive-SocketConnection share.</summary>
    internal static class ServerArguments
    {
        /// <summary>The address filter of -AllowAddress/-DenyAddress; a malformed entry stops the call (InvalidAddressFilter).</summary>
        public static AddressFilter Filter(PSCmdlet cmdlet, string[] allow, string[] deny)
        {
            try
            {
                return AddressFilter.Create(allow, deny);
            }
            catch (ArgumentException e)
            {
                cmdlet.ThrowTerminatingError(ErrorFactory.Create(e, "InvalidAddressFilter", ErrorCategory.InvalidArgument, e.ParamName,
                    e.Message + " Give IP addresses (127.0.0.1, ::1) or CIDR ranges (10.0.0.0/8, fd00::/8)."));
                return null;
            }
        }

        /// <summary>What the handlers' runspaces import: the manifest the module was loaded from, else its assembly.</summary>
        public static string ModulePath(PSModuleInfo module)
        {
            string path = module?.Path;
            if (!string.IsNullOrEmpty(path) && path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            {
                string manifest = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path), "SocketCmdlets.psd1");
                if (System.IO.File.Exists(manifest))
                {
                    return manifest;
                }
            }

            return !string.IsNullOrEmpty(path) ? path : typeof(ServerArguments).Assembly.Location;
        }
    }
}

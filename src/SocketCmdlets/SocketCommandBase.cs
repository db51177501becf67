using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// What every cmdlet of the module shares: Ctrl+C as a cancellation token, -Id resolution, verbose output and the
    /// mapping of engine exceptions to error records.
    /// </summary>
    public abstract partial class SocketCommandBase : PSCmdlet, IDisposable
    {
        /// <summary>The parameter set that takes socket objects.</summary>
        protected const string SocketSet = "Socket";

        /// <summary>The parameter set that takes socket ids.</summary>
        protected const string IdSet = "Id";

        /// <summary>
        /// True when the parameter set names the socket by -Id or by -Name (IdSet or NameSet, or a set whose name starts
        /// with either) rather than passing the object; ResolveSocket and ResolveSockets then look it up.
        /// </summary>
        protected bool ById => ParameterSetName.StartsWith(IdSet, StringComparison.Ordinal) || ByName;

        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private bool? _verbose;

        /// <summary>Cancelled when the user presses Ctrl+C.</summary>
        protected CancellationToken StopToken => _stop.Token;

        /// <summary>True when -Verbose (or $VerbosePreference) asks for verbose output, so messages are only built then.</summary>
        protected bool VerboseEnabled
        {
            get
            {
                if (_verbose == null)
                {
                    if (MyInvocation.BoundParameters.TryGetValue("Verbose", out object value))
                    {
                        _verbose = value is SwitchParameter s ? s.IsPresent : LanguagePrimitives.IsTrue(value);
                    }
                    else
                    {
                        object preference = GetVariableValue("VerbosePreference");
                        _verbose = preference != null && !"SilentlyContinue".Equals(preference.ToString(), StringComparison.OrdinalIgnoreCase)
                            && !"Ignore".Equals(preference.ToString(), StringComparison.OrdinalIgnoreCase);
                    }
                }

                return _verbose.Value;
            }
        }

        /// <summary>A callback for the engine's wire events, or null when verbose output is off.</summary>
        protected Action<string> Trace => VerboseEnabled ? (Action<string>)WriteVerbose : null;

        /// <summary>The owner recorded on sockets opened in the current session: the runspace's id.</summary>
        internal static object CurrentOwner => System.Management.Automation.Runspaces.Runspace.DefaultRunspace?.InstanceId;

        /// <summary>Records that the current session opened <paramref name="socket"/> and returns it.</summary>
        protected static NetSocket Own(NetSocket socket)
        {
            if (socket != null)
            {
                socket.Owner = CurrentOwner;
            }

            return socket;
        }

        /// <summary>Runs on another thread at Ctrl+C.</summary>
        protected override void StopProcessing()
        {
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // A stop that races the end of the pipeline finds the command already disposed: nothing is left to stop.
            }
        }

        /// <summary>EndProcessing is skipped after Ctrl+C or an upstream error; Dispose is not.</summary>
        public void Dispose()
        {
            Dispose(true);
            GC.SuppressFinalize(this);
        }

        /// <summary>
        /// Frees what the call holds. Runs whether or not EndProcessing ran (it does not after Ctrl+C or when a command
        /// before this one in the pipeline fails); a derived cmdlet overrides it and calls the base.
        /// </summary>
        protected virtual void Dispose(bool disposing)
        {
            if (disposing)
            {
                _stop.Dispose();
            }
        }

        /// <summary>-TimeoutSec when it was given, else the socket's own default (Set-SocketOption -ReceiveTimeoutSec/-SendTimeoutSec).</summary>
        protected TimeSpan TimeoutFor(NetSocket socket, double timeoutSec, bool send) =>
            IsBound("TimeoutSec") ? ToTimeout(timeoutSec) : send ? socket.SendTimeout : socket.ReceiveTimeout;

        /// <summary>
        /// A -TimeoutSec value as a timeout: 0 or absent means no limit; any other value, however small, is a limit
        /// (at least a millisecond), never rounded to none.
        /// </summary>
        protected static TimeSpan ToTimeout(double timeoutSec) => Timeouts.FromSeconds(timeoutSec);

        /// <summary>A timeout in seconds for messages ("0.4 s").</summary>
        protected static string Seconds(double timeoutSec) => timeoutSec.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " s";

        /// <summary>
        /// The sockets named by object or by id. An id that names no open socket is reported as an error and skipped.
        /// </summary>
        protected IEnumerable<NetSocket> ResolveSockets(NetSocket[] sockets, int[] ids)
        {
            if (ByName)
            {
                foreach (NetSocket found in ResolveNames())
                {
                    yield return found;
                }

                yield break;
            }

            if (ById || ids != null)
            {
                foreach (int id in ids ?? Array.Empty<int>())
                {
                    NetSocket found = SocketRegistry.Find(id);
                    if (found == null)
                    {
                        WriteError(ErrorFactory.SocketNotFound(id));
                        continue;
                    }

                    yield return found;
                }

                yield break;
            }

            foreach (NetSocket socket in sockets ?? Array.Empty<NetSocket>())
            {
                if (socket != null)
                {
                    yield return socket;
                }
            }
        }

        /// <summary>The one socket named by object or id, or null after writing SocketNotFound.</summary>
        protected NetSocket ResolveSocket(NetSocket socket, int id)
        {
            if (!ById)
            {
                return socket;
            }

            if (ByName)
            {
                return ResolveOneName();
            }

            NetSocket found = SocketRegistry.Find(id);
            if (found == null)
            {
                WriteError(ErrorFactory.SocketNotFound(id));
            }

            return found;
        }

        /// <summary>
        /// Runs an engine call. A failure becomes an error record for the current input (and false), or with
        /// <paramref name="terminating"/> ends the call; Ctrl+C becomes <see cref="PipelineStoppedException"/>, which is not an error.
        /// <paramref name="attempt"/> says what was tried ("connect to localhost:80"). <paramref name="operation"/> is given
        /// only by calls that wait on the network (accept, connect, send, receive): it names a system timeout of theirs
        /// (AcceptTimeout, ConnectTimeout, ...).
        /// </summary>
        protected bool Try(Action action, object target, string attempt, SocketOperation? operation = null, Func<Exception, bool> quiet = null, bool terminating = false)
        {
            try
            {
                action();
                return true;
            }
            catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
            catch (PipelineStoppedException)
            {
                throw;
            }
            catch (Exception e) when (ErrorFactory.IsExpected(e))
            {
                if (terminating)
                {
                    ThrowTerminatingError(ErrorFactory.FromException(e, target, attempt, operation));
                }

                if (quiet == null || !quiet(e))
                {
                    WriteError(ErrorFactory.FromException(e, target, attempt, operation));
                }

                return false;
            }
        }

        private static readonly System.Reflection.PropertyInfo[] s_optionProperties = typeof(SocketOptions).GetProperties();

        /// <summary>
        /// The socket options named on the command line: every bound parameter that shares its name with a property of
        /// <see cref="SocketOptions"/> (switches as true or false).
        /// </summary>
        protected SocketOptions OptionsFromParameters()
        {
            var options = new SocketOptions();
            foreach (System.Reflection.PropertyInfo property in s_optionProperties)
            {
                if (!MyInvocation.BoundParameters.TryGetValue(property.Name, out object value))
                {
                    continue;
                }

                if (value is SwitchParameter switchValue)
                {
                    value = switchValue.IsPresent;
                }

                Type type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                property.SetValue(options, Convert.ChangeType(value, type, System.Globalization.CultureInfo.InvariantCulture));
            }

            return options;
        }

        /// <summary>Received bytes as a new byte array, or as text decoded with <paramref name="encoding"/>.</summary>
        protected static object Received(byte[] buffer, int offset, int length, bool asBytes, System.Text.Encoding encoding)
        {
            if (!asBytes)
            {
                return TextDecoder.Decode(encoding, buffer, offset, length);
            }

            var bytes = new byte[length];
            Buffer.BlockCopy(buffer, offset, bytes, 0, length);
            return bytes;
        }

        /// <summary>Writes received bytes as a new byte array, or as text decoded with <paramref name="encoding"/>.</summary>
        protected void WriteReceived(byte[] buffer, int offset, int length, bool asBytes, System.Text.Encoding encoding) =>
            WriteObject(Received(buffer, offset, length, asBytes, encoding));

        /// <summary>Stops the whole call with an error about conflicting or missing parameters.</summary>
        protected void ThrowParameterError(string errorId, string message, object target = null) =>
            ThrowTerminatingError(ErrorFactory.Create(new ArgumentException(message), errorId, ErrorCategory.InvalidArgument, target));

        /// <summary>True when the parameter was given on the command line (not from the pipeline).</summary>
        protected bool IsBound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

        /// <summary>The peer of a socket for messages: its endpoint, or the path of a Unix domain socket, with the id.</summary>
        internal static string Peer(NetSocket socket) =>
            $"{socket.RemotePath ?? socket.LocalPath ?? NetSocket.Format(socket.RemoteEndPoint)} (socket {socket.Id})";

        /// <summary>Formats a host and port for messages.</summary>
        protected static string Where(string host, int port) =>
            host != null && host.Contains(":") && !host.StartsWith("[", StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";
    }
}

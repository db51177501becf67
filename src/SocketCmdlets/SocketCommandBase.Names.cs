using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>Sockets named by -Name, the way Stop-Job -Name names jobs, and host and port typed as one argument.</summary>
    public abstract partial class SocketCommandBase
    {
        /// <summary>The parameter set that takes socket names (wildcards allowed).</summary>
        protected const string NameSet = "Name";

        /// <summary>True when the parameter set names the socket by -Name (NameSet, or a set whose name starts with "Name").</summary>
        protected bool ByName => ParameterSetName.StartsWith(NameSet, StringComparison.Ordinal);

        /// <summary>
        /// The sockets -Name names, in id order, each once. A name without wildcards that matches nothing is the error
        /// SocketNotFound, as -Id is; a wildcard that matches nothing yields nothing, as Get-Job -Name does.
        /// </summary>
        protected IEnumerable<NetSocket> ResolveNames()
        {
            // -Name is a string on cmdlets that act on one socket and a string[] on those that take many; read it from
            // the bound parameters so the base needs neither property.
            MyInvocation.BoundParameters.TryGetValue("Name", out object bound);
            string[] names = bound is string one ? new[] { one } : bound as string[] ?? Array.Empty<string>();
            NetSocket[] open = SocketRegistry.Snapshot();
            var seen = new HashSet<int>();
            var found = new List<NetSocket>();
            foreach (string name in names)
            {
                if (name == null)
                {
                    continue;
                }

                IEnumerable<NetSocket> matches;
                if (WildcardPattern.ContainsWildcardCharacters(name))
                {
                    WildcardPattern pattern = Pattern(name);
                    matches = open.Where(s => pattern.IsMatch(s.Name ?? string.Empty));
                }
                else
                {
                    matches = open.Where(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)).ToArray();
                    if (!matches.Any())
                    {
                        WriteError(ErrorFactory.SocketNotFound(name));
                    }
                }

                found.AddRange(matches.Where(s => seen.Add(s.Id)));
            }

            return found.OrderBy(s => s.Id);
        }

        /// <summary>The one socket -Name names; null after writing SocketNotFound or SocketNameAmbiguous, or when a wildcard matches none.</summary>
        protected NetSocket ResolveOneName()
        {
            NetSocket[] found = ResolveNames().ToArray();
            if (found.Length > 1)
            {
                MyInvocation.BoundParameters.TryGetValue("Name", out object bound);
                string text = bound is string[] many ? string.Join(", ", many) : bound?.ToString();
                WriteError(ErrorFactory.SocketNameAmbiguous(text, found));
                return null;
            }

            return found.FirstOrDefault();
        }

        private WildcardPattern Pattern(string name)
        {
            WildcardPattern pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            try
            {
                // A pattern is parsed when first used: use it once now, so a bad one is an error whatever is open.
                pattern.IsMatch(string.Empty);
            }
            catch (WildcardPatternException e)
            {
                ThrowTerminatingError(ErrorFactory.Create(e, "InvalidWildcardPattern", ErrorCategory.InvalidArgument, name,
                    $"-Name holds a wildcard pattern that cannot be used: {e.Message} Escape [ and ] with a backtick for literal brackets."));
            }

            return pattern;
        }

        /// <summary>
        /// Splits -ComputerName's host:port, [IPv6]:port or [IPv6] forms; <paramref name="port"/> is -Port when it was
        /// given. Writes InvalidEndPoint (bad text, or a port given twice) or PortRequired (no port anywhere) and
        /// returns false.
        /// </summary>
        protected bool SplitEndPoint(string computerName, int? port, out string host, out int resolvedPort)
        {
            resolvedPort = 0;
            if (!HostPort.TryParse(computerName, out host, out int? typed, out string problem))
            {
                WriteError(ErrorFactory.Create(new ArgumentException(problem), "InvalidEndPoint", ErrorCategory.InvalidArgument, computerName,
                    $"-ComputerName {problem} Give a host (name, IPv4 or IPv6 address) with -Port, or host:port, [IPv6]:port."));
                return false;
            }

            if (typed != null && port != null && typed != port)
            {
                WriteError(ErrorFactory.Create(new ArgumentException($"'{computerName}' names port {typed} and -Port names {port}."), "InvalidEndPoint",
                    ErrorCategory.InvalidArgument, computerName,
                    $"-ComputerName '{computerName}' names port {typed} and -Port names {port}: give the port once."));
                return false;
            }

            if (typed == null && port == null)
            {
                WriteError(ErrorFactory.Create(new ArgumentException($"No port to connect to on '{computerName}'."), "PortRequired",
                    ErrorCategory.InvalidArgument, computerName,
                    $"No port to connect to on '{computerName}': add -Port, or write host:port ([IPv6]:port for an IPv6 address)."));
                return false;
            }

            resolvedPort = typed ?? port.Value;
            return true;
        }
    }
}

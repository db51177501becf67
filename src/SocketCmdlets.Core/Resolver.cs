using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>
    /// The one name resolver of the engine: an asynchronous lookup waited for in short slices, so that a slow or silent
    /// DNS server costs no more than the caller's deadline and Ctrl+C ends the wait at once. (The lookup itself cannot
    /// be cancelled on every runtime; an abandoned one finishes, or not, on its own and is observed.)
    /// </summary>
    internal static class Resolver
    {
        private static readonly Func<string, Task<IPAddress[]>> s_dns = Dns.GetHostAddressesAsync;

        /// <summary>
        /// The lookup used for names that are not literal addresses. Only tests replace it (InternalsVisibleTo), with one
        /// that answers slowly or never; null restores the system resolver.
        /// </summary>
        internal static Func<string, Task<IPAddress[]>> Lookup
        {
            get => s_lookup ?? s_dns;
            set => s_lookup = value;
        }

        private static Func<string, Task<IPAddress[]>> s_lookup;

        /// <summary>
        /// The addresses of <paramref name="host"/> (a literal address is returned as it is, without a lookup), in the
        /// order the resolver gives them. A lookup still running at the deadline throws
        /// <see cref="SocketTimeoutException"/> for <paramref name="operation"/>; a cancelled one
        /// <see cref="OperationCanceledException"/>; a name that does not resolve a <see cref="SocketException"/>.
        /// </summary>
        internal static IPAddress[] Resolve(string host, Deadline deadline, CancellationToken cancellationToken, SocketOperation operation, Action<string> trace = null)
        {
            if (string.IsNullOrWhiteSpace(host))
            {
                throw new ArgumentException("A host name or address is required.", nameof(host));
            }

            string text = host.Trim();
            if (IPAddress.TryParse(text.Trim('[', ']'), out IPAddress literal))
            {
                return new[] { literal };
            }

            cancellationToken.ThrowIfCancellationRequested();
            trace?.Invoke($"Resolving '{text}'.");
            Task<IPAddress[]> lookup = Lookup(text) ?? throw new InvalidOperationException("The resolver returned no task.");

            bool done;
            try
            {
                done = deadline.Wait(lookup, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Observe(lookup);
                throw;
            }

            if (!done)
            {
                Observe(lookup);
                throw new SocketTimeoutException(operation, deadline.Timeout, $"resolving '{text}'", $"the name '{text}' was not resolved");
            }

            IPAddress[] addresses = lookup.GetAwaiter().GetResult() ?? Array.Empty<IPAddress>();
            trace?.Invoke(addresses.Length == 0
                ? $"'{text}' resolved to no address."
                : $"'{text}' resolved to {string.Join(", ", addresses.Select(a => a.ToString()))}.");
            return addresses;
        }

        /// <summary>Keeps an abandoned lookup's failure from going unobserved.</summary>
        private static void Observe(Task task) =>
            task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}

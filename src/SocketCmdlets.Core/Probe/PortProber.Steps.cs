using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>The steps of one probe, all on the probe thread: resolve, connect, handshake, report.</summary>
    internal sealed partial class PortProber
    {
        private void Begin(Probe probe, long now)
        {
            probe.ManagedConnect = _settings.UseTls;
            probe.EndAt = Math.Min(now + _timeoutTicks, _waitEnd);
            _inFlight.Add(probe);
            if (probe.Addresses != null)
            {
                ConnectNext(probe);
                return;
            }

            string host = probe.Target.Host;
            if (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress literal))
            {
                probe.Addresses = new[] { Usable(literal) };
                ConnectNext(probe);
                return;
            }

            probe.Phase = ProbePhase.Resolving;
            if (!_lookups.TryGetValue(host, out Task<IPAddress[]> lookup))
            {
                Trace($"Resolving '{host}'.");
                try
                {
                    lookup = Dns.GetHostAddressesAsync(host);
                }
                catch (Exception e) when (e is ArgumentException || e is SocketException)
                {
                    lookup = Task.FromException<IPAddress[]>(e);
                }

                lookup.ContinueWith(t => { _ = t.Exception; Wake(); }, TaskScheduler.Default);
                _lookups[host] = lookup;
            }

            probe.Lookup = lookup;
            if (lookup.IsCompleted)
            {
                Resolved(probe);
            }
        }

        private static IPAddress Usable(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

        private void Resolved(Probe probe)
        {
            ProbeTarget target = probe.Target;
            Task<IPAddress[]> lookup = probe.Lookup;
            IPAddress[] addresses = lookup.Status == TaskStatus.RanToCompletion
                ? lookup.Result.Select(Usable).Where(a => a.AddressFamily == AddressFamily.InterNetwork || a.AddressFamily == AddressFamily.InterNetworkV6).Distinct().ToArray()
                : new IPAddress[0];
            if (addresses.Length == 0)
            {
                // A failed lookup is not kept: the next attempt (-Count, -Wait) asks again.
                if (_lookups.TryGetValue(target.Host, out Task<IPAddress[]> cached) && cached == lookup)
                {
                    _lookups.Remove(target.Host);
                }

                string why = lookup.Exception?.GetBaseException().Message ?? "it has no IPv4 or IPv6 address";
                Finish(probe, ConnectionTestStatus.HostNotFound, $"'{target.Host}' could not be resolved: {why}");
                return;
            }

            Trace($"'{target.Host}' resolved to {string.Join(", ", addresses.Select(a => a.ToString()))}.");
            if (_settings.AllAddresses && addresses.Length > 1)
            {
                probe.Addresses = new[] { addresses[0] };
                foreach (IPAddress other in addresses.Skip(1))
                {
                    target.Outstanding++;
                    _ready.Enqueue(new Probe(target, other));
                }
            }
            else
            {
                probe.Addresses = addresses;
            }

            ConnectNext(probe);
        }

        private void ConnectNext(Probe probe)
        {
            while (true)
            {
                SocketError? error = probe.StartConnect();
                if (probe.Socket != null)
                {
                    int open = Interlocked.Increment(ref _openSockets);
                    if (open > Volatile.Read(ref _peakSockets))
                    {
                        Volatile.Write(ref _peakSockets, open);
                    }
                }

                Trace($"Connecting to {Where(probe.Address, probe.Target.Port)} (attempt {probe.Attempt}).");
                if (error == null)
                {
                    _connecting[probe.Socket] = probe;
                    return;
                }

                if (error == SocketError.Success)
                {
                    Connected(probe);
                    return;
                }

                if (!Failed(probe, error.Value))
                {
                    return;
                }
            }
        }

        /// <summary>A connect failed: true when the next address should be tried, else the probe has ended.</summary>
        private bool Failed(Probe probe, SocketError error)
        {
            CloseSocket(probe);
            ConnectionTestStatus status = StatusOf(error);
            string detail = Describe(error);
            if (probe.NextAddress < probe.Addresses.Length && Now < probe.EndAt)
            {
                Trace($"{Where(probe.Address, probe.Target.Port)}: {detail} Trying the next address.");
                return true;
            }

            Finish(probe, status, detail);
            return false;
        }

        private void Connected(Probe probe)
        {
            if (!_settings.UseTls)
            {
                Finish(probe, ConnectionTestStatus.Open, null);
                return;
            }

            string targetHost = _settings.TargetHost ?? probe.Target.Host.Trim('[', ']');
            Trace($"Connected to {Where(probe.Address, probe.Target.Port)}; starting a TLS handshake for '{targetHost}'.");
            probe.StartHandshake(targetHost, _settings.Trust, Wake);
        }

        private static readonly ConcurrentDictionary<SocketError, string> s_errorText = new ConcurrentDictionary<SocketError, string>();

        private static string Describe(SocketError error) =>
            s_errorText.GetOrAdd(error, e => $"{new SocketException((int)e).Message} ({e})");

        private static ConnectionTestStatus StatusOf(SocketError error)
        {
            switch (error)
            {
                case SocketError.ConnectionRefused:
                case SocketError.ConnectionReset:
                    return ConnectionTestStatus.Refused;
                case SocketError.TimedOut:
                    return ConnectionTestStatus.TimedOut;
                case SocketError.HostNotFound:
                case SocketError.NoData:
                case SocketError.TryAgain:
                    return ConnectionTestStatus.HostNotFound;
                default:
                    return ConnectionTestStatus.Unreachable;
            }
        }

        private void CloseSocket(Probe probe)
        {
            if (probe.Socket != null)
            {
                _connecting.Remove(probe.Socket);
            }

            if (probe.Close())
            {
                Interlocked.Decrement(ref _openSockets);
            }
        }

        private void Finish(Probe probe, ConnectionTestStatus status, string detail)
        {
            ProbeTarget target = probe.Target;
            var result = new SocketConnectionTest
            {
                ComputerName = target.Host,
                RemoteAddress = probe.Address,
                Port = target.Port,
                Status = status,
                LatencyMs = status == ConnectionTestStatus.Open || status == ConnectionTestStatus.Refused ? probe.LatencyMs : null,
                Attempt = probe.Attempt,
                Detail = detail,
            };
            if (probe.Handshake != null)
            {
                probe.DescribeTls(result);
            }

            CloseSocket(probe);
            probe.Phase = ProbePhase.Done;
            Trace($"{(probe.Address != null ? Where(probe.Address, target.Port) : target.Host + ":" + target.Port)}: {status}" +
                (result.LatencyMs != null ? $" after {result.LatencyMs:0.###} ms" : string.Empty) + (detail != null ? $" ({detail})" : string.Empty) +
                (result.TlsProtocol != null ? $", {result.TlsProtocol} {result.CipherSuite}" : string.Empty) + ".");
            Report(target, result);
        }

        private void Report(ProbeTarget target, SocketConnectionTest result)
        {
            target.Results.Add(result);
            if (!_settings.Wait)
            {
                Post(ProbeEventKind.Result, target, e => e.Result = result);
            }

            if (--target.Outstanding > 0)
            {
                return;
            }

            long next = Now + _intervalTicks;
            if (_settings.Wait)
            {
                if (target.Results.Any(r => r.Open))
                {
                    foreach (SocketConnectionTest open in target.Results)
                    {
                        Post(ProbeEventKind.Result, target, e => e.Result = open);
                    }
                }
                else if (next < _waitEnd)
                {
                    Trace($"{target.Host}:{target.Port} is not open yet; trying again in {_settings.Interval.TotalSeconds:0.###} s.");
                    target.WakeAt = next;
                    _sleeping.Add(target);
                    return;
                }
                else
                {
                    SocketConnectionTest[] last = target.Results.ToArray();
                    Post(ProbeEventKind.WaitTimeout, target, e => e.Results = last);
                }
            }
            else if (target.Attempt < _settings.Count)
            {
                target.WakeAt = next;
                _sleeping.Add(target);
                return;
            }

            Post(ProbeEventKind.TargetDone, target, null);
        }

        private void Post(ProbeEventKind kind, ProbeTarget target, Action<ProbeEvent> fill)
        {
            var probeEvent = new ProbeEvent(kind, target.Index) { ComputerName = target.Host, Port = target.Port };
            fill?.Invoke(probeEvent);
            Gather(probeEvent);
        }

        private void Gather(ProbeEvent probeEvent)
        {
            if (_batch.Count == 0)
            {
                _batchSince = Now;
            }

            _batch.Add(probeEvent);
        }

        private void Trace(string message)
        {
            if (_trace)
            {
                Gather(new ProbeEvent(ProbeEventKind.Trace, -1) { Message = message });
            }
        }

        private static string Where(IPAddress address, int port) =>
            address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Threading;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>The port prober: statuses, throttle, attempts, waits, cancellation and bad input, on loopback.</summary>
    public sealed class ProbeTests
    {
        private static List<ProbeEvent> Run(ProbeSettings settings, IEnumerable<(string Host, int Port)> targets, CancellationToken token = default, PortProber prober = null)
        {
            using (prober = prober ?? new PortProber(settings, token))
            {
                foreach ((string host, int port) in targets)
                {
                    prober.Submit(host, port);
                }

                prober.CompleteInput();
                return Drain(prober, CancellationToken.None);
            }
        }

        private static List<ProbeEvent> Drain(PortProber prober, CancellationToken token)
        {
            var events = new List<ProbeEvent>();
            var clock = Stopwatch.StartNew();
            while (!prober.IsCompleted)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "The prober did not finish within 60 s.");
                if (prober.TryTake(out ProbeEvent e, 50, token))
                {
                    events.Add(e);
                }
            }

            return events;
        }

        private static SocketConnectionTest[] Results(IEnumerable<ProbeEvent> events) =>
            events.Where(e => e.Kind == ProbeEventKind.Result).Select(e => e.Result).ToArray();

        [Fact]
        public void Open_refused_and_timed_out_ports_are_told_apart()
        {
            NetSocket listener = TestNet.ListenerV4();
            using (var full = new FullListener())
            {
                try
                {
                    int open = listener.LocalEndPoint.Port;
                    int closed = TestNet.FreePort();
                    var settings = new ProbeSettings { Timeout = TimeSpan.FromSeconds(0.5) };
                    List<ProbeEvent> events = Run(settings, new[] { ("127.0.0.1", open), ("127.0.0.1", closed), ("127.0.0.1", full.Port) });
                    SocketConnectionTest[] results = Results(events);
                    Assert.Equal(3, results.Length);
                    Assert.Equal(ConnectionTestStatus.Open, results.Single(r => r.Port == open).Status);
                    Assert.Equal(ConnectionTestStatus.Refused, results.Single(r => r.Port == closed).Status);
                    SocketConnectionTest timedOut = results.Single(r => r.Port == full.Port);
                    Assert.Equal(ConnectionTestStatus.TimedOut, timedOut.Status);
                    Assert.Null(timedOut.LatencyMs);
                    Assert.NotNull(results.Single(r => r.Port == open).LatencyMs);
                    Assert.Equal(3, events.Count(e => e.Kind == ProbeEventKind.TargetDone));
                }
                finally
                {
                    listener.Close();
                }
            }
        }

        [Fact]
        public void An_IPv6_literal_is_probed_over_IPv6()
        {
            NetSocket listener = TestNet.ListenerV6();
            try
            {
                SocketConnectionTest result = Results(Run(new ProbeSettings(), new[] { ("[::1]", listener.LocalEndPoint.Port) })).Single();
                Assert.Equal(ConnectionTestStatus.Open, result.Status);
                Assert.Equal(IPAddress.IPv6Loopback, result.RemoteAddress);
            }
            finally
            {
                listener.Close();
            }
        }

        [Fact]
        public void A_name_that_does_not_resolve_is_HostNotFound_once_per_port()
        {
            SocketConnectionTest[] results = Results(Run(new ProbeSettings { Timeout = TimeSpan.FromSeconds(10) },
                new[] { ("no-such-host.invalid", 80), ("no-such-host.invalid", 443) }));
            Assert.Equal(2, results.Length);
            Assert.All(results, r => Assert.Equal(ConnectionTestStatus.HostNotFound, r.Status));
            Assert.All(results, r => Assert.Null(r.RemoteAddress));
        }

        [Fact]
        public void Every_address_of_a_name_gets_a_result_with_AllAddresses()
        {
            int closed = TestNet.FreePort();
            string[] expected = Dns.GetHostAddresses("localhost")
                .Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Select(a => a.ToString()).Distinct().OrderBy(a => a).ToArray();
            SocketConnectionTest[] results = Results(Run(new ProbeSettings { AllAddresses = true }, new[] { ("localhost", closed) }));
            Assert.Equal(expected, results.Select(r => r.RemoteAddress.ToString()).OrderBy(a => a).ToArray());
        }

        [Fact]
        public void No_more_than_the_throttle_limit_of_sockets_is_open_at_once_and_none_after()
        {
            using (var full = new FullListener())
            {
                var prober = new PortProber(new ProbeSettings { Timeout = TimeSpan.FromSeconds(0.3), ThrottleLimit = 4 }, CancellationToken.None);
                SocketConnectionTest[] results = Results(Run(null, Enumerable.Repeat(("127.0.0.1", full.Port), 20), prober: prober));
                Assert.Equal(20, results.Length);
                Assert.All(results, r => Assert.Equal(ConnectionTestStatus.TimedOut, r.Status));
                Assert.Equal(4, prober.PeakOpenSockets);
                Assert.Equal(0, prober.OpenSockets);
            }
        }

        [Fact]
        public void Count_gives_one_result_per_attempt()
        {
            int closed = TestNet.FreePort();
            List<ProbeEvent> events = Run(new ProbeSettings { Count = 3, Interval = TimeSpan.Zero }, new[] { ("127.0.0.1", closed) });
            Assert.Equal(new[] { 1, 2, 3 }, Results(events).Select(r => r.Attempt).ToArray());
            Assert.Equal(ProbeEventKind.TargetDone, events.Last().Kind);
        }

        [Fact]
        public void Wait_ends_with_WaitTimeout_and_the_last_attempt_when_the_port_never_opens()
        {
            int closed = TestNet.FreePort();
            List<ProbeEvent> events = Run(new ProbeSettings { Wait = true, WaitTimeout = TimeSpan.FromSeconds(0.5), Interval = TimeSpan.FromSeconds(0.1) },
                new[] { ("127.0.0.1", closed) });
            Assert.Empty(Results(events));
            ProbeEvent timeout = events.Single(e => e.Kind == ProbeEventKind.WaitTimeout);
            Assert.Equal(ConnectionTestStatus.Refused, timeout.Results.Single().Status);
            Assert.True(timeout.Results.Single().Attempt > 1);
        }

        [Fact]
        public void Wait_writes_the_open_result_once_the_port_opens()
        {
            int port = TestNet.FreePort();
            var settings = new ProbeSettings { Wait = true, WaitTimeout = TimeSpan.FromSeconds(30), Interval = TimeSpan.FromSeconds(0.1) };
            NetSocket listener = null;
            using (var prober = new PortProber(settings, CancellationToken.None, trace: true))
            {
                try
                {
                    prober.Submit("127.0.0.1", port);
                    prober.CompleteInput();
                    // The port opens only after a first attempt was refused.
                    TestNet.WaitUntil(() => prober.TryTake(out ProbeEvent e, 50, CancellationToken.None) && e.Kind == ProbeEventKind.Trace && e.Message.Contains("not open yet"),
                        "a first attempt is refused");
                    listener = NetSocket.Create(SocketProtocol.Tcp, SocketFamily.InterNetwork).Bind(IPAddress.Loopback, port).Listen(0);
                    SocketConnectionTest result = Results(Drain(prober, CancellationToken.None)).Single();
                    Assert.Equal(ConnectionTestStatus.Open, result.Status);
                    Assert.True(result.Attempt > 1);
                }
                finally
                {
                    listener?.Close();
                }
            }
        }

        [Fact]
        public void Cancelling_ends_the_probes_at_once_and_closes_their_sockets()
        {
            using (var full = new FullListener())
            using (var stop = new CancellationTokenSource())
            using (var prober = new PortProber(new ProbeSettings { Timeout = TimeSpan.FromSeconds(120), ThrottleLimit = 10 }, stop.Token))
            {
                for (int i = 0; i < 30; i++)
                {
                    prober.Submit("127.0.0.1", full.Port);
                }

                TestNet.WaitUntil(() => prober.OpenSockets == 10, "ten probes are connecting");
                stop.Cancel();
                Assert.ThrowsAny<OperationCanceledException>(() => Drain(prober, stop.Token));
                TestNet.WaitUntil(() => prober.OpenSockets == 0, "every probe socket is closed");
            }
        }

        [Fact]
        public void Bad_settings_and_bad_targets_are_refused()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new PortProber(new ProbeSettings { ThrottleLimit = 0 }, CancellationToken.None));
            Assert.Throws<ArgumentOutOfRangeException>(() => new PortProber(new ProbeSettings { Timeout = TimeSpan.FromSeconds(-1) }, CancellationToken.None));
            using (var prober = new PortProber(new ProbeSettings(), CancellationToken.None))
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => prober.Submit("127.0.0.1", 0));
                Assert.Throws<ArgumentOutOfRangeException>(() => prober.Submit("127.0.0.1", 65536));
                Assert.Throws<ArgumentException>(() => prober.Submit(" ", 80));
                prober.CompleteInput();
                Assert.Throws<InvalidOperationException>(() => prober.Submit("127.0.0.1", 80));
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>One host and port as submitted, with what its attempts have found so far.</summary>
    internal sealed class ProbeTarget
    {
        public ProbeTarget(int index, string host, int port)
        {
            Index = index;
            Host = host;
            Port = port;
        }

        public int Index { get; }

        public string Host { get; }

        public int Port { get; }

        /// <summary>The number of the attempt under way (from 1).</summary>
        public int Attempt { get; set; }

        /// <summary>Probes of the current attempt not finished yet (one per address with AllAddresses).</summary>
        public int Outstanding { get; set; }

        /// <summary>The results of the current attempt.</summary>
        public List<SocketConnectionTest> Results { get; } = new List<SocketConnectionTest>();

        /// <summary>When the next attempt may start (Stopwatch ticks).</summary>
        public long WakeAt { get; set; }
    }

    /// <summary>Where a probe is.</summary>
    internal enum ProbePhase
    {
        Waiting,
        Resolving,
        Connecting,
        Handshaking,
        Done,
    }

    /// <summary>
    /// One attempt on one host and port: resolve, then connect to each address in turn (or to one fixed address), then
    /// with TLS complete a handshake. It holds at most one socket at a time; every step is non-blocking.
    /// </summary>
    internal sealed class Probe
    {
        public Probe(ProbeTarget target, IPAddress fixedAddress = null)
        {
            Target = target;
            Attempt = target.Attempt;
            if (fixedAddress != null)
            {
                Addresses = new[] { fixedAddress };
            }
        }

        public ProbeTarget Target { get; }

        public int Attempt { get; }

        /// <summary>Connect through Socket.Connect even where the direct call is available (TLS needs it).</summary>
        public bool ManagedConnect { get; set; }

        public ProbePhase Phase { get; set; } = ProbePhase.Waiting;

        /// <summary>The end of this probe (Stopwatch ticks).</summary>
        public long EndAt { get; set; }

        public IPAddress[] Addresses { get; set; }

        public int NextAddress { get; set; }

        public IPAddress Address { get; private set; }

        public Task<IPAddress[]> Lookup { get; set; }

        public Socket Socket { get; private set; }

        public double? LatencyMs { get; private set; }

        public SslStream Tls { get; private set; }

        public Task Handshake { get; private set; }

        private long _connectStart;
        private bool _connected;
        private CertificateFacts _facts;

        /// <summary>
        /// Starts a non-blocking connect to the next address: null while it is pending (<see cref="Phase"/> Connecting),
        /// Success when it connected at once, else the error of a connect that failed at once.
        /// </summary>
        public SocketError? StartConnect()
        {
            Address = Addresses[NextAddress++];
            _connectStart = Stopwatch.GetTimestamp();
            try
            {
                // (The constructor throws when the system lacks the address family, IPv6 turned off for example.)
                Socket = new Socket(Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                Socket.Blocking = false;
                _connectStart = Stopwatch.GetTimestamp();
                var endPoint = new IPEndPoint(Address, Target.Port);
                if (RawConnect.IsAvailable && !ManagedConnect)
                {
                    SocketError? started = RawConnect.Start(Socket, endPoint);
                    if (started == null)
                    {
                        Phase = ProbePhase.Connecting;
                        return null;
                    }

                    Answered();
                    _connected = started == SocketError.Success;
                    return started;
                }

                Socket.Connect(endPoint);
                Answered();
                _connected = true;
                return SocketError.Success;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock || e.SocketErrorCode == SocketError.InProgress)
            {
                Phase = ProbePhase.Connecting;
                return null;
            }
            catch (SocketException e)
            {
                Answered();
                return e.SocketErrorCode;
            }
        }

        /// <summary>After the socket turned writable or in error: the connect's outcome (Success or the error).</summary>
        public SocketError Finish()
        {
            var error = (SocketError)(int)Socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error);
            Answered();
            _connected = error == SocketError.Success;
            return error;
        }

        private void Answered() =>
            LatencyMs = Math.Round((Stopwatch.GetTimestamp() - _connectStart) * 1000.0 / Stopwatch.Frequency, 3);

        /// <summary>Starts the TLS handshake on the connected socket; <paramref name="wake"/> runs when it ends.</summary>
        public void StartHandshake(string targetHost, CertificateTrust trust, Action wake)
        {
            Phase = ProbePhase.Handshaking;
            _facts = new CertificateFacts(trust, targetHost);
            Socket.Blocking = true;
            var stream = new NetworkStream(Socket, ownsSocket: false);
            // Validation failures are data here: the callback records them and lets the handshake go on.
            Tls = new SslStream(stream, false, (sender, certificate, chain, errors) => _facts.Record(certificate, chain, errors));
            try
            {
                Handshake = Tls.AuthenticateAsClientAsync(targetHost, null, SslProtocols.None, false);
            }
            catch (Exception e) when (e is AuthenticationException || e is System.IO.IOException || e is InvalidOperationException || e is ArgumentException)
            {
                Handshake = Task.FromException(e);
            }

            Handshake.ContinueWith(t => { _ = t.Exception; wake(); }, TaskScheduler.Default);
        }

        /// <summary>Fills the TLS facts of <paramref name="result"/> from the finished handshake.</summary>
        public void DescribeTls(SocketConnectionTest result)
        {
            if (Handshake.Status != TaskStatus.RanToCompletion)
            {
                Exception e = Handshake.Exception?.GetBaseException();
                result.Detail = "The TLS handshake failed: " + (e?.Message ?? "it did not finish in time.");
            }
            else
            {
                result.TlsProtocol = Tls.SslProtocol;
                result.CipherSuite = TlsReflection.CipherSuite(Tls);
            }

            result.Certificate = _facts.Certificate;
            result.NotAfter = _facts.Certificate?.NotAfter;
            result.CertificateErrors = _facts.Certificate != null || Handshake.Status == TaskStatus.RanToCompletion ? _facts.Errors.ToArray() : null;
        }

        /// <summary>Closes the socket (and TLS stream) of this probe; false when it held none.</summary>
        public bool Close()
        {
            if (Socket == null)
            {
                return false;
            }

            if (_connected)
            {
                try
                {
                    // Closing sends a reset: no TIME_WAIT left behind by thousands of probes, as nmap's connect scan does.
                    Socket.LingerState = new LingerOption(true, 0);
                }
                catch (SocketException)
                {
                    // The peer reset first: nothing to linger over.
                }
            }

            try
            {
                Tls?.Dispose();
            }
            catch (Exception e) when (e is System.IO.IOException || e is ObjectDisposedException || e is InvalidOperationException)
            {
                // The connection is going away anyway.
            }

            Socket.Dispose();
            Socket = null;
            Tls = null;
            _connected = false;
            return true;
        }

        /// <summary>What the certificate validation callback saw.</summary>
        private sealed class CertificateFacts
        {
            public X509Certificate2 Certificate { get; private set; }

            public List<string> Errors { get; } = new List<string>();

            public CertificateFacts(CertificateTrust trust, string targetHost)
            {
                _trust = trust;
                _targetHost = targetHost;
            }

            private readonly CertificateTrust _trust;
            private readonly string _targetHost;

            public bool Record(X509Certificate certificate, X509Chain chain, SslPolicyErrors errors)
            {
                if (certificate != null)
                {
                    Certificate = new X509Certificate2(certificate);
                }

                if (_trust != null)
                {
                    // Judged by the roots and pins given: what they refuse, in their words.
                    CertificateVerdict verdict = _trust.Evaluate(certificate, chain, errors, _targetHost, false, true);
                    if (!verdict.Accepted)
                    {
                        Errors.AddRange(verdict.Reasons);
                    }

                    return true;
                }

                if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
                {
                    Errors.Add("NotAvailable");
                }

                if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    Errors.Add("NameMismatch");
                }

                if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                {
                    IEnumerable<string> chainErrors = (chain?.ChainStatus ?? new X509ChainStatus[0])
                        .Where(s => s.Status != X509ChainStatusFlags.NoError)
                        .Select(s => s.Status.ToString())
                        .Distinct();
                    int before = Errors.Count;
                    Errors.AddRange(chainErrors);
                    if (Errors.Count == before)
                    {
                        Errors.Add("ChainErrors");
                    }
                }

                return true;
            }
        }
    }
}

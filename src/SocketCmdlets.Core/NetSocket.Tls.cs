using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Security;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>
    /// TLS over a connected stream socket (SslStream), usable at any point of a conversation, so STARTTLS-style
    /// protocols work. After the handshake every send and receive goes through TLS.
    /// </summary>
    public sealed partial class NetSocket
    {
        private const int TlsBufferSize = 16 * 1024 + 512;

        private SslStream _tls;
        private byte[] _tlsBuffer;
        private int _tlsStart;
        private int _tlsEnd;
        private Task<int> _tlsRead;
        private Task _tlsWrite;
        private PrefixedStream _tlsTransport;

        /// <summary>
        /// True when the TLS stream ended without the peer's close_notify: the connection was cut, so what arrived may
        /// be truncated (an attacker, or a crash, can end a TLS stream early this way).
        /// </summary>
        public bool TlsTruncated { get; private set; }

        /// <summary>True once traffic is protected by TLS.</summary>
        public bool IsEncrypted => _encrypted;

        // Set with _tls: a bool, so plain sockets never touch a member typed by the TLS assembly.
        private volatile bool _encrypted;

        /// <summary>The negotiated TLS version, once encrypted.</summary>
        public SslProtocols? TlsProtocol { get; private set; }

        /// <summary>The negotiated cipher suite, once encrypted (where the runtime reports it).</summary>
        public string CipherSuite { get; private set; }

        /// <summary>The ALPN protocol agreed on (for example h2 or http/1.1), if any.</summary>
        public string ApplicationProtocol { get; private set; }

        /// <summary>The peer's certificate, once encrypted (for a server, the client's, if it sent one).</summary>
        public X509Certificate2 RemoteCertificate { get; private set; }

        /// <summary>True when this side played the server in the TLS handshake.</summary>
        public bool IsTlsServer { get; private set; }

        /// <summary>
        /// Upgrades a connected stream socket to TLS. Bytes already received and not yet read are handed to the
        /// handshake, so a peer that starts TLS right after a plain-text exchange is understood. A certificate that
        /// fails validation throws <see cref="CertificateValidationException"/>; any other handshake failure throws
        /// <see cref="TlsHandshakeException"/>. The socket stays open either way: closing it is the caller's choice.
        /// </summary>
        public NetSocket Protect(TlsOptions options, TimeSpan timeout, CancellationToken cancellationToken, Action<string> trace = null)
        {
            // No receive or send may run while the socket changes hands from the plain path to TLS.
            using (EnterExchange(timeout, cancellationToken))
            {
                return ProtectCore(options, timeout, cancellationToken, trace);
            }
        }

        private NetSocket ProtectCore(TlsOptions options, TimeSpan timeout, CancellationToken cancellationToken, Action<string> trace)
        {
            if (options == null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            if (Protocol != SocketProtocol.Tcp)
            {
                throw new InvalidSocketStateException(this, "start TLS", "TLS needs a stream socket; this one is UDP.");
            }

            RequireState("start TLS", "TLS needs a connected socket (Connect-Socket or Receive-SocketConnection).", SocketState.Connected);
            if (_tls != null)
            {
                throw new InvalidSocketStateException(this, "start TLS", "it is already encrypted.");
            }

            if (options.IsServer && options.Certificate == null)
            {
                throw new ArgumentException("A TLS server needs a certificate with its private key.", nameof(options));
            }

            string targetHost = options.TargetHost ?? RemoteHostName ?? _remoteEndPoint?.Address.ToString() ?? "localhost";
            var check = new CertificateCheck(options, targetHost);
            RemoteCertificateValidationCallback validate = (sender, certificate, chain, errors) => check.Validate(certificate, chain, errors);

            foreach (string name in options.ApplicationProtocols ?? Array.Empty<string>())
            {
                int length = System.Text.Encoding.UTF8.GetByteCount(name ?? string.Empty);
                if (length < 1 || length > 255)
                {
                    throw new ArgumentException($"'{name}' cannot be an ALPN protocol name: it must be 1 to 255 bytes long.");
                }
            }

            // The handshake runs on a blocking socket through a stream; bytes already buffered go first.
            byte[] pending = new byte[PendingBytes];
            if (pending.Length > 0)
            {
                Buffer.BlockCopy(_receiveBuffer, _pendingStart, pending, 0, pending.Length);
                _pendingStart = _pendingEnd;
            }

            Settle();
            SslStream tls;
            Task handshake;
            try
            {
                _socket.Blocking = true;
                var network = new NetworkStream(_socket, ownsSocket: false);
                _tlsTransport = new PrefixedStream(pending, network);
                tls = new SslStream(_tlsTransport, false, validate);
                trace?.Invoke(options.IsServer
                    ? $"Starting the TLS handshake as the server on socket {Id}."
                    : $"Starting the TLS handshake with '{targetHost}' on socket {Id}{(options.SkipCertificateCheck ? " (certificate check skipped)" : string.Empty)}.");
                handshake = options.IsServer
                    ? TlsReflection.AuthenticateAsServer(tls, options)
                    : TlsReflection.AuthenticateAsClient(tls, options, targetHost);
            }
            catch (Exception e)
            {
                // Nothing was read yet: the socket goes back to what it was, its buffered bytes included.
                RestorePlain();
                PutBack(pending);
                if (e is IOException && e.InnerException is SocketException inner)
                {
                    throw inner;
                }

                if (e is IOException && !_socket.Connected)
                {
                    // The peer reset the connection before the handshake could start.
                    throw new SocketException((int)SocketError.NotConnected);
                }

                if (e is ObjectDisposedException)
                {
                    throw Closed("start TLS");
                }

                throw;
            }

            Deadline deadline = Deadline.After(timeout);
            try
            {
                if (!deadline.Wait(handshake, cancellationToken))
                {
                    throw new SocketTimeoutException(SocketOperation.Connect, deadline.Timeout, $"TLS handshake on {this}",
                        "the TLS handshake did not finish (the peer may not speak TLS, or not answer); the socket was closed, as a handshake cannot be resumed");
                }
            }
            catch (Exception e) when (!(e is SocketTimeoutException) && !(e is OperationCanceledException))
            {
                Observe(handshake);
                RestorePlain();
                if (check.Refused && !options.SkipCertificateCheck)
                {
                    throw check.Failure(e);
                }

                throw new TlsHandshakeException($"The TLS handshake failed: {Innermost(e).Message.TrimEnd('.')}.", e);
            }
            catch
            {
                // Timed out or stopped: the abandoned handshake still reads from the connection, so nothing said on
                // it afterwards could be trusted. It is closed.
                Observe(handshake);
                Close();
                throw;
            }

            _tls = tls;
            _encrypted = true;
            IsTlsServer = options.IsServer;
            TlsProtocol = tls.SslProtocol;
            CipherSuite = TlsReflection.CipherSuite(tls);
            ApplicationProtocol = TlsReflection.ApplicationProtocol(tls);
            RemoteCertificate = tls.RemoteCertificate == null ? null : new X509Certificate2(tls.RemoteCertificate);
            CertificateErrors = check.Reasons;
            trace?.Invoke($"TLS established on socket {Id}: {TlsProtocol}{(CipherSuite != null ? ", " + CipherSuite : string.Empty)}{(ApplicationProtocol != null ? ", ALPN " + ApplicationProtocol : string.Empty)}{(RemoteCertificate != null ? ", peer certificate " + RemoteCertificate.Subject : string.Empty)}.");
            return this;
        }

        /// <summary>Puts bytes taken from the receive buffer back in front of it.</summary>
        private void PutBack(byte[] bytes)
        {
            if (bytes.Length == 0)
            {
                return;
            }

            int pending = PendingBytes;
            var buffer = new byte[Math.Max(4096, bytes.Length + pending)];
            Buffer.BlockCopy(bytes, 0, buffer, 0, bytes.Length);
            if (pending > 0)
            {
                Buffer.BlockCopy(_receiveBuffer, _pendingStart, buffer, bytes.Length, pending);
            }

            BufferPool.Return(_receiveBuffer);
            _receiveBuffer = buffer;
            _pendingStart = 0;
            _pendingEnd = bytes.Length + pending;
        }

        private void RestorePlain()
        {
            try
            {
                _socket.Blocking = false;
            }
            catch (ObjectDisposedException)
            {
            }
        }

        /// <summary>Reads decrypted bytes, keeping a read that did not finish in time for the next call, so nothing is lost.</summary>
        private int ReceiveTls(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (_tlsEnd > _tlsStart)
            {
                return TakeTls(buffer, offset, count);
            }

            if (_tlsBuffer == null)
            {
                _tlsBuffer = new byte[TlsBufferSize];
            }

            StartTlsRead();
            Deadline deadline = Deadline.After(timeout);
            bool done;
            try
            {
                done = deadline.Wait(_tlsRead, cancellationToken);
            }
            catch (Exception e) when (e is IOException || e is ObjectDisposedException || e is SocketException)
            {
                _tlsRead = null;
                if (_state == SocketState.Closed)
                {
                    // Closed from another runspace while this call waited: said as a plain socket says it.
                    throw Closed("receive");
                }

                if (e.InnerException is SocketException se)
                {
                    throw se;
                }

                if (e is IOException && _tlsTransport != null && _tlsTransport.SawEndOfStream)
                {
                    // The connection ended inside a TLS record: the stream was cut.
                    EndOfStream = true;
                    TlsTruncated = true;
                    throw new TlsTruncatedException(this, e);
                }

                throw;
            }

            if (!done)
            {
                throw new SocketTimeoutException(SocketOperation.Receive, deadline.Timeout, ToString());
            }

            int read = _tlsRead.Result;
            _tlsRead = null;
            if (read == 0)
            {
                // SslStream ends a stream the same way whether the peer said close_notify or the connection was cut;
                // after close_notify it reads no further, so a transport that reached its end means a cut.
                EndOfStream = true;
                TlsTruncated = _tlsTransport != null && _tlsTransport.SawEndOfStream;
                return 0;
            }

            _tlsStart = 0;
            _tlsEnd = read;
            Interlocked.Add(ref _bytesReceived, read);
            return TakeTls(buffer, offset, count);
        }

        /// <summary>Starts a read of decrypted bytes when none is under way; the caller holds the receive turn.</summary>
        private void StartTlsRead()
        {
            if (_tlsRead != null)
            {
                return;
            }

            if (_tlsBuffer == null)
            {
                _tlsBuffer = new byte[TlsBufferSize];
            }

            try
            {
                _tlsRead = _tls.ReadAsync(_tlsBuffer, 0, _tlsBuffer.Length);
            }
            catch (ObjectDisposedException)
            {
                throw Closed("receive");
            }
        }

        /// <summary>
        /// For select(): true when the next receive has something to hand out (decrypted bytes, the end of the stream or
        /// an error). Raw readability says nothing over TLS (a TLS 1.3 session ticket makes the socket readable with no
        /// data for the caller), so a read is started and its completion watched. False while another call receives.
        /// </summary>
        internal bool TlsReceiveReady()
        {
            if (PendingBytes > 0 || _tlsEnd > _tlsStart || EndOfStream)
            {
                return true;
            }

            Task<int> read = _tlsRead;
            if (read != null)
            {
                return read.IsCompleted;
            }

            if (!_receiveTurn.TryEnter(out Turn.Held held))
            {
                return false;
            }

            using (held)
            {
                if (_tls == null || _state == SocketState.Closed)
                {
                    return true;
                }

                StartTlsRead();
                Task<int> started = _tlsRead;
                if (!started.IsCompleted && RawReadable())
                {
                    // Bytes are there to decrypt: give the read a moment, so a poll (a zero timeout) sees them.
                    try
                    {
                        started.Wait(TlsDecryptWaitMilliseconds);
                    }
                    catch (AggregateException)
                    {
                        // A failed read is ready too: the next receive reports it.
                    }
                }

                return started.IsCompleted;
            }
        }

        private const int TlsDecryptWaitMilliseconds = 20;

        private bool RawReadable()
        {
            try
            {
                return _socket.Poll(0, System.Net.Sockets.SelectMode.SelectRead);
            }
            catch (Exception e) when (e is ObjectDisposedException || e is System.Net.Sockets.SocketException)
            {
                return true;
            }
        }

        private int TakeTls(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(count, _tlsEnd - _tlsStart);
            Buffer.BlockCopy(_tlsBuffer, _tlsStart, buffer, offset, n);
            _tlsStart += n;
            return n;
        }

        /// <summary>
        /// Writes through TLS. A write that times out or is stopped leaves a TLS record half sent, so the connection
        /// cannot go on: it is closed.
        /// </summary>
        private void SendTls(byte[] buffer, int offset, int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Deadline deadline = Deadline.After(timeout);
            Task write;
            try
            {
                write = _tls.WriteAsync(buffer, offset, count);
            }
            catch (ObjectDisposedException)
            {
                throw Closed("send");
            }

            _tlsWrite = write;
            bool done;
            try
            {
                done = deadline.Wait(write, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Observe(write);

                // A record is half sent: a close_notify after it would be garbage, so none is said.
                _closeNotifySent = true;
                Close();
                throw;
            }
            catch (Exception e) when (e is IOException || e is ObjectDisposedException || e is SocketException)
            {
                if (_state == SocketState.Closed)
                {
                    throw Closed("send");
                }

                if (e.InnerException is SocketException se)
                {
                    throw se;
                }

                throw;
            }

            if (!done)
            {
                Observe(write);
                _closeNotifySent = true;
                Close();
                throw new SocketTimeoutException(SocketOperation.Send, deadline.Timeout, ToString() + "; a TLS connection cannot go on after a partial write, so it was closed");
            }

            _tlsWrite = null;
            Interlocked.Add(ref _bytesSent, count);
        }

        /// <summary>How long a close waits to send close_notify (a peer that reads nothing must not hold a close).</summary>
        private static readonly TimeSpan s_closeNotifyTimeout = TimeSpan.FromSeconds(1);

        /// <summary>
        /// Sends the TLS close_notify alert, where the runtime can, under the send turn so it never lands inside another
        /// call's record. Bounded: when the turn or the write does not come within a second, the alert is not sent.
        /// Never called under the socket's lock.
        /// </summary>
        private void ShutdownTls()
        {
            SslStream tls = _tls;
            if (tls == null || _closeNotifySent)
            {
                return;
            }

            try
            {
                using (_sendTurn.Enter(s_closeNotifyTimeout, CancellationToken.None, t => new TimeoutException()))
                {
                    if (_closeNotifySent)
                    {
                        return;
                    }

                    _closeNotifySent = true;
                    Task shutdown = TlsReflection.Shutdown(tls);
                    if (shutdown != null && !Deadline.After(s_closeNotifyTimeout).Wait(shutdown, CancellationToken.None))
                    {
                        Observe(shutdown);
                    }
                }
            }
            catch (Exception e) when (e is TimeoutException || e is IOException || e is ObjectDisposedException || e is InvalidOperationException
                || e is NotSupportedException || e is SocketException)
            {
                // The connection is going away; close_notify could not be said on it.
            }
        }

        private bool _closeNotifySent;

        private void DisposeTls()
        {
            SslStream tls = _tls;
            if (tls == null)
            {
                return;
            }

            if (_tlsRead != null)
            {
                Observe(_tlsRead);
            }

            if (_tlsWrite != null)
            {
                Observe(_tlsWrite);
            }

            try
            {
                tls.Dispose();
            }
            catch (Exception e) when (e is IOException || e is ObjectDisposedException || e is InvalidOperationException)
            {
                // The connection is going away; nothing more can be said on it.
            }
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null && (e is AggregateException || e is IOException || e is AuthenticationException))
            {
                e = e.InnerException;
            }

            return e;
        }
    }

    /// <summary>What a TLS handshake should do.</summary>
    public sealed class TlsOptions
    {
        /// <summary>True to act as the TLS server.</summary>
        public bool IsServer { get; set; }

        /// <summary>Client: the name the server's certificate must carry (SNI); by default the name connected to.</summary>
        public string TargetHost { get; set; }

        /// <summary>Accept any peer certificate.</summary>
        public bool SkipCertificateCheck { get; set; }

        /// <summary>Server: its certificate, with the private key. Client: a certificate to offer when asked.</summary>
        public X509Certificate2 Certificate { get; set; }

        /// <summary>Server: ask for and require a client certificate.</summary>
        public bool RequireClientCertificate { get; set; }

        /// <summary>The TLS versions allowed; None lets the system choose.</summary>
        public SslProtocols Protocols { get; set; } = SslProtocols.None;

        /// <summary>ALPN protocol names to offer (client) or accept (server), most preferred first.</summary>
        public IList<string> ApplicationProtocols { get; set; }

        /// <summary>Client (or a server checking client certificates): roots and thumbprints trusted for this handshake only.</summary>
        public CertificateTrust Trust { get; set; }
    }

    /// <summary>The peer's certificate failed validation.</summary>
    public sealed class CertificateValidationException : AuthenticationException
    {
        public CertificateValidationException(string message, SslPolicyErrors errors, Exception inner)
            : base(message, inner)
        {
            Errors = errors;
        }

        /// <summary>What was wrong.</summary>
        public SslPolicyErrors Errors { get; }
    }

    /// <summary>A TLS stream ended without the peer's close_notify, inside a record: what arrived may be truncated.</summary>
    public sealed class TlsTruncatedException : IOException
    {
        public TlsTruncatedException(NetSocket socket, Exception inner)
            : base($"The TLS stream of socket {socket.Id} was cut without close_notify: what arrived may be incomplete.", inner)
        {
            Socket = socket;
        }

        /// <summary>The socket whose stream was cut.</summary>
        public NetSocket Socket { get; }
    }

    /// <summary>The TLS handshake failed for a reason other than the certificate (a plain-text peer, a peer that closed, no common version).</summary>
    public sealed class TlsHandshakeException : IOException
    {
        public TlsHandshakeException(string message, Exception inner)
            : base(message, inner)
        {
        }
    }

    /// <summary>A stream that returns some bytes already read before reading on from the inner stream.</summary>
    internal sealed class PrefixedStream : Stream
    {
        private readonly Stream _inner;
        private readonly byte[] _prefix;
        private int _position;

        public PrefixedStream(byte[] prefix, Stream inner)
        {
            _prefix = prefix ?? Array.Empty<byte>();
            _inner = inner;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position < _prefix.Length)
            {
                int n = Math.Min(count, _prefix.Length - _position);
                Buffer.BlockCopy(_prefix, _position, buffer, offset, n);
                _position += n;
                return n;
            }

            return Seen(_inner.Read(buffer, offset, count), count);
        }

        /// <summary>True once a read of the inner stream returned its end.</summary>
        public bool SawEndOfStream { get; private set; }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (_position < _prefix.Length)
            {
                return Task.FromResult(Read(buffer, offset, count));
            }

            return ReadInnerAsync(buffer, offset, count, cancellationToken);
        }

        private async Task<int> ReadInnerAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Seen(await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false), count);

        private int Seen(int read, int count)
        {
            if (read == 0 && count > 0)
            {
                SawEndOfStream = true;
            }

            return read;
        }

        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Flush() => _inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// The parts of SslStream that netstandard2.0 does not name (ALPN, TLS 1.3 cipher suites, close_notify), reached by
    /// reflection on runtimes that have them; elsewhere they are simply not used.
    /// </summary>
    internal static class TlsReflection
    {
        private static readonly Type s_clientOptions = Type.GetType("System.Net.Security.SslClientAuthenticationOptions, System.Net.Security", false);
        private static readonly Type s_serverOptions = Type.GetType("System.Net.Security.SslServerAuthenticationOptions, System.Net.Security", false);
        private static readonly Type s_alpn = Type.GetType("System.Net.Security.SslApplicationProtocol, System.Net.Security", false);

        public static Task AuthenticateAsClient(SslStream tls, TlsOptions options, string targetHost)
        {
            var certificates = options.Certificate != null ? new X509CertificateCollection { options.Certificate } : null;
            if (options.ApplicationProtocols == null || options.ApplicationProtocols.Count == 0 || s_clientOptions == null)
            {
                return tls.AuthenticateAsClientAsync(targetHost, certificates, RuntimeFacts.EffectiveProtocols(options.Protocols), false);
            }

            object o = Activator.CreateInstance(s_clientOptions);
            Set(o, "TargetHost", targetHost);
            Set(o, "ClientCertificates", certificates);
            Set(o, "EnabledSslProtocols", RuntimeFacts.EffectiveProtocols(options.Protocols));
            Set(o, "ApplicationProtocols", AlpnList(options.ApplicationProtocols));
            Set(o, "RemoteCertificateValidationCallback", null);
            return Invoke(tls, "AuthenticateAsClientAsync", o);
        }

        public static Task AuthenticateAsServer(SslStream tls, TlsOptions options)
        {
            if (options.ApplicationProtocols == null || options.ApplicationProtocols.Count == 0 || s_serverOptions == null)
            {
                return tls.AuthenticateAsServerAsync(options.Certificate, options.RequireClientCertificate, RuntimeFacts.EffectiveProtocols(options.Protocols), false);
            }

            object o = Activator.CreateInstance(s_serverOptions);
            Set(o, "ServerCertificate", options.Certificate);
            Set(o, "ClientCertificateRequired", options.RequireClientCertificate);
            Set(o, "EnabledSslProtocols", RuntimeFacts.EffectiveProtocols(options.Protocols));
            Set(o, "ApplicationProtocols", AlpnList(options.ApplicationProtocols));
            return Invoke(tls, "AuthenticateAsServerAsync", o);
        }

        public static string ApplicationProtocol(SslStream tls)
        {
            object value = RuntimeFacts.PropertyOrNull(tls, "NegotiatedApplicationProtocol");
            string text = value?.ToString();
            return string.IsNullOrEmpty(text) ? null : text;
        }

        public static string CipherSuite(SslStream tls)
        {
            object value = RuntimeFacts.PropertyOrNull(tls, "NegotiatedCipherSuite");
            return value?.ToString() ?? $"{tls.CipherAlgorithm} {tls.CipherStrength}-bit, {tls.HashAlgorithm}, {tls.KeyExchangeAlgorithm}";
        }

        public static Task Shutdown(SslStream tls)
        {
            MethodInfo method = tls.GetType().GetMethod("ShutdownAsync", Type.EmptyTypes);
            try
            {
                return method?.Invoke(tls, null) as Task;
            }
            catch (TargetInvocationException)
            {
                return null;
            }
        }

        private static object AlpnList(IList<string> names)
        {
            if (s_alpn == null)
            {
                return null;
            }

            var list = (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(s_alpn));
            foreach (string name in names)
            {
                list.Add(Activator.CreateInstance(s_alpn, name));
            }

            return list;
        }

        private static void Set(object target, string property, object value) =>
            target.GetType().GetProperty(property)?.SetValue(target, value);

        private static Task Invoke(SslStream tls, string name, object options)
        {
            MethodInfo method = tls.GetType().GetMethods()
                .First(m => m.Name == name && m.GetParameters().Length == 2 && m.GetParameters()[0].ParameterType == options.GetType());
            try
            {
                return (Task)method.Invoke(tls, new[] { options, (object)CancellationToken.None });
            }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
        }
    }
}

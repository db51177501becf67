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
        // The TLS transport once encrypted; null while plain.
        private TlsTransport _tls;

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
        internal NetSocket Protect(TlsOptions options, TimeSpan timeout, CancellationToken cancellationToken, Action<string> trace = null)
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

            RequireState("start TLS", "TLS needs a connected socket.", SocketRequirement.Connected, SocketState.Connected);
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

            // The handshake runs through a stream over the same non-blocking socket; bytes already buffered go first.
            byte[] pending = _inbox.TakeAll();
            _inbox.Settle();
            SocketStream transport;
            SslStream tls;
            Task handshake;
            try
            {
                transport = new SocketStream(this, pending);
                tls = new SslStream(transport, false, validate);
                trace?.Invoke(options.IsServer
                    ? $"Starting the TLS handshake as the server on socket {Id}."
                    : $"Starting the TLS handshake with '{targetHost}' on socket {Id}{(options.SkipCertificateCheck ? " (certificate check skipped)" : string.Empty)}.");
                handshake = options.IsServer
                    ? TlsReflection.AuthenticateAsServer(tls, options)
                    : TlsReflection.AuthenticateAsClient(tls, options, targetHost);
            }
            catch (Exception e)
            {
                // Nothing was read yet: the socket stays as it was, its buffered bytes included.
                _inbox.PutBack(pending);
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

                // A handshake that failed before it read anything (its first write met a reset) leaves the bytes
                // buffered before it where they were, for the next receive.
                _inbox.PutBack(transport.TakeUnreadPrefix());
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

            _tls = new TlsTransport(this, tls, transport);
            _transport = _tls;
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

        /// <summary>
        /// For select(): true when the next receive has something to hand out (decrypted bytes, the end of the stream or
        /// an error). Raw readability says nothing over TLS (a TLS 1.3 session ticket makes the socket readable with no
        /// data for the caller), so a read is started and its completion watched. False while another call receives.
        /// </summary>
        internal bool TlsReceiveReady()
        {
            TlsTransport tls = _tls;
            if (PendingBytes > 0 || EndOfStream || tls == null || tls.HasDecrypted)
            {
                return true;
            }

            if (tls.ReadStarted)
            {
                return tls.ReadFinished;
            }

            if (!_receiveTurn.TryEnter(out Turn.Held held))
            {
                return false;
            }

            using (held)
            {
                return _state == SocketState.Closed || tls.StartReadAndLook();
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
}

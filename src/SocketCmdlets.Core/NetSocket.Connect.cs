using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>
    /// TCP and UDP connects by name or address. Every address of a name is tried within the call's one deadline; on a
    /// new socket the attempts race as RFC 8305 (Happy Eyeballs v2) describes: families interleaved, the next attempt
    /// started when the previous one failed or after <see cref="AttemptDelayMilliseconds"/>, the first to connect wins,
    /// the others are closed.
    /// </summary>
    public sealed partial class NetSocket
    {
        /// <summary>RFC 8305's "Connection Attempt Delay": the head start of one attempt over the next.</summary>
        internal const int AttemptDelayMilliseconds = 250;

        /// <summary>What a bound socket's attempt may take, when the call has no timeout, before the next address is tried.</summary>
        private const int InTurnAttemptMillisecondsWithoutTimeout = 2000;

        /// <summary>
        /// Connects to <paramref name="host"/> (a name or an address) and <paramref name="port"/>, trying every address
        /// the name resolves to, then, with <paramref name="tls"/>, starts TLS as <see cref="Protect"/> does: name
        /// resolution, the attempts and the handshake share the one deadline of <paramref name="timeout"/>.
        /// <paramref name="trace"/> hears about the lookup and each attempt and its fate.
        /// </summary>
        internal NetSocket Connect(string host, int port, TimeSpan timeout, CancellationToken cancellationToken, Action<string> trace = null, TlsOptions tls = null)
        {
            if (string.IsNullOrWhiteSpace(host))
            {
                throw new ArgumentException("A host name or address is required.", nameof(host));
            }

            if (port < 1 || port > 65535)
            {
                throw new ArgumentOutOfRangeException(nameof(port), port, "The port must be between 1 and 65535.");
            }

            RequireIp("connect to a host and port");
            if (Protocol == SocketProtocol.Udp)
            {
                RequireState("set the default peer", "a UDP socket can be connected while it is new, bound or already connected.", SocketState.Created, SocketState.Bound, SocketState.Connected);
            }
            else
            {
                RequireState("connect", "connecting needs a new or bound socket.", SocketState.Created, SocketState.Bound);
            }

            Deadline deadline = Deadline.After(timeout);
            ConnectWithin(host, port, deadline, cancellationToken, trace);
            if (tls != null)
            {
                // The handshake gets what the connect left of the call's time.
                Protect(tls, deadline.Remaining, cancellationToken, trace);
            }

            return this;
        }

        private void ConnectWithin(string host, int port, Deadline deadline, CancellationToken cancellationToken, Action<string> trace)
        {
            var clock = Stopwatch.StartNew();
            IPAddress[] addresses = Resolve(host, deadline, cancellationToken, trace);
            if (Protocol == SocketProtocol.Udp)
            {
                // A datagram socket only records its default peer: there is no handshake to try address by address.
                var peer = new IPEndPoint(addresses[0], port);
                trace?.Invoke($"Setting the default peer of UDP socket {Id} to {Format(peer)}.");
                ConnectDatagram(peer);
                RemoteHostName = host;
                return;
            }

            IPEndPoint[] endPoints = Interleave(addresses).Select(a => new IPEndPoint(a, port)).ToArray();
            if (endPoints.Length == 1)
            {
                trace?.Invoke($"Connecting to {Format(endPoints[0])}.");
                ConnectOne(endPoints[0], deadline, cancellationToken);
            }
            else if (_state == SocketState.Bound)
            {
                ConnectInTurn(endPoints, clock, deadline, cancellationToken, trace);
            }
            else
            {
                ConnectRacing(endPoints, deadline, cancellationToken, trace);
            }

            RemoteHostName = host;
        }

        /// <summary>
        /// The addresses in RFC 8305 order: the families alternate, starting with that of the resolver's first answer;
        /// within a family the resolver's order is kept.
        /// </summary>
        internal static IPAddress[] Interleave(IPAddress[] addresses)
        {
            if (addresses.Length < 2)
            {
                return addresses;
            }

            AddressFamily preferred = addresses[0].AddressFamily;
            var first = new Queue<IPAddress>(addresses.Where(a => a.AddressFamily == preferred));
            var second = new Queue<IPAddress>(addresses.Where(a => a.AddressFamily != preferred));
            var ordered = new List<IPAddress>(addresses.Length);
            while (first.Count > 0 || second.Count > 0)
            {
                if (first.Count > 0)
                {
                    ordered.Add(first.Dequeue());
                }

                if (second.Count > 0)
                {
                    ordered.Add(second.Dequeue());
                }
            }

            return ordered.ToArray();
        }

        private IPAddress[] Resolve(string host, Deadline deadline, CancellationToken cancellationToken, Action<string> trace)
        {
            IPAddress[] addresses = Resolver.Resolve(host, deadline, cancellationToken, SocketOperation.Connect, trace);
            AddressFamily family = _socket.AddressFamily;
            bool Usable(IPAddress a) => a.AddressFamily == family || (DualMode && a.AddressFamily == AddressFamily.InterNetwork);
            if (addresses.Length == 1 && !addresses[0].IsIPv4MappedToIPv6 && Usable(addresses[0]))
            {
                // One usable address (a literal, most often): nothing to filter.
                return addresses;
            }

            IPAddress[] usable = addresses
                .Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a)
                .Where(Usable)
                .Distinct()
                .ToArray();
            if (usable.Length == 0)
            {
                throw new SocketException((int)(addresses.Length == 0 ? SocketError.HostNotFound : SocketError.AddressFamilyNotSupported));
            }

            return usable;
        }

        private void ConnectOne(IPEndPoint endPoint, Deadline deadline, CancellationToken cancellationToken)
        {
            CheckFamily(endPoint.Address);
            ConnectNonBlocking(endPoint, deadline, cancellationToken);
            lock (_gate)
            {
                _localEndPoint = Normalize(_socket.LocalEndPoint);
                _remoteEndPoint = Normalize(endPoint);
            }
        }

        /// <summary>
        /// A socket bound before the connect holds one local port, so its attempts cannot overlap: the addresses are tried
        /// one after another, sharing the deadline. Each attempt but the last gets an equal share of the time left, at
        /// least <see cref="AttemptDelayMilliseconds"/> (without a timeout, <see cref="InTurnAttemptMillisecondsWithoutTimeout"/>);
        /// the last gets all that is left.
        /// </summary>
        private void ConnectInTurn(IPEndPoint[] endPoints, Stopwatch clock, Deadline deadline, CancellationToken cancellationToken, Action<string> trace)
        {
            bool infinite = deadline.IsInfinite;
            for (int i = 0; i < endPoints.Length; i++)
            {
                bool last = i == endPoints.Length - 1;
                Deadline attempt = deadline;
                if (!last)
                {
                    double left = infinite ? 0 : deadline.Remaining.TotalMilliseconds;
                    double share = infinite
                        ? InTurnAttemptMillisecondsWithoutTimeout
                        : Math.Max(AttemptDelayMilliseconds, left / (endPoints.Length - i));
                    attempt = Deadline.After(TimeSpan.FromMilliseconds(infinite ? share : Math.Min(share, left)));
                }

                trace?.Invoke($"Connecting to {Format(endPoints[i])} (address {i + 1} of {endPoints.Length}{(last ? string.Empty : $", for up to {attempt.Timeout.TotalMilliseconds:0} ms: the socket is bound, so its addresses are tried in turn")}).");
                try
                {
                    ConnectOne(endPoints[i], attempt, cancellationToken);
                    trace?.Invoke($"Connected to {Format(endPoints[i])} (address {i + 1} of {endPoints.Length}) after {clock.ElapsedMilliseconds} ms.");
                    return;
                }
                catch (SocketException e) when (!last)
                {
                    trace?.Invoke($"Address {i + 1} ({Format(endPoints[i])}) failed: {e.Message} ({e.SocketErrorCode}); trying the next address.");
                }
                catch (SocketTimeoutException) when (!last)
                {
                    if (deadline.NextSliceMilliseconds() < 0)
                    {
                        // The call's deadline passed during a shortened attempt: report the call's timeout.
                        throw new SocketTimeoutException(SocketOperation.Connect, deadline.Timeout, Format(endPoints[i]),
                            $"no connection was made to any of the first {i + 1} of {endPoints.Length} addresses");
                    }

                    trace?.Invoke($"Address {i + 1} ({Format(endPoints[i])}) did not answer within {attempt.Timeout.TotalMilliseconds:0} ms; trying the next address.");
                }
            }
        }

        /// <summary>
        /// A TCP connect the BSD way: a non-blocking connect(), then poll for writability in slices, then SO_ERROR. Unlike
        /// Socket.ConnectAsync it does not register the socket with .NET's event loop, whose thread would otherwise wake
        /// on every readiness change of the socket for its whole life (a cost on every later send and receive). A failed,
        /// timed-out or stopped attempt renews the underlying socket, so this socket can try again.
        /// </summary>
        private void ConnectNonBlocking(IPEndPoint endPoint, Deadline deadline, CancellationToken cancellationToken)
        {
            bool pending = false;
            try
            {
                _socket.Blocking = false;
                _socket.Connect(endPoint);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock || e.SocketErrorCode == SocketError.InProgress)
            {
                pending = true;
            }
            catch (SocketException)
            {
                Renew();
                throw;
            }
            catch (ObjectDisposedException)
            {
                throw Closed("connect");
            }

            if (pending)
            {
                try
                {
                    WaitReady(SelectMode.SelectWrite, deadline, cancellationToken, SocketOperation.Connect, endPoint);
                    var error = (SocketError)(int)_socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error);
                    if (error != SocketError.Success)
                    {
                        throw new SocketException((int)error);
                    }
                }
                catch (ObjectDisposedException)
                {
                    throw Closed("connect");
                }
                catch (Exception e) when (e is OperationCanceledException || e is SocketException || e is SocketTimeoutException)
                {
                    AfterFailedConnect(e);
                    throw;
                }
            }

            lock (_gate)
            {
                _state = SocketState.Connected;
            }
        }

        /// <summary>
        /// After a connect that failed or was cancelled: when another thread closed the socket, that close is what the
        /// caller hears (not the error it caused); otherwise the socket is renewed for a next try and the caller
        /// rethrows the original exception.
        /// </summary>
        private void AfterFailedConnect(Exception e)
        {
            if (_state == SocketState.Closed && !(e is OperationCanceledException))
            {
                throw Closed("connect");
            }

            Renew();
        }

        /// <summary>
        /// Replaces the underlying socket after a failed or abandoned connect, which leaves a socket unusable on some
        /// platforms. The options, and a binding made before the connect, carry over.
        /// </summary>
        private void Renew()
        {
            lock (_gate)
            {
                if (_state == SocketState.Closed)
                {
                    return;
                }

                Socket old = _socket;
                Socket fresh = CreateRaw(old.AddressFamily, Protocol, DualMode, _options);
                try
                {
                    if (_state == SocketState.Bound && _localEndPoint != null)
                    {
                        fresh.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                        fresh.Bind(new IPEndPoint(DualMode && _localEndPoint.AddressFamily == AddressFamily.InterNetwork ? _localEndPoint.Address.MapToIPv6() : _localEndPoint.Address, _localEndPoint.Port));
                    }
                }
                catch (SocketException)
                {
                    // The old binding could not be taken over: the socket goes back to Created.
                    _state = SocketState.Created;
                    _localEndPoint = null;
                }

                _socket = fresh;
                old.Dispose();
            }
        }

    }
}

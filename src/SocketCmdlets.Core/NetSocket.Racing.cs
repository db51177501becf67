using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>Happy Eyeballs (RFC 8305): the addresses of a name race, the first to connect wins.</summary>
    public sealed partial class NetSocket
    {
        /// <summary>One racing connect attempt.</summary>
        private sealed class Attempt
        {
            public Socket Raw;
            public IPEndPoint EndPoint;
            public int Number;
            public Stopwatch Clock;
        }

        /// <summary>
        /// RFC 8305 on a socket that is not bound: attempt 1 uses this socket's own underlying socket, each further one a
        /// new one made with the same options (<see cref="CreateRaw"/>). The next attempt starts
        /// <see cref="AttemptDelayMilliseconds"/> after the previous one, or as soon as it fails; all wait together in
        /// one select() of short slices, checking the token, the deadline and a Close from another thread. The winner
        /// becomes the underlying socket under the lock; every other attempt is closed.
        /// </summary>
        private void ConnectRacing(IPEndPoint[] endPoints, Deadline deadline, CancellationToken cancellationToken, Action<string> trace)
        {
            Socket original = _socket;
            var pending = new List<Attempt>();
            var made = new List<Socket>();
            Exception lastError = null;
            Attempt winner = null;
            int next = 0;
            var sinceLastStart = new Stopwatch();
            bool startNow = false;
            bool checkedOnce = false;
            try
            {
                while (winner == null)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (_state == SocketState.Closed)
                    {
                        throw Closed("connect");
                    }

                    // No new attempt once the deadline has passed (the first one still looks once, as a zero timeout does).
                    bool expired = next > 0 && deadline.NextSliceMilliseconds() < 0;
                    if (next < endPoints.Length && !expired && (pending.Count == 0 || startNow || sinceLastStart.ElapsedMilliseconds >= AttemptDelayMilliseconds))
                    {
                        if (pending.Count > 0 && !startNow)
                        {
                            trace?.Invoke($"No answer yet from {string.Join(", ", pending.Select(p => Format(p.EndPoint)))} after {AttemptDelayMilliseconds} ms; starting the next attempt alongside.");
                        }

                        var attempt = new Attempt { EndPoint = endPoints[next], Number = next + 1, Clock = Stopwatch.StartNew() };
                        next++;
                        attempt.Raw = attempt.Number == 1 ? original : CreateRaw(original.AddressFamily, Protocol, DualMode, _options);
                        if (attempt.Raw != original)
                        {
                            made.Add(attempt.Raw);
                        }

                        trace?.Invoke($"Connecting to {Format(attempt.EndPoint)} (attempt {attempt.Number} of {endPoints.Length}).");
                        sinceLastStart.Restart();
                        startNow = false;
                        try
                        {
                            attempt.Raw.Connect(attempt.EndPoint);
                            winner = attempt;
                        }
                        catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock || e.SocketErrorCode == SocketError.InProgress)
                        {
                            pending.Add(attempt);
                        }
                        catch (SocketException e)
                        {
                            lastError = e;
                            startNow = true;
                            trace?.Invoke($"Attempt {attempt.Number} ({Format(attempt.EndPoint)}) failed at once: {e.Message} ({e.SocketErrorCode}).");
                        }

                        continue;
                    }

                    int slice = deadline.NextSliceMilliseconds();
                    if (pending.Count == 0 && next == endPoints.Length)
                    {
                        // Every address failed before the deadline.
                        throw lastError ?? new SocketException((int)SocketError.HostNotFound);
                    }

                    if (slice < 0 && (checkedOnce || pending.Count == 0))
                    {
                        throw new SocketTimeoutException(SocketOperation.Connect, deadline.Timeout, string.Join(", ", endPoints.Select(Format)),
                            endPoints.Length == 1 ? null : $"no connection was made to any of {endPoints.Length} addresses ({string.Join(", ", endPoints.Select(Format))})");
                    }

                    checkedOnce = true;
                    slice = Math.Max(0, slice);
                    if (next < endPoints.Length && !startNow)
                    {
                        slice = (int)Math.Max(0, Math.Min(slice, AttemptDelayMilliseconds - sinceLastStart.ElapsedMilliseconds));
                    }

                    var writable = pending.Select(p => p.Raw).ToList();
                    var failed = pending.Select(p => p.Raw).ToList();
                    Socket.Select(null, writable, failed, slice * 1000);
                    foreach (Attempt attempt in pending.ToArray())
                    {
                        if (!writable.Contains(attempt.Raw) && !failed.Contains(attempt.Raw))
                        {
                            continue;
                        }

                        var error = (SocketError)(int)attempt.Raw.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error);
                        if (error == SocketError.Success && failed.Contains(attempt.Raw) && !writable.Contains(attempt.Raw))
                        {
                            error = SocketError.SocketError;
                        }

                        if (error == SocketError.Success)
                        {
                            winner = attempt;
                            break;
                        }

                        pending.Remove(attempt);
                        lastError = new SocketException((int)error);
                        trace?.Invoke($"Attempt {attempt.Number} ({Format(attempt.EndPoint)}) failed after {attempt.Clock.ElapsedMilliseconds} ms: {lastError.Message} ({error}).");

                        // A failure starts the next attempt at once.
                        startNow = true;
                    }
                }

                lock (_gate)
                {
                    if (_state == SocketState.Closed)
                    {
                        throw Closed("connect");
                    }

                    if (winner.Raw != original)
                    {
                        _socket = winner.Raw;
                        made.Remove(winner.Raw);
                        original.Dispose();
                    }

                    _localEndPoint = Normalize(_socket.LocalEndPoint);
                    _remoteEndPoint = Normalize(winner.EndPoint);
                    _state = SocketState.Connected;
                }

                int losers = pending.Count(p => p != winner);
                trace?.Invoke($"Attempt {winner.Number} ({Format(winner.EndPoint)}) connected after {winner.Clock.ElapsedMilliseconds} ms{(losers > 0 ? $"; closing {losers} other attempt{(losers == 1 ? string.Empty : "s")} ({string.Join(", ", pending.Where(p => p != winner).Select(p => Format(p.EndPoint)))})" : string.Empty)}.");
            }
            catch (ObjectDisposedException) when (_state == SocketState.Closed)
            {
                throw Closed("connect");
            }
            catch (Exception e) when (e is OperationCanceledException || e is SocketException || e is SocketTimeoutException || e is InvalidSocketStateException)
            {
                // The original attempt, if it ran, leaves the underlying socket unusable: renewed for a next try.
                AfterFailedConnect(e);
                throw;
            }
            finally
            {
                foreach (Socket loser in made)
                {
                    loser.Dispose();
                }
            }
        }
    }
}

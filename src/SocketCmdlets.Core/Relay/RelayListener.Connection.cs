using System;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>One relayed connection of the forwarder: TLS with the client if asked, the target, the pump, the record.</summary>
    internal sealed partial class RelayListener
    {
        private async Task RelayAsync(NetSocket client)
        {
            DateTime start = DateTime.Now;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            string source = SocketRelay.Describe(client);
            CancellationToken token = _stop.Token;
            NetSocket target = null;
            SocketRelaySession session;
            try
            {
                target = Open(client, token);
                var connection = new RelayConnection(new RelaySide(client, source), new RelaySide(target, SocketRelay.Describe(target)), _options.IdleTimeout, _options.BufferSize)
                {
                    OnForwarded = Count,
                };
                session = await connection.RunAsync(start, token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                client.Close();
                target?.Close();
                bool stopped = e is OperationCanceledException && token.IsCancellationRequested;
                session = new SocketRelaySession
                {
                    SourceEndPoint = source,
                    TargetEndPoint = target != null ? SocketRelay.Describe(target) : Target,
                    StartTime = start,
                    Duration = clock.Elapsed,
                    EndReason = stopped ? RelayEndReason.Stopped : RelayEndReason.Error,
                    Error = stopped ? string.Empty : Describe(e),
                };
            }
            finally
            {
                Interlocked.Decrement(ref _active);
            }

            try
            {
                _finished.Add(session);
            }
            catch (InvalidOperationException)
            {
                // Stop gave up waiting for this connection: its record has nowhere to go.
            }
        }

        /// <summary>TLS with the client if asked, then the target: connected, and TLS towards it if asked.</summary>
        private NetSocket Open(NetSocket client, CancellationToken token)
        {
            if (_options.Certificate != null)
            {
                client.Protect(new TlsOptions { IsServer = true, Certificate = _options.Certificate }, _options.ConnectTimeout, token);
            }

            NetSocket target = NetSocket.Create(SocketProtocol.Tcp, _options.TargetIsUnix ? SocketFamily.Unix : (SocketFamily?)null);
            try
            {
                target.Unregister();
                if (_options.TargetIsUnix)
                {
                    target.ConnectPath(_options.TargetPath, _options.ConnectTimeout, token);
                }
                else
                {
                    target.Connect(_options.TargetHost, _options.TargetPort, _options.ConnectTimeout, token);
                }

                RelaySide.SetNoDelay(target);
                if (_options.TargetTls != null)
                {
                    target.Protect(_options.TargetTls, _options.ConnectTimeout, token);
                }

                return target;
            }
            catch
            {
                target.Close();
                throw;
            }
        }

        private void Count(int bytes, bool toTarget)
        {
            if (toTarget)
            {
                Interlocked.Add(ref _toTarget, bytes);
            }
            else
            {
                Interlocked.Add(ref _toSource, bytes);
            }
        }

        private string Describe(Exception e)
        {
            while ((e is AggregateException || (e is IOException && !(e is TlsHandshakeException))) && e.InnerException != null)
            {
                e = e.InnerException;
            }

            switch (e)
            {
                case SocketException s:
                    return $"Connecting to {Target} failed: {s.Message} ({s.SocketErrorCode}).";
                case SocketTimeoutException t:
                    return $"Connecting to {Target} timed out: {t.Message}";
                case FileNotFoundException _:
                    return $"Connecting to {Target} failed: {e.Message}";
                default:
                    return $"{e.GetType().Name}: {e.Message}";
            }
        }
    }
}

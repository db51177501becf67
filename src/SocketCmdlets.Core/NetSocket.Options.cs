using System;
using System.Threading;

namespace SocketCmdlets
{
    /// <summary>Reading and changing the options of an existing socket.</summary>
    public sealed partial class NetSocket
    {
        /// <summary>The socket's current options, read from the system.</summary>
        internal SocketOptions GetOptions()
        {
            lock (_gate)
            {
                RequireOpen("read options");
                SocketOptions read = SocketOptions.Read(_socket, new SocketOptions
                {
                    ReceiveTimeoutSec = ToSeconds(ReceiveTimeout),
                    SendTimeoutSec = ToSeconds(SendTimeout),
                });
                read.SocketId = Id;
                return read;
            }
        }

        /// <summary>Applies the options set in <paramref name="changes"/>; they also carry over if the socket is renewed.</summary>
        internal void SetOptions(SocketOptions changes)
        {
            if (changes == null)
            {
                throw new ArgumentNullException(nameof(changes));
            }

            changes.Validate();
            lock (_gate)
            {
                RequireOpen("change options");
                if (changes.DualMode.HasValue)
                {
                    if (_state != SocketState.Created)
                    {
                        throw new InvalidSocketStateException(this, "change DualMode", "dual mode can only change before the socket is bound or connected.");
                    }

                    _socket.DualMode = changes.DualMode.Value;
                    DualMode = changes.DualMode.Value;
                }

                changes.Apply(_socket);
                _options.Merge(changes);
                if (changes.ReceiveTimeoutSec.HasValue)
                {
                    ReceiveTimeout = FromSeconds(changes.ReceiveTimeoutSec.Value);
                }

                if (changes.SendTimeoutSec.HasValue)
                {
                    SendTimeout = FromSeconds(changes.SendTimeoutSec.Value);
                }
            }
        }

        private void RequireOpen(string operation)
        {
            if (_state == SocketState.Closed)
            {
                throw new InvalidSocketStateException(this, operation, "a closed socket cannot be used again; create a new socket.");
            }
        }

        private static double ToSeconds(TimeSpan timeout) => Timeouts.ToSeconds(timeout);

        private static TimeSpan FromSeconds(double seconds) => Timeouts.FromSeconds(seconds);
    }
}

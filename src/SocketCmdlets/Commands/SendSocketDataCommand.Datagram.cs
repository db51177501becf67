using System.Net;

namespace SocketCmdlets.Commands
{
    /// <summary>Send-SocketData over UDP: where each datagram goes.</summary>
    public sealed partial class SendSocketDataCommand
    {
        /// <summary>
        /// The destination of a datagram: -ComputerName/-Port (resolved once), an endpoint given on the command line or by
        /// a piped object, the sender of the datagram being answered, else null (the socket's default peer).
        /// </summary>
        private IPEndPoint Destination(NetSocket socket, SocketDatagram answered)
        {
            if (ComputerName != null)
            {
                return _destination ?? (_destination = new IPEndPoint(AddressResolver.ForDestination(ComputerName, socket, TimeoutFor(socket, TimeoutSec, send: true), StopToken), Port));
            }

            return RemoteEndPoint ?? ReplyTo?.RemoteEndPoint ?? (socket.State == SocketState.Connected ? null : answered?.RemoteEndPoint);
        }

        private string DestinationText(NetSocket socket) =>
            _destination != null ? NetSocket.Format(_destination)
            : ComputerName != null ? Where(ComputerName, Port)
            : socket.RemoteEndPoint != null ? NetSocket.Format(socket.RemoteEndPoint) : "(no destination)";
    }
}

using System.Management.Automation;
using System.Net;

namespace SocketCmdlets.Commands
{
    /// <summary>Send-SocketData over UDP: each object from the pipeline is one datagram.</summary>
    public sealed partial class SendSocketDataCommand
    {
        private void ProcessDatagram(NetSocket socket)
        {
            if (_datagramSocket != null && _datagramSocket != socket && !FlushDatagramBytes())
            {
                return;
            }

            _datagramSocket = socket;
            if (_path != null)
            {
                WriteError(ErrorFactory.Create(new System.NotSupportedException("-Path streams a file over a stream socket."), "ConflictingParameters", ErrorCategory.InvalidArgument, socket,
                    $"-Path streams a file, which needs a stream socket; socket {socket.Id} is UDP. Send the file's bytes in datagrams of at most {NetSocket.MaxDatagramIPv4} bytes instead."));
                Fail(socket);
                return;
            }

            object data = Data is PSObject ps ? ps.BaseObject : Data;
            if (data is NetSocket)
            {
                WriteError(ErrorFactory.Create(new System.ArgumentException("The data is a socket."), "DataIsSocket", ErrorCategory.InvalidArgument, data,
                    "The data to send is a socket object. Name -Socket when piping data, or -Data when piping sockets."));
                return;
            }

            if (data is byte single)
            {
                // Single bytes from the pipeline make one datagram, sent when they stop coming.
                _datagramBytes.Add(single);
                return;
            }

            if (!FlushDatagramBytes())
            {
                return;
            }

            IPEndPoint destination = null;
            bool ok = Try(() =>
            {
                destination = Destination(socket, data as SocketDatagram);
                // One object is one datagram, converted as a stream send would convert it.
                byte[] payload = Payload.ToDatagram(data, Encoding, AppendNewLine.IsPresent ? NewLine : null);
                if (payload == null)
                {
                    return;
                }

                socket.SendDatagram(payload, 0, payload.Length, destination, TimeoutFor(socket, TimeoutSec, send: true), StopToken);
                if (VerboseEnabled)
                {
                    WriteVerbose($"Sent a datagram of {payload.Length} bytes to {NetSocket.Format(destination ?? socket.RemoteEndPoint)} (socket {socket.Id}).");
                }
            }, socket, $"send a datagram from socket {socket.Id} to {DestinationText(socket, destination)}", SocketOperation.Send);
            if (!ok)
            {
                Fail(socket);
            }
            else if (PassThru.IsPresent && !_socketNamed)
            {
                WriteObject(socket);
            }
        }

        private IPEndPoint Destination(NetSocket socket, SocketDatagram datagram)
        {
            if (ComputerName != null)
            {
                return _destination ?? (_destination = new IPEndPoint(AddressResolver.ForDestination(ComputerName, socket, TimeoutFor(socket, TimeoutSec, send: true), StopToken), Port));
            }

            // An endpoint given on the command line or by a piped object, else the sender of a datagram being echoed.
            return RemoteEndPoint ?? ReplyTo?.RemoteEndPoint ?? (socket.State == SocketState.Connected ? null : datagram?.RemoteEndPoint);
        }

        private string DestinationText(NetSocket socket, IPEndPoint destination) =>
            destination != null ? NetSocket.Format(destination)
            : ComputerName != null ? Where(ComputerName, Port)
            : socket.RemoteEndPoint != null ? NetSocket.Format(socket.RemoteEndPoint) : "(no destination)";

        private bool FlushDatagramBytes()
        {
            if (_datagramBytes.Count == 0)
            {
                return true;
            }

            NetSocket socket = _datagramSocket;
            byte[] payload = _datagramBytes.ToArray();
            _datagramBytes.Clear();
            IPEndPoint destination = null;
            bool ok = Try(() => socket.SendDatagram(payload, 0, payload.Length, destination = Destination(socket, null), TimeoutFor(socket, TimeoutSec, send: true), StopToken),
                socket, $"send a datagram from socket {socket.Id} to {DestinationText(socket, destination)}", SocketOperation.Send);
            if (!ok)
            {
                Fail(socket);
            }

            return ok;
        }
    }
}

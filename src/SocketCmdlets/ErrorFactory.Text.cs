using System;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// The words for the facts engine exceptions carry: the engine says what was needed, this layer names the cmdlet or
    /// parameter that provides it, so users read what to do next.
    /// </summary>
    internal static partial class ErrorFactory
    {
        /// <summary>The message users read for <paramref name="e"/>: its facts in this layer's words, else its own message.</summary>
        public static string Text(Exception e)
        {
            switch (e)
            {
                case InvalidSocketStateException state when state.Needs != SocketRequirement.None:
                    return $"Cannot {state.Operation}: socket {state.Socket.Id} is {state.State}; {Requirement(state.Needs, state.Requirement)}";
                case CertificateLoadException load when load.Reason == CertificateLoadReason.Unreadable:
                    return $"The certificate '{load.Path}' could not be read: {load.InnerException?.Message} (a wrong -CertificatePassword, or not a PFX or PEM file).";
                case CertificateLoadException load when load.Reason == CertificateLoadReason.EncryptedPem:
                    return $"'{load.Path}' is PEM: encrypted PEM keys are not supported here. Convert it to PFX (openssl pkcs12 -export) and give -CertificatePassword.";
                case SocketOptionException option when option.Needs == SocketRequirement.Udp:
                    return $"{option.Option} is for UDP sockets (New-Socket -Protocol Udp).";
                case UnsupportedSocketKindException _:
                    return "Unix domain sockets are stream sockets here: use -Protocol Tcp (the default) with -AddressFamily Unix.";
                default:
                    return e.Message;
            }
        }

        /// <summary>What an operation needs, naming what provides it; <paramref name="engineText"/> is the engine's wording.</summary>
        private static string Requirement(SocketRequirement needs, string engineText)
        {
            switch (needs)
            {
                case SocketRequirement.Connected:
                    return Hint(engineText, "Connect-Socket or Receive-SocketConnection");
                case SocketRequirement.New:
                    return Hint(engineText, "New-Socket");
                case SocketRequirement.NewUnix:
                    return Hint(engineText, "New-Socket -AddressFamily Unix");
                case SocketRequirement.Bound:
                    return Hint(engineText, "Register-SocketBinding");
                case SocketRequirement.Listening:
                    return Hint(engineText, "Start-SocketListen");
                case SocketRequirement.Udp:
                    return Hint(engineText, "New-Socket -Protocol Udp");
                case SocketRequirement.GroupMember:
                    return Hint(engineText, "Add-SocketMulticastGroup joins one");
                case SocketRequirement.BoundBySomeone:
                    return "bind it first (Register-SocketBinding), or send or connect so the system binds it.";
                case SocketRequirement.UnixSocket:
                    return "paths are for Unix domain sockets: create one with New-Socket -AddressFamily Unix.";
                case SocketRequirement.Path:
                    return "it is a Unix domain socket; give -Path for a Unix domain socket.";
                case SocketRequirement.Destination:
                    return "a UDP socket without a default peer needs a destination: give -ComputerName and -Port, or connect it with Connect-Socket.";
                case SocketRequirement.StreamToListen:
                    return "UDP sockets do not listen or accept: bind one and receive datagrams with Receive-SocketData.";
                default:
                    return engineText;
            }
        }

        /// <summary>The engine's sentence with what provides the requirement in brackets before its full stop.</summary>
        private static string Hint(string engineText, string hint) => $"{engineText.TrimEnd('.')} ({hint}).";
    }
}

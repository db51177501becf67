using System.IO;
using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>Send-SocketData -Path: streams a file, a FIFO or a device to a stream socket.</summary>
    public sealed partial class SendSocketDataCommand
    {
        /// <summary>The file system path of -Path; a missing file or a directory ends the call before any socket call.</summary>
        private string ResolveFile(string path)
        {
            string resolved = GetUnresolvedProviderPathFromPSPath(path);
            if (Directory.Exists(resolved))
            {
                ThrowTerminatingError(ErrorFactory.Create(new PathIsDirectoryException(resolved), "PathIsDirectory", ErrorCategory.InvalidArgument, path,
                    $"Cannot send '{path}': it is a directory, not a file. Name a file, or send each file of the directory in turn (Get-ChildItem -File)."));
            }

            if (!File.Exists(resolved))
            {
                ThrowTerminatingError(ErrorFactory.Create(new FileNotFoundException($"The file '{resolved}' does not exist.", resolved),
                    "FileNotFound", ErrorCategory.ObjectNotFound, path, $"Cannot send '{path}': the file does not exist. Check the path."));
            }

            return resolved;
        }

        /// <summary>
        /// Sends the file to its end as it is when the reading reaches it: bytes added while it is sent go too, and a file
        /// cut short while it is sent ends early with a warning that says how much went of how much there was.
        /// </summary>
        private bool SendFile(NetSocket socket)
        {
            if (!Flush())
            {
                return false;
            }

            return Try(() =>
            {
                if (VerboseEnabled)
                {
                    WriteVerbose($"Opening '{_path}' to send it to {Peer(socket)} (a FIFO waits here for a writer).");
                }

                using (Stream file = FileSource.OpenRead(_path, StopToken))
                {
                    // A FIFO or a device has no length: the progress bar then shows the bytes sent only.
                    long length = file.CanSeek ? file.Length : -1;
                    var progress = new ProgressReporter(this, $"Sending {System.IO.Path.GetFileName(_path)} to {NetSocket.Format(socket.RemoteEndPoint)}", length);
                    if (VerboseEnabled)
                    {
                        WriteVerbose(length >= 0 ? $"Sending '{_path}' ({length} bytes) to {Peer(socket)}." : $"Sending '{_path}' (no length: a pipe or a device) to {Peer(socket)}, up to its end.");
                    }

                    long sent = socket.SendFrom(file, TimeoutFor(socket, TimeoutSec, send: true), StopToken, progress.Report);
                    progress.Complete();
                    if (length >= 0 && sent < length)
                    {
                        WriteWarning($"'{_path}' was cut short while it was sent: {sent} bytes were sent to {Peer(socket)}, of the {length} it held at the start.");
                    }
                    else if (VerboseEnabled && length >= 0 && sent > length)
                    {
                        WriteVerbose($"'{_path}' grew while it was sent: {sent} bytes were sent, {sent - length} more than the {length} it held at the start.");
                    }

                    if (VerboseEnabled)
                    {
                        WriteVerbose($"Sent {sent} bytes from '{_path}' to {Peer(socket)}.");
                    }
                }
            }, socket, $"send '{Path}' to {Peer(socket)}", SocketOperation.Send);
        }
    }
}

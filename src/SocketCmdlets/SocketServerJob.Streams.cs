using System;
using System.Management.Automation;
using System.Net;
using System.Threading;
using SocketCmdlets.Server;

namespace SocketCmdlets.Commands
{
    /// <summary>The server job's streams: what handlers write and what the engine reports, forwarded as it happens.</summary>
    public sealed partial class SocketServerJob
    {
        private static void Forward<T>(PSDataCollection<T> from, PSDataCollection<T> to)
        {
            from.DataAdded += (sender, e) =>
            {
                foreach (T item in from.ReadAll())
                {
                    AddTo(to, item);
                }
            };
        }

        private void ForwardErrors(PSDataCollection<ErrorRecord> from)
        {
            from.DataAdded += (sender, e) =>
            {
                foreach (ErrorRecord record in from.ReadAll())
                {
                    // PowerShell adds a PipelineStopped record to every stopped [powershell]: Stop-Job is not an error.
                    if (Volatile.Read(ref _shutdown) != 0 && record.FullyQualifiedErrorId == "PipelineStopped")
                    {
                        continue;
                    }

                    AddTo(Error, record);
                }
            };
        }

        private static void AddTo<T>(PSDataCollection<T> stream, T item)
        {
            try
            {
                stream.Add(item);
            }
            catch (Exception e) when (e is PSInvalidOperationException || e is ObjectDisposedException)
            {
                // The job was removed (Remove-Job) and its streams closed: nobody is left to read it.
            }
        }

        private static string Describe(NetSocket connection) =>
            connection.RemoteEndPoint != null ? $"{NetSocket.Format(connection.RemoteEndPoint)} (socket {connection.Id})" : $"a client (socket {connection.Id})";

        private static ErrorRecord ServerError(ErrorRecord record) =>
            new ErrorRecord(record.Exception, record.FullyQualifiedErrorId + "," + CommandName, record.CategoryInfo.Category, record.TargetObject)
            {
                ErrorDetails = record.ErrorDetails,
            };

        private sealed class Sink : ISocketServerSink
        {
            private readonly SocketServerJob _job;

            public Sink(SocketServerJob job) => _job = job;

            public void Serve(NetSocket connection) => _job.Serve(connection);

            public void Rejected(IPEndPoint client, RejectReason reason)
            {
                if (_job._verbose)
                {
                    string why = reason == RejectReason.Address
                        ? "its address is not allowed (-AllowAddress/-DenyAddress)"
                        : $"{_job.MaxConnections} connections are open already (-MaxConnections)";
                    AddTo(_job.Verbose, new VerboseRecord($"Rejected {(client != null ? NetSocket.Format(client) : "a client")} and closed its connection: {why}."));
                }
            }

            public void Failed(NetSocket connection, Exception error)
            {
                string attempt = connection == null
                    ? $"accept a connection on {_job.Location}"
                    : $"start TLS with {Describe(connection)}";
                AddTo(_job.Error, ServerError(ErrorFactory.FromException(error, (object)connection ?? _job.Location, attempt,
                    connection == null ? SocketOperation.Accept : SocketOperation.Connect)));
            }

            public void Ended(Exception error)
            {
                if (Volatile.Read(ref _job._shutdown) != 0)
                {
                    return;
                }

                // The listener was closed behind the server's back (Close-Socket, Get-Socket | Close-Socket): the server ends.
                ErrorRecord reason = ServerError(ErrorFactory.Create(error ?? new InvalidOperationException("The listener closed."), "ListenerClosed",
                    ErrorCategory.ResourceUnavailable, _job.Location,
                    $"The server on {_job.Location} stopped: its listening socket {_job.ListenerId} was closed. Start a new server with Start-SocketServer."));
                System.Threading.Tasks.Task.Run(() => _job.Shutdown(JobState.Failed, reason));
            }
        }
    }
}

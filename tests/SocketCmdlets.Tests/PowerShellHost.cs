using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using SocketCmdlets.Commands;
using Xunit;

namespace SocketCmdlets.Tests
{
    /// <summary>
    /// Tests that look at process-wide state (Get-Socket counts, module cleanup) run here, one at a time and after the
    /// parallel collections.
    /// </summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class GlobalStateCollection
    {
        public const string Name = "Global state";
    }

    /// <summary>What one script run produced.</summary>
    public sealed class RunResult
    {
        public RunResult(IList<PSObject> output, PSDataStreams streams)
        {
            Output = new Collection<PSObject>(output.ToList());
            Errors = streams.Error.ToList();
            Verbose = streams.Verbose.Select(v => v.Message).ToList();
            Warnings = streams.Warning.Select(w => w.Message).ToList();
            Progress = streams.Progress.ToList();
        }

        public Collection<PSObject> Output { get; }

        public List<ErrorRecord> Errors { get; }

        public List<string> Verbose { get; }

        public List<string> Warnings { get; }

        public List<ProgressRecord> Progress { get; }

        /// <summary>The base objects of the output.</summary>
        public List<object> Objects => Output.Select(o => o?.BaseObject).ToList();

        /// <summary>Fails with the error messages when the run produced errors.</summary>
        public RunResult NoErrors()
        {
            Assert.True(Errors.Count == 0, "Unexpected errors: " + string.Join(" | ", Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
            return this;
        }

        /// <summary>The single error, which must have this FullyQualifiedErrorId.</summary>
        public ErrorRecord SingleError(string fullyQualifiedErrorId)
        {
            ErrorRecord error = Assert.Single(Errors);
            Assert.Equal(fullyQualifiedErrorId, error.FullyQualifiedErrorId);
            return error;
        }

        /// <summary>The single output object, of type <typeparamref name="T"/>.</summary>
        public T Single<T>()
        {
            PSObject one = Assert.Single(Output);
            return Assert.IsType<T>(one.BaseObject);
        }
    }

    /// <summary>The module's cmdlets, found by reflection, in a session built from CreateDefault2.</summary>
    public static class PowerShellHost
    {
        private static readonly Lazy<InitialSessionState> s_session = new Lazy<InitialSessionState>(Build);

        /// <summary>Every public cmdlet class of the module assembly.</summary>
        public static IReadOnlyList<Type> CmdletTypes { get; } = typeof(NewSocketCommand).Assembly.GetExportedTypes()
            .Where(t => !t.IsAbstract && typeof(PSCmdlet).IsAssignableFrom(t) && t.GetCustomAttribute<CmdletAttribute>() != null)
            .OrderBy(t => t.Name)
            .ToList();

        public static string CommandName(Type cmdletType)
        {
            CmdletAttribute attribute = cmdletType.GetCustomAttribute<CmdletAttribute>();
            return attribute.VerbName + "-" + attribute.NounName;
        }

        private static InitialSessionState Build()
        {
            InitialSessionState session = InitialSessionState.CreateDefault2();
            foreach (Type type in CmdletTypes)
            {
                session.Commands.Add(new SessionStateCmdletEntry(CommandName(type), type, null));
            }

            return session;
        }

        public static Runspace OpenRunspace()
        {
            Runspace runspace = RunspaceFactory.CreateRunspace(s_session.Value);
            runspace.Open();
            return runspace;
        }
    }

    /// <summary>One runspace per test class; scripts run in it one after another.</summary>
    public sealed class RunspaceFixture : IDisposable
    {
        private readonly List<NetSocket> _owned = new List<NetSocket>();

        public RunspaceFixture()
        {
            Runspace = PowerShellHost.OpenRunspace();
        }

        public Runspace Runspace { get; }

        /// <summary>Runs a script with the given variables set first; bounded so a test cannot hang.</summary>
        public RunResult Run(string script, params (string Name, object Value)[] variables)
        {
            foreach ((string name, object value) in variables)
            {
                Runspace.SessionStateProxy.SetVariable(name, value);
            }

            PowerShell ps = PowerShell.Create();
            ps.Runspace = Runspace;
            ps.AddScript(script);
            IAsyncResult pending = ps.BeginInvoke();
            if (!pending.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(60)))
            {
                // Not disposed unless it stops: disposing a pipeline that will not stop waits forever.
                if (ps.BeginStop(null, null).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10)))
                {
                    ps.Dispose();
                }

                Assert.Fail("The script did not finish within 60 s: " + script);
            }

            using (ps)
            {
                PSDataCollection<PSObject> output = ps.EndInvoke(pending);
                return new RunResult(output, ps.Streams);
            }
        }

        /// <summary>Remembers sockets to close when the class is done.</summary>
        public T Own<T>(T item)
        {
            if (item is NetSocket socket)
            {
                lock (_owned)
                {
                    _owned.Add(socket);
                }
            }

            return item;
        }

        public void Dispose()
        {
            lock (_owned)
            {
                _owned.ForEach(s => s.Close());
            }

            Runspace.Dispose();
        }
    }
}

using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using Xunit;

namespace SocketCmdlets.Tests
{
    /// <summary>Ctrl+C at a blocking point, checked the same way by every stop test: written once.</summary>
    internal static class StopCheck
    {
        /// <summary>How long a stop may take before the test fails (a bound, never an asserted duration).</summary>
        public static readonly TimeSpan StopBound = TimeSpan.FromSeconds(10);

        /// <summary>
        /// Starts <paramref name="script"/> in the fixture's runspace, waits (bounded) until <paramref name="blocked"/>
        /// says it waits, checks it still waits a little later, stops it and checks it ended, stopped, with no error
        /// record in its streams or in $Error.
        /// </summary>
        public static void StopWhileBlocked(RunspaceFixture fixture, string script, Func<PowerShell, bool> blocked, params (string Name, object Value)[] variables)
        {
            fixture.Run("$Error.Clear()").NoErrors();

            // Not disposed by a using block: disposing a PowerShell whose pipeline will not stop waits forever, and a
            // test must fail rather than hang.
            PowerShell ps = PowerShell.Create();
            ps.Runspace = fixture.Runspace;
            foreach ((string name, object value) in variables)
            {
                fixture.Runspace.SessionStateProxy.SetVariable(name, value);
            }

            ps.AddScript(script);
            IAsyncResult pending = ps.BeginInvoke();
            bool stopped = false;
            try
            {
                TestNet.WaitUntil(() => blocked(ps) || pending.IsCompleted, "the call waits");
                Assert.False(pending.IsCompleted, "The call ended before it was stopped: " + Errors(ps));

                // Still blocked a little later: it really waits.
                Thread.Sleep(200);
                Assert.False(pending.IsCompleted, "The call ended before it was stopped: " + Errors(ps));
            }
            finally
            {
                stopped = ps.BeginStop(null, null).AsyncWaitHandle.WaitOne(StopBound);
                if (stopped)
                {
                    ps.Dispose();
                }
            }

            Assert.True(stopped, "The call did not stop within " + StopBound + ".");
            Assert.True(pending.AsyncWaitHandle.WaitOne(StopBound));
            Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
            Assert.True(ps.Streams.Error.Count == 0, "Errors: " + Errors(ps));

            var errors = (ArrayList)fixture.Runspace.SessionStateProxy.GetVariable("Error");
            Assert.True(errors.Count == 0, "$Error holds: " + string.Join(" | ", errors.Cast<object>()));
        }

        /// <summary>
        /// The error stream as text. By index: enumerating a PSDataCollection of a running pipeline blocks until the
        /// pipeline ends.
        /// </summary>
        public static string Errors(PowerShell ps) =>
            string.Join(" | ", Enumerable.Range(0, ps.Streams.Error.Count).Select(i => ps.Streams.Error[i].FullyQualifiedErrorId + ": " + ps.Streams.Error[i]));
    }
}

using System;
using System.IO;
using System.Linq;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>The runtimes the engine suite runs on (build.ps1's Test task: .NET 10, 8 and 9, and Mono for net472).</summary>
    [Flags]
    public enum TestRuntime
    {
        None = 0,

        /// <summary>.NET 5 and later (PowerShell 7).</summary>
        DotNet = 1,

        /// <summary>Mono, the suite's stand-in for .NET Framework's class library (Windows PowerShell 5.1).</summary>
        Mono = 2,

        /// <summary>.NET Framework itself (on Windows).</summary>
        NetFramework = 4,
    }

    /// <summary>
    /// A fact that is skipped, with the reason in the results, on the runtimes named in the constructor or where the
    /// program named in <see cref="Tool"/> is not installed: a test that cannot work somewhere says so, never passes silently.
    /// </summary>
    public sealed class RuntimeFactAttribute : FactAttribute
    {
        private string _skip;

        public RuntimeFactAttribute()
            : this(TestRuntime.None, null)
        {
        }

        public RuntimeFactAttribute(TestRuntime skipOn, string reason)
        {
            SkipOn = skipOn;
            Reason = reason;
        }

        /// <summary>The runtime this test process runs on.</summary>
        public static TestRuntime Current =>
            RuntimeFacts.IsMono ? TestRuntime.Mono : RuntimeFacts.IsNetFramework ? TestRuntime.NetFramework : TestRuntime.DotNet;

        /// <summary>Where the test is skipped.</summary>
        public TestRuntime SkipOn { get; }

        /// <summary>Why it cannot work there.</summary>
        public string Reason { get; }

        /// <summary>A program the test runs (found on PATH); without it the test is skipped, naming it.</summary>
        public string Tool { get; set; }

        /// <summary>The runtimes where <see cref="Tool"/> is needed (by default every one).</summary>
        public TestRuntime ToolNeededOn { get; set; } = TestRuntime.DotNet | TestRuntime.Mono | TestRuntime.NetFramework;

        public override string Skip
        {
            get
            {
                if (_skip != null)
                {
                    return _skip;
                }

                if ((SkipOn & Current) != 0)
                {
                    return $"Not on {Current} ({RuntimeFacts.Description}): {Reason}";
                }

                if (Tool != null && (ToolNeededOn & Current) != 0 && FindOnPath(Tool) == null)
                {
                    return $"{Tool} is not installed (build.ps1 installs it with the test peers).";
                }

                return null;
            }

            set => _skip = value;
        }

        /// <summary>The full path of <paramref name="program"/> on PATH, or null.</summary>
        public static string FindOnPath(string program)
        {
            string[] suffixes = Path.DirectorySeparatorChar == '\\' ? new[] { ".exe", string.Empty } : new[] { string.Empty };
            return (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
                .Split(Path.PathSeparator)
                .Where(d => d.Length > 0)
                .SelectMany(d => suffixes.Select(s => Path.Combine(d, program + s)))
                .FirstOrDefault(File.Exists);
        }
    }
}

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
            get => _skip ?? SkipReason(SkipOn, Reason, Tool, ToolNeededOn);
            set => _skip = value;
        }

        /// <summary>Why a test is skipped on this runtime (its runtimes and its tool), or null when it runs.</summary>
        internal static string SkipReason(TestRuntime skipOn, string reason, string tool, TestRuntime toolNeededOn)
        {
            if ((skipOn & Current) != 0)
            {
                return $"Not on {Current} ({RuntimeFacts.Description}): {reason}";
            }

            if (tool != null && (toolNeededOn & Current) != 0 && FindOnPath(tool) == null)
            {
                return $"{tool} is not installed (build.ps1 installs it with the test peers).";
            }

            return null;
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

    /// <summary>A theory skipped, with the reason, on the runtimes named (see <see cref="RuntimeFactAttribute"/>).</summary>
    public sealed class RuntimeTheoryAttribute : TheoryAttribute
    {
        private readonly TestRuntime _skipOn;
        private readonly string _reason;
        private string _skip;

        public RuntimeTheoryAttribute(TestRuntime skipOn, string reason)
        {
            _skipOn = skipOn;
            _reason = reason;
        }

        public override string Skip
        {
            get => _skip ?? RuntimeFactAttribute.SkipReason(_skipOn, _reason, null, TestRuntime.None);
            set => _skip = value;
        }
    }
}

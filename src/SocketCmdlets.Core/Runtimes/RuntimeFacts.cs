using System;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Authentication;

namespace SocketCmdlets
{
    /// <summary>
    /// What the engine must know about the runtime it is loaded in: PowerShell 7 (.NET 8 and later), Windows PowerShell
    /// 5.1 (.NET Framework 4.6.2 to 4.8.1) and Mono (the suite's stand-in for .NET Framework's class library on Linux).
    /// </summary>
    internal static class RuntimeFacts
    {
        /// <summary>SslProtocols.Tls13, which netstandard2.0 does not name.</summary>
        internal const SslProtocols Tls13 = (SslProtocols)12288;

        /// <summary>The runtime's own description, for example ".NET 8.0.11", ".NET Framework 4.8.9256.0" or "Mono 6.8.0.105 (...)".</summary>
        public static string Description { get; } = Describe();

        /// <summary>True under Mono.</summary>
        public static bool IsMono { get; } = Type.GetType("Mono.Runtime") != null;

        /// <summary>True on .NET Framework (Windows PowerShell 5.1).</summary>
        public static bool IsNetFramework { get; } = IsFramework(Description);

        /// <summary>True when <paramref name="description"/> (RuntimeInformation.FrameworkDescription) names .NET Framework.</summary>
        public static bool IsFramework(string description) =>
            description != null && description.StartsWith(".NET Framework", StringComparison.OrdinalIgnoreCase);

        /// <summary>
        /// The TLS versions to ask SslStream for. <see cref="SslProtocols.None"/> ("let the system choose") is what the
        /// engine asks for by default, but .NET Framework refuses it with ArgumentException unless the registry opts in
        /// (SystemDefaultTlsVersions), so there the default becomes TLS 1.2, and TLS 1.3 too where the enum names it and
        /// the system can speak it. A choice the caller made is kept as it is.
        /// </summary>
        public static SslProtocols EffectiveProtocols(SslProtocols requested, string frameworkDescription, bool tls13Named, bool tls13Supported)
        {
            if (requested != SslProtocols.None || !IsFramework(frameworkDescription))
            {
                return requested;
            }

            return tls13Named && tls13Supported ? SslProtocols.Tls12 | Tls13 : SslProtocols.Tls12;
        }

        /// <summary><see cref="EffectiveProtocols(SslProtocols, string, bool, bool)"/> for this process.</summary>
        public static SslProtocols EffectiveProtocols(SslProtocols requested) =>
            EffectiveProtocols(requested, Description, Enum.IsDefined(typeof(SslProtocols), Tls13), SystemSpeaksTls13());

        /// <summary>
        /// Reads a property by reflection; a property the runtime lacks, or one that throws (Mono's SslStream throws
        /// PlatformNotSupportedException from NegotiatedApplicationProtocol after a good handshake), reads as null.
        /// </summary>
        public static object PropertyOrNull(object target, string name)
        {
            if (target == null)
            {
                return null;
            }

            try
            {
                return target.GetType().GetProperty(name)?.GetValue(target);
            }
            catch (TargetInvocationException)
            {
                return null;
            }
            catch (Exception e) when (e is NotSupportedException || e is NotImplementedException || e is InvalidOperationException)
            {
                return null;
            }
        }

        private static bool SystemSpeaksTls13()
        {
            // SChannel speaks TLS 1.3 from Windows 11 and Windows Server 2022 (build 20348) on.
            return RuntimeInformation.IsOSPlatform(OSPlatform.Windows) && Environment.OSVersion.Version.Build >= 20348;
        }

        private static string Describe()
        {
            try
            {
                return RuntimeInformation.FrameworkDescription;
            }
            catch (Exception e) when (e is TypeLoadException || e is MissingMethodException || e is PlatformNotSupportedException)
            {
                return string.Empty;
            }
        }
    }
}

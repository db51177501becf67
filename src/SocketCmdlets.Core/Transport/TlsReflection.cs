using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Security;
using System.Reflection;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace SocketCmdlets
{
    /// <summary>
    /// The parts of SslStream that netstandard2.0 does not name (ALPN, TLS 1.3 cipher suites, close_notify), reached by
    /// reflection on runtimes that have them; elsewhere they are simply not used.
    /// </summary>
    internal static class TlsReflection
    {
        private static readonly Type s_clientOptions = Type.GetType("System.Net.Security.SslClientAuthenticationOptions, System.Net.Security", false);
        private static readonly Type s_serverOptions = Type.GetType("System.Net.Security.SslServerAuthenticationOptions, System.Net.Security", false);
        private static readonly Type s_alpn = Type.GetType("System.Net.Security.SslApplicationProtocol, System.Net.Security", false);

        public static Task AuthenticateAsClient(SslStream tls, TlsOptions options, string targetHost)
        {
            var certificates = options.Certificate != null ? new X509CertificateCollection { options.Certificate } : null;
            if (options.ApplicationProtocols == null || options.ApplicationProtocols.Count == 0 || s_clientOptions == null)
            {
                return tls.AuthenticateAsClientAsync(targetHost, certificates, RuntimeFacts.EffectiveProtocols(options.Protocols), false);
            }

            object o = Activator.CreateInstance(s_clientOptions);
            Set(o, "TargetHost", targetHost);
            Set(o, "ClientCertificates", certificates);
            Set(o, "EnabledSslProtocols", RuntimeFacts.EffectiveProtocols(options.Protocols));
            Set(o, "ApplicationProtocols", AlpnList(options.ApplicationProtocols));
            Set(o, "RemoteCertificateValidationCallback", null);
            return Invoke(tls, "AuthenticateAsClientAsync", o);
        }

        public static Task AuthenticateAsServer(SslStream tls, TlsOptions options)
        {
            if (options.ApplicationProtocols == null || options.ApplicationProtocols.Count == 0 || s_serverOptions == null)
            {
                return tls.AuthenticateAsServerAsync(options.Certificate, options.RequireClientCertificate, RuntimeFacts.EffectiveProtocols(options.Protocols), false);
            }

            object o = Activator.CreateInstance(s_serverOptions);
            Set(o, "ServerCertificate", options.Certificate);
            Set(o, "ClientCertificateRequired", options.RequireClientCertificate);
            Set(o, "EnabledSslProtocols", RuntimeFacts.EffectiveProtocols(options.Protocols));
            Set(o, "ApplicationProtocols", AlpnList(options.ApplicationProtocols));
            return Invoke(tls, "AuthenticateAsServerAsync", o);
        }

        public static string ApplicationProtocol(SslStream tls)
        {
            object value = RuntimeFacts.PropertyOrNull(tls, "NegotiatedApplicationProtocol");
            string text = value?.ToString();
            return string.IsNullOrEmpty(text) ? null : text;
        }

        public static string CipherSuite(SslStream tls)
        {
            object value = RuntimeFacts.PropertyOrNull(tls, "NegotiatedCipherSuite");
            return value?.ToString() ?? $"{tls.CipherAlgorithm} {tls.CipherStrength}-bit, {tls.HashAlgorithm}, {tls.KeyExchangeAlgorithm}";
        }

        public static Task Shutdown(SslStream tls)
        {
            MethodInfo method = tls.GetType().GetMethod("ShutdownAsync", Type.EmptyTypes);
            try
            {
                return method?.Invoke(tls, null) as Task;
            }
            catch (TargetInvocationException)
            {
                return null;
            }
        }

        private static object AlpnList(IList<string> names)
        {
            if (s_alpn == null)
            {
                return null;
            }

            var list = (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(s_alpn));
            foreach (string name in names)
            {
                list.Add(Activator.CreateInstance(s_alpn, name));
            }

            return list;
        }

        private static void Set(object target, string property, object value) =>
            target.GetType().GetProperty(property)?.SetValue(target, value);

        private static Task Invoke(SslStream tls, string name, object options)
        {
            MethodInfo method = tls.GetType().GetMethods()
                .First(m => m.Name == name && m.GetParameters().Length == 2 && m.GetParameters()[0].ParameterType == options.GetType());
            try
            {
                return (Task)method.Invoke(tls, new[] { options, (object)CancellationToken.None });
            }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
        }
    }
}

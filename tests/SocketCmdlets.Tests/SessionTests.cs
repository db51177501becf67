using System;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using Xunit;

namespace SocketCmdlets.Tests
{
    public sealed class SessionTests : IClassFixture<RunspaceFixture>
    {
        private readonly RunspaceFixture _ps;

        public SessionTests(RunspaceFixture ps) => _ps = ps;

        [Fact]
        public void Every_cmdlet_class_is_found_and_declares_its_output()
        {
            Assert.NotEmpty(PowerShellHost.CmdletTypes);
            foreach (Type type in PowerShellHost.CmdletTypes)
            {
                Assert.True(type.IsSealed, type.Name + " is sealed");
                Assert.Equal("SocketCmdlets.Commands", type.Namespace);
                Assert.EndsWith("Command", type.Name);
                Assert.NotEmpty(type.GetCustomAttributes<OutputTypeAttribute>());
                Assert.True(typeof(IDisposable).IsAssignableFrom(type), type.Name + " is disposable");
            }
        }

        [Fact]
        public void The_life_cycle_cmdlets_are_in_the_session()
        {
            string[] expected =
            {
                "New-Socket", "Register-SocketBinding", "Start-SocketListen", "Receive-SocketConnection", "Connect-Socket",
                "Send-SocketData", "Receive-SocketData", "Close-Socket", "Get-Socket",
            };
            RunResult result = _ps.Run("Get-Command -CommandType Cmdlet | ForEach-Object Name").NoErrors();
            string[] names = result.Objects.Cast<string>().ToArray();
            foreach (string name in expected)
            {
                Assert.Contains(name, names);
            }

            Assert.Equal(expected.OrderBy(n => n), PowerShellHost.CmdletTypes.Select(PowerShellHost.CommandName).Intersect(expected).OrderBy(n => n));
        }

        [Fact]
        public void Every_cmdlet_of_the_SPEC_table_exists()
        {
            // SPEC.md, "Cmdlets": the select() and TLS steps are part of the contract too.
            string[] spec =
            {
                "New-Socket", "Register-SocketBinding", "Start-SocketListen", "Receive-SocketConnection", "Connect-Socket",
                "Send-SocketData", "Receive-SocketData", "Close-Socket", "Get-Socket", "Wait-Socket", "Protect-Socket",
            };
            string[] missing = spec.Except(PowerShellHost.CmdletTypes.Select(PowerShellHost.CommandName)).ToArray();
            Assert.True(missing.Length == 0, "Missing cmdlets: " + string.Join(", ", missing));
        }

        [Fact]
        public void Socket_taking_cmdlets_take_the_socket_by_pipeline_or_by_id()
        {
            foreach (string name in new[] { "Register-SocketBinding", "Start-SocketListen", "Receive-SocketConnection", "Connect-Socket", "Send-SocketData", "Receive-SocketData", "Close-Socket" })
            {
                Type type = PowerShellHost.CmdletTypes.Single(t => PowerShellHost.CommandName(t) == name);
                PropertyInfo socket = type.GetProperty("Socket");
                PropertyInfo id = type.GetProperty("Id");
                Assert.NotNull(socket);
                Assert.NotNull(id);
                Assert.Contains(socket.GetCustomAttributes<ParameterAttribute>(), p => p.ValueFromPipeline && p.ParameterSetName == "Socket");
                Assert.Contains(id.GetCustomAttributes<ParameterAttribute>(), p => p.ParameterSetName == "Id");
                Assert.Equal("Socket", type.GetCustomAttribute<CmdletAttribute>().DefaultParameterSetName);
            }
        }
    }
}

using System;
using System.Management.Automation;
using System.Text;
using Xunit;

namespace SocketCmdlets.Tests
{
    /// <summary>
    /// What Pester cannot see of Send-SocketData: a pipeline that keeps running while a peer on another thread waits
    /// for what it sent. Every other Send-SocketData behaviour is tested once, in tests/pester/Send-SocketData.Tests.ps1.
    /// </summary>
    public sealed class SendSocketDataTests : IClassFixture<RunspaceFixture>
    {
        private readonly RunspaceFixture _ps;

        public SendSocketDataTests(RunspaceFixture ps) => _ps = ps;

        [Fact]
        public void A_piped_socket_gets_its_data_at_once_not_when_the_next_input_comes()
        {
            // A server loop that greets each client: the greeting must not wait for the next client.
            NetSocket listener = _ps.Own(TestNet.ListenerV4());
            PowerShell ps = PowerShell.Create();
            ps.Runspace = _ps.Runspace;
            ps.AddScript("param($l) $l | Receive-SocketConnection -Continuous | Send-SocketData -Data 'hello' -PassThru").AddArgument(listener);
            var output = new PSDataCollection<PSObject>();
            IAsyncResult pending = ps.BeginInvoke<PSObject, PSObject>(null, output);
            Exception failure = null;
            try
            {
                using (NetSocket client = NetSocket.Create())
                {
                    client.Connect("127.0.0.1", listener.LocalEndPoint.Port, TestNet.Timeout, TestNet.Token);
                    failure = Record.Exception(() => Assert.Equal("hello", Encoding.UTF8.GetString(client.ReceiveExactly(5, TimeSpan.FromSeconds(3), TestNet.Token))));
                    if (failure == null)
                    {
                        TestNet.WaitUntil(() => output.Count == 1, "the greeted socket is passed on");
                    }
                }
            }
            finally
            {
                bool stopped = ps.BeginStop(null, null).AsyncWaitHandle.WaitOne(StopCheck.StopBound);
                for (int i = 0; i < output.Count; i++)
                {
                    _ps.Own(output[i].BaseObject);
                }

                if (stopped)
                {
                    ps.Dispose();
                }
            }

            Assert.Null(failure);
        }
    }
}

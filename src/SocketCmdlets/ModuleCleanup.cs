using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// Remove-Module closes every socket the module opened in that session (runspace); sockets of other runspaces of
    /// the process, which share the registry, stay open. The servers that session started stop first.
    /// the process, which share the registry, stay open. The relays (Start-SocketRelay) it started stop too.
    /// </summary>
    public sealed class ModuleCleanup : IModuleAssemblyCleanup
    {
        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            SocketServerJob.StopOwnedBy(SocketCommandBase.CurrentOwner);
            SocketRelayJob.StopOwnedBy(SocketCommandBase.CurrentOwner);
            RelayListener.StopOwnedBy(SocketCommandBase.CurrentOwner);
            SocketRegistry.CloseOwnedBy(SocketCommandBase.CurrentOwner);
        }
    }
}

using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// Remove-Module closes every socket the module opened in that session (runspace); sockets of other runspaces of
    /// the process, which share the registry, stay open. The servers that session started stop first.
    /// </summary>
    public sealed class ModuleCleanup : IModuleAssemblyCleanup
    {
        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            SocketServerJob.StopOwnedBy(SocketCommandBase.CurrentOwner);
            SocketRegistry.CloseOwnedBy(SocketCommandBase.CurrentOwner);
        }
    }
}

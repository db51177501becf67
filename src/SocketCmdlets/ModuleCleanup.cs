using System.Management.Automation;

namespace SocketCmdlets.Commands
{
    /// <summary>Remove-Module closes every socket the module opened.</summary>
    public sealed class ModuleCleanup : IModuleAssemblyCleanup
    {
        public void OnRemove(PSModuleInfo psModuleInfo) => SocketRegistry.CloseAll();
    }
}

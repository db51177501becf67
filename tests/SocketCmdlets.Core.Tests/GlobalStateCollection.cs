using Xunit;

namespace SocketCmdlets.Core.Tests
{
    /// <summary>
    /// Tests that look at process-wide state (the registry count, CloseAll, the buffer pool, open descriptors) run
    /// here, one at a time and after the parallel collections.
    /// </summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class GlobalStateCollection
    {
        public const string Name = "Global state";
    }
}

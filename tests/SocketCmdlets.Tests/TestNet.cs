using System.Management.Automation;
using Xunit;

namespace SocketCmdlets.TestSupport
{
    /// <summary>The runspace suite's part of the shared helpers (tests/Shared/TestNet.cs): error records.</summary>
    internal static partial class TestNet
    {
        /// <summary>Asserts an error record: id, cmdlet class, category and target.</summary>
        public static void AssertError(ErrorRecord error, string errorId, string commandClass, ErrorCategory category, object target = null)
        {
            Assert.Equal($"{errorId},SocketCmdlets.Commands.{commandClass}", error.FullyQualifiedErrorId);
            Assert.Equal(category, error.CategoryInfo.Category);
            if (target != null)
            {
                object actual = error.TargetObject is PSObject ps ? ps.BaseObject : error.TargetObject;
                Assert.Equal(target, actual);
            }
        }
    }
}

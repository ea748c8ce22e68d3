using DataSync.Cli.Progress;
using DataSync.Core.Verify;

namespace DataSync.Cli.Verify;

/// <summary>A verify's progress reports shown on the command's <see cref="IProgressDisplay"/>, the same one <c>resync --wait</c> uses.</summary>
internal sealed class DisplayedVerifyProgress(IProgressDisplay display) : IVerifyProgress
{
    public void Report(VerifyProgress progress) => display.Show(VerifyFrame.From(progress));
}

using SandboxFunctions.Sandbox;
using SandboxFunctions.Tools.Diagnostics;

namespace SandboxFunctions.Tools;

/// <summary>The workspace files a call created or changed: compared against a listing taken before it ran.</summary>
internal sealed class WorkspaceChanges
{
    private readonly SandboxInstance _sandbox;
    private readonly IReadOnlyList<WorkspaceEntry> _before;

    private WorkspaceChanges(SandboxInstance sandbox, IReadOnlyList<WorkspaceEntry> before)
    {
        _sandbox = sandbox;
        _before = before;
    }

    public static async Task<WorkspaceChanges> StartAsync(SandboxInstance sandbox) =>
        new(sandbox, await ScanAsync(sandbox).ConfigureAwait(false));

    public async Task<IReadOnlyList<WorkspaceEntry>> ListChangedAsync()
    {
        var after = await ScanAsync(_sandbox).ConfigureAwait(false);
        return [.. after.Where(f => !f.IsDirectory && !_before.Contains(f))];
    }

    private static async Task<IReadOnlyList<WorkspaceEntry>> ScanAsync(SandboxInstance sandbox)
    {
        using var activity = ToolDiagnostics.StartStep("workspace.scan");
        return await sandbox.Workspace.ListAsync(recursive: true, cancellationToken: CancellationToken.None).ConfigureAwait(false);
    }
}

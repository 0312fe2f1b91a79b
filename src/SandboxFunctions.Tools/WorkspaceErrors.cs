using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Tools;

internal static class WorkspaceErrors
{
    public static ToolFailureException From(WorkspaceException exception) => exception.Error switch
    {
        WorkspaceError.NotFound => ToolErrors.FileNotFound(exception.Message),
        WorkspaceError.IsDirectory => ToolErrors.IsDirectory(exception.Message),
        WorkspaceError.OutsideWorkspace => ToolErrors.PathOutsideWorkspace(exception.Message),
        WorkspaceError.InvalidRange => ToolErrors.InvalidRange(exception.Message),
        WorkspaceError.LimitExceeded => ToolErrors.WorkspaceFull(exception.Message),
        WorkspaceError.ReadOnly => ToolErrors.ReadOnlyPath(exception.Message),
        _ => ToolErrors.InvalidPath(exception.Message),
    };
}

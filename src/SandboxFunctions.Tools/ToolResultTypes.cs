using System.ComponentModel;
using SandboxFunctions.Sessions;

namespace SandboxFunctions.Tools;

// The shapes of the tools' structured content. Every property is optional in the schema and every shape
// carries `error`, so that a failed call's content validates against the same output schema.

public sealed record SessionInfo(
    [property: Description("The session's id; pass it as session_id to later calls.")] string? SessionId = null,
    [property: Description("python or javascript.")] string? Language = null,
    [property: Description("small, medium or large; list_runtimes shows each one's limits.")] string? Flavor = null,
    [property: Description("When the session was created (UTC).")] DateTimeOffset? CreatedAt = null,
    [property: Description("When the session was last used (UTC).")] DateTimeOffset? LastUsedAt = null,
    [property: Description("When the session expires unless used again (UTC).")] DateTimeOffset? ExpiresAt = null,
    [property: Description("Idle seconds after which the session expires; each use extends it.")] long? TtlSeconds = null,
    [property: Description("Executions run in the session.")] long? Executions = null,
    [property: Description("Interpreter memory at the last save, in bytes.")] long? MemoryBytes = null,
    [property: Description("Files in /workspace with their sizes.")] IReadOnlyList<WorkspaceFileInfo>? Files = null,
    [property: Description("Set when the call failed.")] ToolError? Error = null)
{
    public static SessionInfo From(SessionRecord record, IReadOnlyList<WorkspaceFileInfo>? files = null) => new(
        record.Id,
        record.Language,
        record.Flavor,
        record.CreatedAt,
        record.LastUsedAt,
        record.ExpiresAt,
        (long)record.Ttl.TotalSeconds,
        record.ExecutionCount,
        record.MemoryBytes,
        files ?? [.. record.Files.Select(f => new WorkspaceFileInfo(f.Path, f.Size, WorkspaceResources.UriOf(record.Id, f.Path)))]);
}

public sealed record WorkspaceFileInfo(
    [property: Description("Absolute path inside the sandbox, under /workspace.")] string Path,
    [property: Description("Size in bytes.")] long Size,
    [property: Description("MCP resource URI to read the file with resources/read.")] string Uri,
    [property: Description("True for directories.")] bool? IsDirectory = null);

public sealed record SessionList(
    [property: Description("Your live sessions, newest first.")] IReadOnlyList<SessionInfo>? Sessions = null,
    [property: Description("Set when the call failed.")] ToolError? Error = null);

public sealed record DestroyResult(
    [property: Description("The session that was destroyed.")] string? SessionId = null,
    [property: Description("True when it was destroyed.")] bool? Destroyed = null,
    [property: Description("Set when the call failed.")] ToolError? Error = null);

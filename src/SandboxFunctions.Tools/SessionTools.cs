using System.ComponentModel;
using System.Text;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace SandboxFunctions.Tools;

[McpServerToolType]
public sealed class SessionTools(SandboxSessions sessions)
{
    [McpServerTool(Name = "create_session", Title = "Create session", Idempotent = false, UseStructuredContent = true, OutputSchemaType = typeof(SessionInfo))]
    [Description("Creates a persistent sandbox session: an interpreter whose variables, functions, imports and /workspace files survive between calls. Returns its session_id. You rarely need this: execute_code without session_id creates one for you.")]
    public async Task<CallToolResult> CreateSessionAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Language of the session: 'python' or 'javascript'.")] string language,
        [Description("Optional id to give the session (4-128 visible ASCII characters); a random one is generated when omitted.")] string? session_id = null,
        [Description("Resources: 'small' (default), 'medium' or 'large'. list_runtimes shows each one's memory, timeout and output limits.")] string? flavor = null,
        [Description("Idle seconds after which the session is deleted; each use extends it. Default and maximum are shown by list_runtimes.")] int? ttl_seconds = null,
        CancellationToken cancellationToken = default)
    {
        var record = await sessions.CreateAsync(Callers.GetOwner(context.User), language, session_id, flavor, ttl_seconds, cancellationToken).ConfigureAwait(false);
        var info = SessionInfo.From(record);
        return ToolResults.Success(info, $"Created {record.Language} session {record.Id} ({record.Flavor}); it expires after {(int)record.Ttl.TotalSeconds} idle seconds. Pass session_id=\"{record.Id}\" to execute_code.");
    }

    [McpServerTool(Name = "get_session", Title = "Get session", ReadOnly = true, Idempotent = true, UseStructuredContent = true, OutputSchemaType = typeof(SessionInfo))]
    [Description("Shows a session: language, flavor, when it was created, last used and expires, how many executions ran, memory in use, and its /workspace files with sizes.")]
    public async Task<CallToolResult> GetSessionAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The session's id, from create_session, execute_code or list_sessions.")] string session_id,
        CancellationToken cancellationToken = default)
    {
        var record = await sessions.GetAsync(Callers.GetOwner(context.User), session_id, cancellationToken).ConfigureAwait(false);
        var info = SessionInfo.From(record);
        return ToolResults.Success(info, Describe(info));
    }

    [McpServerTool(Name = "list_sessions", Title = "List sessions", ReadOnly = true, Idempotent = true, UseStructuredContent = true, OutputSchemaType = typeof(SessionList))]
    [Description("Lists your live sessions (only those created with your credential), newest first.")]
    public async Task<CallToolResult> ListSessionsAsync(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken = default)
    {
        var records = await sessions.ListAsync(Callers.GetOwner(context.User), cancellationToken).ConfigureAwait(false);
        var list = new SessionList([.. records.Select(r => SessionInfo.From(r))]);
        var text = new StringBuilder(records.Count == 0 ? "You have no sessions." : $"You have {records.Count} session(s):");
        foreach (var record in records)
        {
            text.Append($"\n- {record.Id}: {record.Language} ({record.Flavor}), {record.ExecutionCount} executions, expires {record.ExpiresAt:u}");
        }

        return ToolResults.Success(list, text.ToString());
    }

    [McpServerTool(Name = "reset_session", Title = "Reset session", Destructive = true, Idempotent = true, UseStructuredContent = true, OutputSchemaType = typeof(SessionInfo))]
    [Description("Starts a session over with a fresh interpreter and an empty /workspace, keeping its id. Everything defined or stored in it is lost.")]
    public async Task<CallToolResult> ResetSessionAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The session to reset.")] string session_id,
        CancellationToken cancellationToken = default)
    {
        var record = await sessions.ResetAsync(Callers.GetOwner(context.User), session_id, cancellationToken).ConfigureAwait(false);
        return ToolResults.Success(SessionInfo.From(record), $"Session {record.Id} was reset: fresh {record.Language} interpreter, empty workspace.");
    }

    [McpServerTool(Name = "destroy_session", Title = "Destroy session", Destructive = true, UseStructuredContent = true, OutputSchemaType = typeof(DestroyResult))]
    [Description("Deletes a session and everything in it, at once and for good.")]
    public async Task<CallToolResult> DestroySessionAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The session to delete.")] string session_id,
        CancellationToken cancellationToken = default)
    {
        await sessions.DestroyAsync(Callers.GetOwner(context.User), session_id, cancellationToken).ConfigureAwait(false);
        return ToolResults.Success(new DestroyResult(session_id, true), $"Session {session_id} was destroyed.");
    }

    [McpServerTool(Name = "fork_session", Title = "Fork session", Idempotent = false, UseStructuredContent = true, OutputSchemaType = typeof(SessionInfo))]
    [Description("Copies a session, with its whole state (interpreter memory and /workspace files), into a new session that then evolves independently. Useful to try something without risking the original.")]
    public async Task<CallToolResult> ForkSessionAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The session to copy.")] string session_id,
        [Description("Optional id for the copy; a random one is generated when omitted.")] string? new_session_id = null,
        CancellationToken cancellationToken = default)
    {
        var record = await sessions.ForkAsync(Callers.GetOwner(context.User), session_id, new_session_id, cancellationToken).ConfigureAwait(false);
        return ToolResults.Success(SessionInfo.From(record), $"Forked session {session_id} into {record.Id}; the two now evolve independently.");
    }

    private static string Describe(SessionInfo info)
    {
        var text = new StringBuilder($"Session {info.SessionId}: {info.Language} ({info.Flavor}), {info.Executions} executions, {info.MemoryBytes / (1024 * 1024)} MiB memory, created {info.CreatedAt:u}, last used {info.LastUsedAt:u}, expires {info.ExpiresAt:u}.");
        text.Append(info.Files is { Count: > 0 } files ? $"\nFiles ({files.Count}):" : "\nNo files in /workspace.");
        foreach (var file in info.Files ?? [])
        {
            text.Append($"\n- {file.Path} ({file.Size} bytes)");
        }

        return text.ToString();
    }
}

using System.ComponentModel;
using System.Text;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SandboxFunctions.Sessions;

namespace SandboxFunctions.Tools.History;

[McpServerToolType]
public sealed class HistoryTools(SandboxSessions sessions, SessionHistory history)
{
    private const int DefaultLimit = 20;

    [McpServerTool(Name = "list_executions", Title = "List executions", ReadOnly = true, Idempotent = true, UseStructuredContent = true, OutputSchemaType = typeof(ExecutionHistoryList))]
    [Description($"Shows a session's recent executions, commands and background jobs, newest first: when, language, status, duration, and the first lines of code and output. The last 100 are kept, and deleted with the session.")]
    public async Task<CallToolResult> ListExecutionsAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The session whose history to show.")] string session_id,
        [Description("How many entries to show, newest first (1 to 100; default 20).")] int? limit = null,
        CancellationToken cancellationToken = default)
    {
        var count = limit ?? DefaultLimit;
        if (count is < 1 or > ExecutionHistory.MaxEntriesPerSession)
        {
            throw ToolErrors.InvalidLimit(count, ExecutionHistory.MaxEntriesPerSession);
        }

        var owner = Callers.GetOwner(context.User);
        var record = await sessions.GetAsync(owner, session_id, cancellationToken).ConfigureAwait(false);
        var entries = await sessions.Guard(() => history.ListAsync(owner, record.Id, count, cancellationToken)).ConfigureAwait(false);
        var list = new ExecutionHistoryList(record.Id, [.. entries.Select(e => new ExecutionHistoryItem(e.At, e.Kind, e.Language, e.Status, e.DurationMs, e.CodePreview, e.OutputPreview, e.JobId))]);

        var text = new StringBuilder(entries.Count == 0 ? $"Nothing has run in session {record.Id} yet." : $"Last {entries.Count} run(s) in session {record.Id}:");
        foreach (var entry in entries)
        {
            text.Append($"\n- {entry.At:u} {entry.Kind} {entry.Status} ({entry.DurationMs} ms): {entry.CodePreview.Split('\n')[0]}");
        }

        return ToolResults.Success(list, text.ToString());
    }
}

public sealed record ExecutionHistoryList(string SessionId, IReadOnlyList<ExecutionHistoryItem> Executions);

public sealed record ExecutionHistoryItem(
    DateTimeOffset At,
    [property: Description("execution, command or job.")] string Kind,
    string Language,
    [property: Description("How it ended, e.g. ok, error, timeout, cancelled; for jobs succeeded, failed, timed_out or cancelled.")] string Status,
    long DurationMs,
    [property: Description("The first lines of the code or command.")] string Code,
    [property: Description("The first lines of its output.")] string Output,
    [property: Description("The job's id, for background jobs.")] string? JobId);

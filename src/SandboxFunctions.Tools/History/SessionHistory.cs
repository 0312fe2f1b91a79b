using Microsoft.Extensions.Logging;
using SandboxFunctions.Sessions;

namespace SandboxFunctions.Tools.History;

/// <summary>
/// Records what ran in a session for <c>list_executions</c>. History is a convenience: failing to write it
/// never fails the call that ran.
/// </summary>
public sealed partial class SessionHistory(ExecutionHistory history, TimeProvider time, ILogger<SessionHistory> logger)
{
    public async Task RecordAsync(string owner, string sessionId, ExecutionKind kind, string language, string status, TimeSpan duration, string code, string? output, string? jobId = null)
    {
        try
        {
            var entry = new HistoryEntry(
                time.GetUtcNow(),
                kind.ToString().ToLowerInvariant(),
                language,
                status,
                (long)duration.TotalMilliseconds,
                ExecutionHistory.Preview(code),
                ExecutionHistory.Preview(output ?? string.Empty),
                jobId);
            await history.RecordAsync(owner, sessionId, entry, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogHistoryFailed(logger, sessionId, ex.Message);
        }
    }

    public Task<IReadOnlyList<HistoryEntry>> ListAsync(string owner, string sessionId, int limit, CancellationToken cancellationToken) =>
        history.ListAsync(owner, sessionId, limit, cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record history of session {SessionId}: {Reason}")]
    private static partial void LogHistoryFailed(ILogger logger, string sessionId, string reason);
}

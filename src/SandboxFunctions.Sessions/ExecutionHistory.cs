using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Sessions;

/// <summary>
/// A session's recent executions and jobs, newest first: one partition per session, so listing is one query
/// and deleting a session deletes its history with it.
/// </summary>
public sealed partial class ExecutionHistory
{
    public const string TableName = "history";

    /// <summary>Entries kept per session; older ones are dropped as new ones arrive.</summary>
    public const int MaxEntriesPerSession = 100;

    /// <summary>One write in this many also removes its session's entries beyond the maximum.</summary>
    private const int TrimInterval = 16;

    private readonly IEntityTable _history;
    private readonly StorageResources _resources;
    private readonly ILogger _logger;
    private long _recorded;

    public ExecutionHistory(IStorageProvider storage, ILogger<ExecutionHistory>? logger = null)
        : this(storage, (ILogger?)logger)
    {
    }

    internal ExecutionHistory(IStorageProvider storage, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _history = storage.GetTable(TableName);
        _logger = logger ?? NullLogger.Instance;
        _resources = new StorageResources(_logger, ($"table '{TableName}'", _history.CreateIfNotExistsAsync));
    }

    public async Task RecordAsync(string owner, string sessionId, HistoryEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        using var activity = SessionDiagnostics.StartStep("history.record");
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);

        // Reverse ticks sort the newest entry first in key order.
        var rowKey = $"{DateTimeOffset.MaxValue.UtcTicks - entry.At.UtcTicks:D19}-{Guid.NewGuid():N}";
        await _history.AddAsync(new StorageEntity(Partition(owner, sessionId), rowKey)
        {
            Properties = new Dictionary<string, object?>
            {
                ["At"] = entry.At,
                ["Kind"] = entry.Kind,
                ["Language"] = entry.Language,
                ["Status"] = entry.Status,
                ["DurationMs"] = entry.DurationMs,
                ["Code"] = entry.CodePreview,
                ["Output"] = entry.OutputPreview,
                ["JobId"] = entry.JobId,
            },
        }, cancellationToken).ConfigureAwait(false);

        // Listing never shows more than the maximum, so the older entries can go later, off the caller's path.
        if (Interlocked.Increment(ref _recorded) % TrimInterval == 0)
        {
            _ = Task.Run(() => TrimAsync(Partition(owner, sessionId)), CancellationToken.None);
        }
    }

    private async Task TrimAsync(string partition)
    {
        try
        {
            var index = 0;
            await foreach (var old in _history.QueryAsync(EntityFilter.Equal("PartitionKey", partition), CancellationToken.None).ConfigureAwait(false))
            {
                if (++index > MaxEntriesPerSession)
                {
                    await _history.DeleteAsync(old.PartitionKey, old.RowKey, ETag.All, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        catch (StorageException ex)
        {
            LogTrimFailed(_logger, ex.Message);
        }
    }

    public async Task<IReadOnlyList<HistoryEntry>> ListAsync(string owner, string sessionId, int limit, CancellationToken cancellationToken = default)
    {
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var entries = new List<HistoryEntry>();
        await foreach (var entity in _history.QueryAsync(EntityFilter.Equal("PartitionKey", Partition(owner, sessionId)), cancellationToken).ConfigureAwait(false))
        {
            entries.Add(new HistoryEntry(
                entity.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue,
                entity.GetString("Kind") ?? string.Empty,
                entity.GetString("Language") ?? string.Empty,
                entity.GetString("Status") ?? string.Empty,
                entity.GetInt64("DurationMs") ?? 0,
                entity.GetString("Code") ?? string.Empty,
                entity.GetString("Output") ?? string.Empty,
                entity.GetString("JobId")));
        }

        return [.. entries.OrderByDescending(e => e.At).Take(Math.Min(limit, MaxEntriesPerSession))];
    }

    public async Task DeleteForSessionAsync(string owner, string sessionId, CancellationToken cancellationToken = default)
    {
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var entity in _history.QueryAsync(EntityFilter.Equal("PartitionKey", Partition(owner, sessionId)), cancellationToken).ConfigureAwait(false))
        {
            await _history.DeleteAsync(entity.PartitionKey, entity.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Gives a session's history to another owner id, entry by entry, each copied before it is removed.</summary>
    internal async Task MoveAsync(string fromOwner, string toOwner, string sessionId, CancellationToken cancellationToken)
    {
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var entity in _history.QueryAsync(EntityFilter.Equal("PartitionKey", Partition(fromOwner, sessionId)), cancellationToken).ConfigureAwait(false))
        {
            await _history.UpsertAsync(entity with { PartitionKey = Partition(toOwner, sessionId), ETag = default }, cancellationToken).ConfigureAwait(false);
            await _history.DeleteAsync(entity.PartitionKey, entity.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The first few lines of a text, for listings.</summary>
    public static string Preview(string text, int lines = 3, int chars = 300)
    {
        ArgumentNullException.ThrowIfNull(text);
        var head = string.Join('\n', text.Split('\n').Take(lines)).TrimEnd();
        return head.Length <= chars ? head : head[..chars] + "…";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove old history entries: {Reason}")]
    private static partial void LogTrimFailed(ILogger logger, string reason);

    internal static string Partition(string owner, string sessionId) => $"{owner}-{SessionKeys.RowKey(sessionId)}";
}

/// <summary>One past execution or job of a session.</summary>
public sealed record HistoryEntry(
    DateTimeOffset At,
    string Kind,
    string Language,
    string Status,
    long DurationMs,
    string CodePreview,
    string OutputPreview,
    string? JobId = null);

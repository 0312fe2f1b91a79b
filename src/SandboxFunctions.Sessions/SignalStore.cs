using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Sessions;

/// <summary>
/// Cancellation requests that must reach whichever instance runs the work: the requesting instance writes a
/// signal, the running one polls for it. Keys name what is cancelled, e.g. a session's running call or one request.
/// </summary>
public sealed class SignalStore
{
    public const string TableName = "signals";

    private readonly IEntityTable _signals;
    private readonly TimeProvider _time;
    private readonly StorageResources _resources;

    public SignalStore(IStorageProvider storage, TimeProvider time, ILogger<SignalStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _signals = storage.GetTable(TableName);
        _time = time;
        _resources = new StorageResources(logger ?? (ILogger)NullLogger.Instance, ($"table '{TableName}'", _signals.CreateIfNotExistsAsync));
    }

    public static string SessionKey(string sessionId) => "session-" + SessionKeys.RowKey(sessionId);

    public static string RequestKey(string requestId) => "request-" + SessionKeys.RowKey(requestId);

    public async Task RequestCancelAsync(string owner, string key, CancellationToken cancellationToken = default)
    {
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await _signals.UpsertAsync(
            new StorageEntity(owner, key) { Properties = new Dictionary<string, object?> { ["RequestedAt"] = _time.GetUtcNow(), ["RequestId"] = Guid.NewGuid().ToString("N") } },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The id of the last cancellation requested under <paramref name="key"/>, or null if none. Running work compares
    /// it with the id it saw when it started, so clocks of different instances never have to agree.
    /// </summary>
    public async Task<string?> GetLastRequestAsync(string owner, string key, CancellationToken cancellationToken = default)
    {
        using var activity = SessionDiagnostics.StartStep("signals.read");
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var signal = await _signals.GetAsync(owner, key, cancellationToken).ConfigureAwait(false);
        return signal?.GetString("RequestId");
    }

    /// <summary>Deletes signals older than <paramref name="age"/>; they can no longer concern running work.</summary>
    internal async Task<int> DeleteOlderThanAsync(TimeSpan age, CancellationToken cancellationToken)
    {
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var deleted = 0;
        await foreach (var signal in _signals.QueryAsync(EntityFilter.LessThan("RequestedAt", _time.GetUtcNow() - age), cancellationToken).ConfigureAwait(false))
        {
            if (await _signals.DeleteAsync(signal.PartitionKey, signal.RowKey, ETag.All, cancellationToken).ConfigureAwait(false))
            {
                deleted++;
            }
        }

        return deleted;
    }
}

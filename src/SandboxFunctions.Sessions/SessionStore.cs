using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Sessions;

/// <summary>
/// Durable session state: a record per session in a table and its snapshots in a blob container. Every
/// change is a new snapshot blob followed by a conditional update of the record, so two racing calls can
/// never both win, and a crash between the two writes leaves the previous state intact.
/// </summary>
public sealed class SessionStore
{
    public const string TableName = "sessions";
    public const string ContainerName = "snapshots";

    /// <summary>Per-owner bookkeeping: the creation ticket that keeps the session quota under concurrent creates.</summary>
    public const string OwnersTableName = "owners";

    private const string CreationTicketRow = "session-creations";

    private readonly IEntityTable _records;
    private readonly IEntityTable _owners;
    private readonly IBlobContainer _snapshots;
    private readonly SnapshotProtection _protection;
    private readonly SessionStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ExecutionHistory _history;
    private readonly JobStore _jobs;
    private readonly StorageResources _resources;

    public SessionStore(IStorageProvider storage, SnapshotProtection protection, IOptions<SessionStoreOptions> options, TimeProvider time, ILogger<SessionStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(options);
        _records = storage.GetTable(TableName);
        _owners = storage.GetTable(OwnersTableName);
        _snapshots = storage.GetContainer(ContainerName);
        _protection = protection;
        _options = options.Value;
        _time = time;
        ILogger log = logger ?? NullLogger<SessionStore>.Instance;
        _history = new ExecutionHistory(storage, log);
        _jobs = new JobStore(storage, time, log);
        _resources = new StorageResources(
            log,
            ($"table '{TableName}'", _records.CreateIfNotExistsAsync),
            ($"table '{OwnersTableName}'", _owners.CreateIfNotExistsAsync),
            ($"container '{ContainerName}'", _snapshots.CreateIfNotExistsAsync));
    }

    public SessionStoreOptions Options => _options;

    /// <summary>The session, or null when it does not exist for this owner or has expired.</summary>
    public async Task<SessionRecord?> GetAsync(string owner, string sessionId, CancellationToken cancellationToken = default)
    {
        using var activity = SessionDiagnostics.StartStep("session.read");
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var entity = await _records.GetAsync(owner, SessionKeys.RowKey(sessionId), cancellationToken).ConfigureAwait(false);
        var record = entity is null ? null : ToRecord(entity);
        return record is null || record.IsExpired(_time.GetUtcNow()) ? null : record;
    }

    /// <summary>The owner's live sessions, newest first.</summary>
    public async Task<IReadOnlyList<SessionRecord>> ListAsync(string owner, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var records = new List<SessionRecord>();
        await foreach (var entity in _records.QueryAsync(EntityFilter.Equal("PartitionKey", owner), cancellationToken).ConfigureAwait(false))
        {
            var record = ToRecord(entity);
            if (!record.IsExpired(now))
            {
                records.Add(record);
            }
        }

        return [.. records.OrderByDescending(r => r.CreatedAt)];
    }

    /// <summary>
    /// Adds a new session record if its owner holds fewer than <see cref="SessionStoreOptions.MaxSessionsPerOwner"/> live
    /// sessions (<see cref="SessionLimitException"/> otherwise); <see cref="SessionExistsException"/> when the id is taken.
    /// </summary>
    /// <remarks>
    /// Creates of one owner take turns through a creation ticket, updated with If-Match after the new record is in:
    /// a create counts only after reading the ticket, and whoever moved the ticket first had its record in before
    /// that, so every count includes every create that won. A create that loses the race on the ticket removes its
    /// record and counts again. Racing creates can therefore never take the owner past the limit.
    /// </remarks>
    public async Task<SessionRecord> CreateAsync(SessionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var ticket = await _owners.GetAsync(record.Owner, CreationTicketRow, cancellationToken).ConfigureAwait(false);
            if (await CountAsync(record.Owner, cancellationToken).ConfigureAwait(false) >= _options.MaxSessionsPerOwner)
            {
                throw new SessionLimitException($"The owner already holds {_options.MaxSessionsPerOwner} sessions.") { Limit = _options.MaxSessionsPerOwner };
            }

            var created = await AddRecordAsync(record, cancellationToken).ConfigureAwait(false);
            if (await TryAdvanceTicketAsync(record.Owner, ticket, cancellationToken).ConfigureAwait(false))
            {
                return created;
            }

            await _records.DeleteAsync(created.Owner, SessionKeys.RowKey(created.Id), created.ETag, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task<bool> TryAdvanceTicketAsync(string owner, StorageEntity? ticket, CancellationToken cancellationToken)
    {
        var next = new StorageEntity(owner, CreationTicketRow)
        {
            Properties = new Dictionary<string, object?>
            {
                ["Creations"] = (ticket?.GetInt64("Creations") ?? 0) + 1,
                ["LastCreatedAt"] = _time.GetUtcNow(),
            },
        };
        try
        {
            if (ticket is null)
            {
                await _owners.AddAsync(next, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _owners.UpdateAsync(next, ticket.ETag, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        catch (StorageException ex) when (ex.Kind is StorageErrorKind.Conflict or StorageErrorKind.PreconditionFailed or StorageErrorKind.NotFound)
        {
            return false;
        }
    }

    private async Task<SessionRecord> AddRecordAsync(SessionRecord record, CancellationToken cancellationToken)
    {
        try
        {
            var etag = await _records.AddAsync(ToEntity(record), cancellationToken).ConfigureAwait(false);
            return record with { ETag = etag };
        }
        catch (StorageException ex) when (ex.Kind == StorageErrorKind.Conflict)
        {
            // An expired record still occupies the key until the reaper runs; it may be replaced.
            var existing = await _records.GetAsync(record.Owner, SessionKeys.RowKey(record.Id), cancellationToken).ConfigureAwait(false);
            if (existing is not null && ToRecord(existing).IsExpired(_time.GetUtcNow()))
            {
                await DeleteAsync(ToRecord(existing), cancellationToken).ConfigureAwait(false);
                return await AddRecordAsync(record, cancellationToken).ConfigureAwait(false);
            }

            throw new SessionExistsException($"A session with id '{record.Id}' already exists.", ex);
        }
    }

    /// <summary>
    /// Gives every live session stored under <paramref name="fromOwner"/> to <paramref name="toOwner"/>: the snapshot is
    /// verified, bound to the new owner and written under its name, then the record moves, then its history. True
    /// when none is left behind; a session that a background job holds stays until the job lets go of it.
    /// </summary>
    public async Task<bool> MoveOwnerAsync(string fromOwner, string toOwner, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var complete = true;
        await foreach (var entity in _records.QueryAsync(EntityFilter.Equal("PartitionKey", fromOwner), cancellationToken).ConfigureAwait(false))
        {
            var record = ToRecord(entity);
            if (record.IsExpired(now))
            {
                continue;
            }

            if (record.LeasedTo(now) is not null)
            {
                complete = false;
                continue;
            }

            await MoveSessionAsync(record, toOwner, cancellationToken).ConfigureAwait(false);
        }

        return complete;
    }

    private async Task MoveSessionAsync(SessionRecord record, string toOwner, CancellationToken cancellationToken)
    {
        string? movedBlob = null;
        var moved = record with { Owner = toOwner, SnapshotBlob = null };
        if (record.SnapshotBlob is { } blobName)
        {
            var blob = await _snapshots.DownloadAsync(blobName, cancellationToken).ConfigureAwait(false);
            byte[]? snapshot = null;
            try
            {
                snapshot = blob is null ? null : _protection.Unprotect(blob.Content, record.RuntimeBuildId, new SnapshotBinding(record.Owner, record.Id, record.Version));
            }
            catch (SnapshotIntegrityException)
            {
                // A damaged snapshot stays damaged wherever it is: the session moves and still reports it.
            }

            if (snapshot is null)
            {
                moved = moved with { SnapshotBlob = blobName };
            }
            else
            {
                var envelope = _protection.Protect(snapshot, record.RuntimeBuildId, new SnapshotBinding(toOwner, record.Id, record.Version));
                movedBlob = SessionKeys.SnapshotName(toOwner, record.Id, record.Version);
                await _snapshots.UploadAsync(movedBlob, envelope, blob!.Metadata, ifNoneMatch: ETag.All, cancellationToken: cancellationToken).ConfigureAwait(false);
                moved = moved with { SnapshotBlob = movedBlob, SnapshotBytes = envelope.Length };
            }
        }

        try
        {
            await _records.AddAsync(ToEntity(moved), cancellationToken).ConfigureAwait(false);
        }
        catch (StorageException ex) when (ex.Kind == StorageErrorKind.Conflict)
        {
            // Another instance moved it first; its copy stands.
            if (movedBlob is not null)
            {
                await DeleteBlobQuietlyAsync(movedBlob).ConfigureAwait(false);
            }
        }

        if (await _records.DeleteAsync(record.Owner, SessionKeys.RowKey(record.Id), ETag.All, cancellationToken).ConfigureAwait(false)
            && record.SnapshotBlob is { } old && movedBlob is not null)
        {
            await DeleteBlobQuietlyAsync(old).ConfigureAwait(false);
        }

        await _history.MoveAsync(record.Owner, toOwner, record.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The session's saved snapshot, verified and decrypted; null when the session was never saved.</summary>
    public async Task<byte[]?> LoadSnapshotAsync(SessionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.SnapshotBlob is null)
        {
            return null;
        }

        using var activity = SessionDiagnostics.StartTransfer("load", record);
        var started = Stopwatch.GetTimestamp();
        var blob = await _snapshots.DownloadAsync(record.SnapshotBlob, cancellationToken).ConfigureAwait(false)
            ?? throw new SnapshotIntegrityException($"The snapshot of session '{record.Id}' is missing from storage.");
        var snapshot = _protection.Unprotect(blob.Content, record.RuntimeBuildId, new SnapshotBinding(record.Owner, record.Id, record.Version));
        SessionDiagnostics.RecordTransfer(activity, "load", Stopwatch.GetElapsedTime(started), blob.Content.Length);
        return snapshot;
    }

    /// <summary>
    /// Saves a new state: the snapshot goes to a new blob, then the record is updated only if nobody else
    /// committed since <paramref name="current"/> was read. On a lost race the new blob is removed and
    /// <see cref="SessionConflictException"/> is thrown; the previous state stays as it was.
    /// </summary>
    public async Task<SessionRecord> CommitAsync(SessionRecord current, ReadOnlyMemory<byte> snapshot, SessionChange change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(change);
        using var activity = SessionDiagnostics.StartTransfer("save", current);
        var started = Stopwatch.GetTimestamp();
        var version = current.Version + 1;
        var blobName = SessionKeys.SnapshotName(current.Owner, current.Id, version);
        var envelope = _protection.Protect(snapshot.Span, change.RuntimeBuildId ?? current.RuntimeBuildId, new SnapshotBinding(current.Owner, current.Id, version));
        var upload = _snapshots.UploadAsync(
            blobName,
            envelope,
            new Dictionary<string, string> { ["version"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            ifNoneMatch: ETag.All,
            cancellationToken: cancellationToken);

        var now = _time.GetUtcNow();
        var next = current with
        {
            Version = version,
            SnapshotBlob = blobName,
            SnapshotBytes = envelope.Length,
            LastUsedAt = now,
            ExpiresAt = now + current.Ttl,
            ExecutionCount = current.ExecutionCount + change.Executions,
            MemoryBytes = change.MemoryBytes,
            Files = change.Files,
            RuntimeBuildId = change.RuntimeBuildId ?? current.RuntimeBuildId,

            // A commit ends any job's hold: jobs commit once, when they finish; interactive calls only run unheld.
            ActiveJobId = null,
            JobLeaseUntil = null,
        };

        try
        {
            // The record names the new blob, so it may only change once the blob is stored; the table prepares its
            // write meanwhile.
            var etag = await _records.UpdateAfterAsync(ToEntity(next), current.ETag, upload, cancellationToken).ConfigureAwait(false);
            next = next with { ETag = etag };
        }
        catch (Exception ex)
        {
            // A blob that was not stored may be another commit's, if both raced for this version: not ours to delete.
            if (!await StorageOutcome.SucceededAsync(upload).ConfigureAwait(false))
            {
                throw;
            }

            // The record was not updated, so the new blob is referenced by nothing.
            await DeleteBlobQuietlyAsync(blobName).ConfigureAwait(false);
            if (ex is StorageException { Kind: StorageErrorKind.PreconditionFailed or StorageErrorKind.NotFound } storage)
            {
                throw new SessionConflictException(
                    storage.Kind == StorageErrorKind.NotFound
                        ? "The session was deleted by another call while this one ran, so this call's changes were discarded."
                        : "The session was changed by another call while this one ran, so this call's changes were discarded. Retry the call.",
                    ex);
            }

            throw;
        }

        if (current.SnapshotBlob is { } previous)
        {
            // Nothing references the previous snapshot any more, so the caller need not wait for it to go; a
            // deletion that fails or never runs leaves an orphan for the reaper.
            _ = Task.Run(() => DeleteBlobQuietlyAsync(previous), CancellationToken.None);
        }

        SessionDiagnostics.RecordTransfer(activity, "save", Stopwatch.GetElapsedTime(started), envelope.Length);
        return next;
    }

    /// <summary>
    /// Gives a background job the session until <paramref name="until"/>, if nobody changed it since <paramref name="current"/>
    /// was read (otherwise <see cref="SessionConflictException"/>). Renewing is taking it again with the newer record.
    /// </summary>
    public Task<SessionRecord> LeaseToJobAsync(SessionRecord current, string jobId, DateTimeOffset until, CancellationToken cancellationToken = default) =>
        UpdateLeaseAsync(current, jobId, until, cancellationToken);

    /// <summary>Ends a job's hold without a commit (a job that failed before changing anything).</summary>
    public Task<SessionRecord> ReleaseJobLeaseAsync(SessionRecord current, CancellationToken cancellationToken = default) =>
        UpdateLeaseAsync(current, null, null, cancellationToken);

    private async Task<SessionRecord> UpdateLeaseAsync(SessionRecord current, string? jobId, DateTimeOffset? until, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        // A session a job holds must outlive the hold, or the reaper could take it mid-run.
        var next = current with
        {
            ActiveJobId = jobId,
            JobLeaseUntil = until,
            ExpiresAt = until > current.ExpiresAt ? until.Value + current.Ttl : current.ExpiresAt,
        };
        try
        {
            var etag = await _records.UpdateAsync(ToEntity(next), current.ETag, cancellationToken).ConfigureAwait(false);
            return next with { ETag = etag };
        }
        catch (StorageException ex) when (ex.Kind is StorageErrorKind.PreconditionFailed or StorageErrorKind.NotFound)
        {
            throw new SessionConflictException("The session changed while a background job was taking or releasing it.", ex);
        }
    }

    /// <summary>Removes a session: the record first (so it disappears at once), then its snapshots.</summary>
    public async Task<bool> DeleteAsync(SessionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var deleted = await _records.DeleteAsync(record.Owner, SessionKeys.RowKey(record.Id), ETag.All, cancellationToken).ConfigureAwait(false);
        await DeleteRemainsAsync(record, cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    /// <summary>How many live sessions the owner holds.</summary>
    public async Task<int> CountAsync(string owner, CancellationToken cancellationToken = default) =>
        (await ListAsync(owner, cancellationToken).ConfigureAwait(false)).Count;

    internal async IAsyncEnumerable<SessionRecord> QueryExpiredAsync(DateTimeOffset now, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var entity in _records.QueryAsync(EntityFilter.LessThan("ExpiresAt", now), cancellationToken).ConfigureAwait(false))
        {
            yield return ToRecord(entity);
        }
    }

    internal async Task<bool> DeleteExpiredAsync(SessionRecord record, CancellationToken cancellationToken)
    {
        try
        {
            // Conditional, so a session that was used (and extended) since the query stays.
            if (!await _records.DeleteAsync(record.Owner, SessionKeys.RowKey(record.Id), record.ETag, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }
        catch (StorageException ex) when (ex.Kind == StorageErrorKind.PreconditionFailed)
        {
            return false;
        }

        await DeleteRemainsAsync(record, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Everything a session leaves besides its record: snapshots, history and jobs.</summary>
    private async Task DeleteRemainsAsync(SessionRecord record, CancellationToken cancellationToken)
    {
        await foreach (var blob in _snapshots.ListAsync(SessionKeys.SnapshotPrefix(record.Owner, record.Id), cancellationToken).ConfigureAwait(false))
        {
            await DeleteBlobQuietlyAsync(blob.Name).ConfigureAwait(false);
        }

        await _history.DeleteForSessionAsync(record.Owner, record.Id, cancellationToken).ConfigureAwait(false);
        await _jobs.DeleteForSessionAsync(record.Owner, record.Id, cancellationToken).ConfigureAwait(false);
    }

    internal IAsyncEnumerable<BlobInfo> ListSnapshotBlobsAsync(CancellationToken cancellationToken) => _snapshots.ListAsync(null, cancellationToken);

    internal async Task<SessionRecord?> GetByRowKeyAsync(string owner, string rowKey, CancellationToken cancellationToken)
    {
        var entity = await _records.GetAsync(owner, rowKey, cancellationToken).ConfigureAwait(false);
        return entity is null ? null : ToRecord(entity);
    }

    internal Task<bool> DeleteSnapshotBlobAsync(string name, ETag etag, CancellationToken cancellationToken) =>
        _snapshots.DeleteAsync(name, etag, cancellationToken);

    private Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => _resources.EnsureCreatedAsync(cancellationToken);

    private async Task DeleteBlobQuietlyAsync(string name)
    {
        try
        {
            await _snapshots.DeleteAsync(name, cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
        catch (StorageException)
        {
            // The reaper removes snapshots that no record references.
        }
    }

    private static StorageEntity ToEntity(SessionRecord record) => new(record.Owner, SessionKeys.RowKey(record.Id))
    {
        ETag = record.ETag,
        Properties = new Dictionary<string, object?>
        {
            ["SessionId"] = record.Id,
            ["Language"] = record.Language,
            ["RuntimeBuildId"] = record.RuntimeBuildId,
            ["Flavor"] = record.Flavor,
            ["CreatedAt"] = record.CreatedAt,
            ["LastUsedAt"] = record.LastUsedAt,
            ["ExpiresAt"] = record.ExpiresAt,
            ["TtlSeconds"] = (long)record.Ttl.TotalSeconds,
            ["Version"] = record.Version,
            ["SnapshotBlob"] = record.SnapshotBlob,
            ["SnapshotBytes"] = record.SnapshotBytes,
            ["ExecutionCount"] = record.ExecutionCount,
            ["MemoryBytes"] = record.MemoryBytes,
            ["Files"] = SerializeFiles(record.Files),
            ["ActiveJobId"] = record.ActiveJobId,
            ["JobLeaseUntil"] = record.JobLeaseUntil,
        },
    };

    // A table property holds at most 32K characters; a long file list is cut to what fits.
    private static string SerializeFiles(IReadOnlyList<SessionFile> files)
    {
        const int MaxCharacters = 30_000;
        var kept = files;
        var json = JsonSerializer.Serialize(kept, SessionJson.Default.IReadOnlyListSessionFile);
        while (json.Length > MaxCharacters && kept.Count > 0)
        {
            kept = [.. kept.Take(kept.Count * MaxCharacters / json.Length)];
            json = JsonSerializer.Serialize(kept, SessionJson.Default.IReadOnlyListSessionFile);
        }

        return json;
    }

    private static SessionRecord ToRecord(StorageEntity entity) => new()
    {
        Owner = entity.PartitionKey,
        Id = entity.GetString("SessionId") ?? SessionKeys.SessionId(entity.RowKey),
        Language = entity.GetString("Language") ?? string.Empty,
        RuntimeBuildId = entity.GetString("RuntimeBuildId") ?? string.Empty,
        Flavor = entity.GetString("Flavor") ?? string.Empty,
        CreatedAt = entity.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        LastUsedAt = entity.GetDateTimeOffset("LastUsedAt") ?? DateTimeOffset.MinValue,
        ExpiresAt = entity.GetDateTimeOffset("ExpiresAt") ?? DateTimeOffset.MinValue,
        Ttl = TimeSpan.FromSeconds(entity.GetInt64("TtlSeconds") ?? 0),
        Version = entity.GetInt64("Version") ?? 0,
        SnapshotBlob = entity.GetString("SnapshotBlob"),
        SnapshotBytes = entity.GetInt64("SnapshotBytes") ?? 0,
        ExecutionCount = entity.GetInt64("ExecutionCount") ?? 0,
        MemoryBytes = entity.GetInt64("MemoryBytes") ?? 0,
        Files = entity.GetString("Files") is { } files ? JsonSerializer.Deserialize(files, SessionJson.Default.IReadOnlyListSessionFile) ?? [] : [],
        ActiveJobId = entity.GetString("ActiveJobId"),
        JobLeaseUntil = entity.GetDateTimeOffset("JobLeaseUntil"),
        ETag = entity.ETag,
    };
}

/// <summary>What a commit changes besides the snapshot.</summary>
/// <param name="Executions">How many executions the change includes (0 for file edits).</param>
/// <param name="MemoryBytes">The guest's memory after the change.</param>
/// <param name="Files">The workspace's files after the change.</param>
/// <param name="RuntimeBuildId">The runtime build of the new snapshot, when it differs (after a reset to a newer build).</param>
public sealed record SessionChange(long Executions, long MemoryBytes, IReadOnlyList<SessionFile> Files, string? RuntimeBuildId = null);

[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyList<SessionFile>))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class SessionJson : System.Text.Json.Serialization.JsonSerializerContext;

using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sessions;
using SandboxFunctions.Sessions.Storage;
using SandboxFunctions.Tools.Data;
using SandboxFunctions.Tools.Diagnostics;

namespace SandboxFunctions.Tools;

/// <summary>
/// Sessions as the tools use them: a session record and snapshot in storage, and on this instance maybe a
/// warm sandbox. Every operation that changes a session loads it (warm or restored), changes it, and
/// commits a new snapshot conditionally, so concurrent calls from any instance never lose an update.
/// </summary>
public sealed partial class SandboxSessions(
    RuntimeCatalog runtimes,
    SessionStore store,
    WarmSandboxCache cache,
    IOptions<FlavorOptions> flavors,
    DataVolumes dataVolumes,
    TimeProvider time,
    ILogger<SandboxSessions> logger)
{
    private const int MinTtlSeconds = 60;

    /// <summary>
    /// Sessions a call on this instance is using. A second call is refused rather than queued, so a set is the
    /// whole lock, and it holds only sessions in use: nothing accumulates for sessions that expire or never existed.
    /// </summary>
    private readonly HashSet<(string Owner, string SessionId)> _inUse = [];

    public IReadOnlyDictionary<string, FlavorSettings> Flavors => flavors.Value.Flavors;

    public SessionStoreOptions Options => store.Options;

    public async Task<SessionRecord> CreateAsync(string owner, string language, string? sessionId, string? flavor, int? ttlSeconds, CancellationToken cancellationToken)
    {
        var runtime = GetRuntime(language);
        var flavorName = flavor ?? FlavorOptions.DefaultFlavor;
        _ = GetFlavor(flavorName);
        var ttl = ttlSeconds is { } seconds
            ? (seconds >= MinTtlSeconds && seconds <= store.Options.MaxTtl.TotalSeconds ? TimeSpan.FromSeconds(seconds) : throw ToolErrors.InvalidTtl(seconds, store.Options.MaxTtl))
            : store.Options.DefaultTtl;
        var id = sessionId is null ? NewSessionId() : ValidateSessionId(sessionId);

        var now = time.GetUtcNow();
        var record = new SessionRecord
        {
            Owner = owner,
            Id = id,
            Language = runtime.Info.Language,
            RuntimeBuildId = runtime.Info.BuildId,
            Flavor = flavorName.ToLowerInvariant(),
            CreatedAt = now,
            LastUsedAt = now,
            ExpiresAt = now + ttl,
            Ttl = ttl,
        };

        try
        {
            return await Guard(() => store.CreateAsync(record, cancellationToken)).ConfigureAwait(false);
        }
        catch (SessionExistsException)
        {
            throw ToolErrors.SessionExists(id);
        }
        catch (SessionLimitException ex)
        {
            throw ToolErrors.SessionLimit(ex.Limit);
        }
    }

    public async Task<SessionRecord> GetAsync(string owner, string sessionId, CancellationToken cancellationToken) =>
        await Guard(() => store.GetAsync(owner, sessionId, cancellationToken)).ConfigureAwait(false) ?? throw ToolErrors.SessionNotFound(sessionId);

    public Task<IReadOnlyList<SessionRecord>> ListAsync(string owner, CancellationToken cancellationToken) =>
        Guard(() => store.ListAsync(owner, cancellationToken));

    public FlavorSettings GetFlavor(string flavor) =>
        flavors.Value.Flavors.TryGetValue(flavor, out var settings) ? settings : throw ToolErrors.UnknownFlavor(flavor, flavors.Value.Flavors.Keys);

    public IGuestRuntime GetRuntime(string language) =>
        runtimes.TryGet(language, out var runtime) ? runtime : throw ToolErrors.UnsupportedLanguage(language, runtimes.Runtimes.Select(r => r.Language));

    /// <summary>The timeout a call asked for, checked against the maximum of its session's flavor, or that flavor's default.</summary>
    public TimeSpan TimeoutFor(SessionRecord record, double? requestedSeconds)
    {
        ArgumentNullException.ThrowIfNull(record);
        var flavor = GetFlavor(record.Flavor);
        return requestedSeconds is { } seconds
            ? (seconds > 0 && seconds <= flavor.MaxTimeoutSeconds ? TimeSpan.FromSeconds(seconds) : throw ToolErrors.InvalidTimeout(seconds, flavor.MaxTimeoutSeconds))
            : TimeSpan.FromSeconds(flavor.DefaultTimeoutSeconds);
    }

    /// <summary>
    /// Runs an operation on the session's live sandbox and commits the state it leaves when <paramref name="operation"/> asks to.
    /// A session a background job holds runs only that job; everything else is refused as busy. A job passes
    /// <paramref name="hold"/> to take the session for itself first. <paramref name="admit"/> sees the record before the
    /// sandbox is loaded and throws to refuse the call, so a call checked against its session costs no extra read.
    /// </summary>
    public async Task<SessionOutcome<T>> UseAsync<T>(
        string owner,
        string sessionId,
        Func<SessionRecord, SandboxInstance, Task<SessionStep<T>>> operation,
        CancellationToken cancellationToken,
        JobHold? hold = null,
        Action<SessionRecord>? admit = null)
    {
        var jobId = hold?.JobId;
        var key = (owner, sessionId);
        bool entered;
        lock (_inUse)
        {
            entered = _inUse.Add(key);
        }

        if (!entered)
        {
            // Only the refusal needs the record, to say whether a job holds the session.
            var current = await GetAsync(owner, sessionId, cancellationToken).ConfigureAwait(false);
            throw current.LeasedTo(time.GetUtcNow()) is { } holder && holder != jobId
                ? ToolErrors.SessionHeldByJob(sessionId, holder)
                : ToolErrors.SessionBusy(sessionId);
        }

        try
        {
            // Read once the session is ours, so the record is the one the previous call on this instance committed.
            var record = await GetAsync(owner, sessionId, cancellationToken).ConfigureAwait(false);

            if (record.LeasedTo(time.GetUtcNow()) is { } holder && holder != jobId)
            {
                throw ToolErrors.SessionHeldByJob(sessionId, holder);
            }

            admit?.Invoke(record);
            if (hold is not null)
            {
                record = await HoldAsync(record, hold).ConfigureAwait(false);
            }

            var sandbox = await LoadAsync(record, cancellationToken).ConfigureAwait(false);
            await sandbox.RefreshDataVolumesAsync(cancellationToken).ConfigureAwait(false);
            SessionStep<T> step;
            try
            {
                step = await operation(record, sandbox).ConfigureAwait(false);
            }
            catch
            {
                // The operation may have changed the sandbox before failing; only saved state is trusted.
                await sandbox.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            if (step.Discard)
            {
                await sandbox.DisposeAsync().ConfigureAwait(false);
                return new SessionOutcome<T>(record, step.Value, Saved: false);
            }

            if (!step.Commit)
            {
                await cache.PutAsync(owner, record.Id, record.Version, sandbox).ConfigureAwait(false);
                return new SessionOutcome<T>(record, step.Value, Saved: true);
            }

            if (jobId is not null)
            {
                // The job renewed its hold while it ran, which changed the record; commit over the latest one.
                record = await GetAsync(owner, sessionId, CancellationToken.None).ConfigureAwait(false);
                if (record.ActiveJobId != jobId)
                {
                    await sandbox.DisposeAsync().ConfigureAwait(false);
                    throw ToolErrors.SessionConflict($"Session '{sessionId}' was taken from job {jobId} while it ran; its result was not saved.");
                }
            }

            return await CommitAsync(record, sandbox, step).ConfigureAwait(false);
        }
        finally
        {
            lock (_inUse)
            {
                _inUse.Remove(key);
            }
        }
    }

    /// <summary>Renews a job's hold on its session; false when the job no longer holds it.</summary>
    public async Task<bool> RenewHoldAsync(string owner, string sessionId, JobHold hold)
    {
        var record = await Guard(() => store.GetAsync(owner, sessionId, CancellationToken.None)).ConfigureAwait(false);
        if (record?.ActiveJobId != hold.JobId)
        {
            return false;
        }

        await HoldAsync(record, hold).ConfigureAwait(false);
        return true;
    }

    /// <summary>Ends a job's hold on its session without a commit, if it still holds it.</summary>
    public async Task ReleaseHoldAsync(string owner, string sessionId, string jobId)
    {
        var record = await Guard(() => store.GetAsync(owner, sessionId, CancellationToken.None)).ConfigureAwait(false);
        if (record?.ActiveJobId == jobId)
        {
            try
            {
                await Guard(() => store.ReleaseJobLeaseAsync(record, CancellationToken.None)).ConfigureAwait(false);
            }
            catch (SessionConflictException)
            {
                // Changed meanwhile, so no longer this job's to release.
            }
        }
    }

    private async Task<SessionRecord> HoldAsync(SessionRecord record, JobHold hold)
    {
        try
        {
            return await Guard(() => store.LeaseToJobAsync(record, hold.JobId, time.GetUtcNow() + hold.Duration, CancellationToken.None)).ConfigureAwait(false);
        }
        catch (SessionConflictException ex)
        {
            throw ToolErrors.SessionConflict(ex.Message);
        }
    }

    /// <summary>Starts the session over on the current runtime build: fresh interpreter, empty workspace, same id.</summary>
    public async Task<SessionRecord> ResetAsync(string owner, string sessionId, CancellationToken cancellationToken)
    {
        var record = await GetAsync(owner, sessionId, cancellationToken).ConfigureAwait(false);
        if (record.LeasedTo(time.GetUtcNow()) is { } holder)
        {
            throw ToolErrors.SessionHeldByJob(sessionId, holder);
        }

        var runtime = GetRuntime(record.Language);
        await cache.RemoveAsync(owner, record.Id).ConfigureAwait(false);
        await using var fresh = await CreateSandboxAsync(runtime, record.Flavor, cancellationToken).ConfigureAwait(false);
        var snapshot = await fresh.CaptureSnapshotAsync(cancellationToken).ConfigureAwait(false);
        return await CommitSnapshotAsync(record, snapshot, new SessionChange(0, fresh.MemoryBytes, [], runtime.Info.BuildId)).ConfigureAwait(false);
    }

    public async Task DestroyAsync(string owner, string sessionId, CancellationToken cancellationToken)
    {
        var record = await GetAsync(owner, sessionId, cancellationToken).ConfigureAwait(false);
        await cache.RemoveAsync(owner, record.Id).ConfigureAwait(false);
        await Guard(() => store.DeleteAsync(record, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>A new session holding a copy of the whole state of another: interpreter memory and files.</summary>
    public async Task<SessionRecord> ForkAsync(string owner, string sessionId, string? newSessionId, CancellationToken cancellationToken)
    {
        var source = await UseAsync(owner, sessionId, async (_, sandbox) =>
            new SessionStep<(byte[] Snapshot, long Memory, IReadOnlyList<SessionFile> Files)>(
                (await sandbox.CaptureSnapshotAsync(cancellationToken).ConfigureAwait(false), sandbox.MemoryBytes, await ListFilesAsync(sandbox, cancellationToken).ConfigureAwait(false)),
                Commit: false),
            cancellationToken).ConfigureAwait(false);

        var fork = await CreateAsync(owner, source.Record.Language, newSessionId, source.Record.Flavor, (int)source.Record.Ttl.TotalSeconds, cancellationToken).ConfigureAwait(false);
        var (snapshot, memory, files) = source.Value;
        return await CommitSnapshotAsync(fork, snapshot, new SessionChange(0, memory, files, source.Record.RuntimeBuildId)).ConfigureAwait(false);
    }

    public static async Task<IReadOnlyList<SessionFile>> ListFilesAsync(SandboxInstance sandbox, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var entries = await sandbox.Workspace.ListAsync(recursive: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. entries.Where(e => !e.IsDirectory).Select(e => new SessionFile(e.Path, e.Size))];
    }

    public SandboxLimits LimitsOf(string flavor) => GetFlavor(flavor).ToLimits() with { DataVolumes = dataVolumes.For(flavor) };

    private async Task<SandboxInstance> LoadAsync(SessionRecord record, CancellationToken cancellationToken)
    {
        using var activity = ToolDiagnostics.StartLoad(record.Language, record.Flavor);
        var started = Stopwatch.GetTimestamp();
        var (sandbox, source) = await LoadFromAsync(record, cancellationToken).ConfigureAwait(false);
        ToolDiagnostics.RecordLoad(activity, record.Language, source, Stopwatch.GetElapsedTime(started));
        return sandbox;
    }

    private async Task<(SandboxInstance Sandbox, string Source)> LoadFromAsync(SessionRecord record, CancellationToken cancellationToken)
    {
        if (await cache.TakeAsync(record.Owner, record.Id, record.Version).ConfigureAwait(false) is { } warm)
        {
            return (warm, "warm");
        }

        var runtime = GetRuntime(record.Language);
        if (record.SnapshotBlob is null)
        {
            return (await CreateSandboxAsync(runtime, record.Flavor, cancellationToken).ConfigureAwait(false), "new");
        }

        if (record.RuntimeBuildId != runtime.Info.BuildId)
        {
            throw ToolErrors.RuntimeChanged(record.Id);
        }

        byte[] snapshot;
        try
        {
            snapshot = await Guard(() => store.LoadSnapshotAsync(record, cancellationToken)).ConfigureAwait(false) ?? [];
        }
        catch (SnapshotIntegrityException ex)
        {
            LogSnapshotRefused(logger, record.Id, ex.Message);
            throw ToolErrors.SnapshotInvalid(record.Id, ex.Message);
        }

        try
        {
            return (await runtime.RestoreAsync(snapshot, LimitsOf(record.Flavor), cancellationToken).ConfigureAwait(false), "snapshot");
        }
        catch (SandboxException ex) when (ex.Kind is SandboxErrorKind.SnapshotFromOtherBuild or SandboxErrorKind.SnapshotInvalid or SandboxErrorKind.MemoryLimitTooSmall)
        {
            LogSnapshotRefused(logger, record.Id, ex.Message);
            throw ToolErrors.SnapshotInvalid(record.Id, ex.Message);
        }
    }

    private async Task<SandboxInstance> CreateSandboxAsync(IGuestRuntime runtime, string flavor, CancellationToken cancellationToken)
    {
        try
        {
            return await runtime.CreateAsync(LimitsOf(flavor), cancellationToken).ConfigureAwait(false);
        }
        catch (SandboxException ex) when (ex.Kind == SandboxErrorKind.Busy)
        {
            throw ToolErrors.ServerBusy(ex.Message);
        }
    }

    private async Task<SessionOutcome<T>> CommitAsync<T>(SessionRecord record, SandboxInstance sandbox, SessionStep<T> step)
    {
        // The state is saved even if the caller went away: the sandbox already holds it.
        byte[] snapshot;
        IReadOnlyList<SessionFile> files;
        try
        {
            using var activity = ToolDiagnostics.StartStep("session.capture");
            snapshot = await sandbox.CaptureSnapshotAsync(CancellationToken.None).ConfigureAwait(false);
            files = await ListFilesAsync(sandbox, CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            await sandbox.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        try
        {
            var committed = await CommitSnapshotAsync(record, snapshot, new SessionChange(step.Executions, sandbox.MemoryBytes, files)).ConfigureAwait(false);
            await cache.PutAsync(record.Owner, record.Id, committed.Version, sandbox).ConfigureAwait(false);
            return new SessionOutcome<T>(committed, step.Value, Saved: true);
        }
        catch (ToolFailureException failure) when (failure.Error.Code == "STORAGE_UNAVAILABLE")
        {
            // This sandbox is ahead of what storage holds, so it must not be used again.
            await sandbox.DisposeAsync().ConfigureAwait(false);
            return new SessionOutcome<T>(record, step.Value, Saved: false, failure.Error);
        }
        catch
        {
            await sandbox.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<SessionRecord> CommitSnapshotAsync(SessionRecord record, byte[] snapshot, SessionChange change)
    {
        try
        {
            return await Guard(() => store.CommitAsync(record, snapshot, change, CancellationToken.None)).ConfigureAwait(false);
        }
        catch (SessionConflictException ex)
        {
            await cache.RemoveAsync(record.Owner, record.Id).ConfigureAwait(false);
            throw ToolErrors.SessionConflict(ex.Message);
        }
    }

    /// <summary>Turns storage failures into the error callers see; nothing about the store's location or keys leaks.</summary>
    internal async Task<T> Guard<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (StorageException ex) when (ex.Kind is not (StorageErrorKind.Conflict or StorageErrorKind.PreconditionFailed))
        {
            LogStorageFailure(logger, ex.Kind, ex.Status, ex.ErrorCode);
            throw ToolErrors.StorageUnavailable(ex.Kind == StorageErrorKind.Unauthorized
                ? "The server cannot access its session storage (access denied); the state of the session was not changed."
                : "The server's session storage did not respond; the state of the session was not changed.");
        }
    }

    private static string NewSessionId() => "s-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private static string ValidateSessionId(string sessionId) =>
        sessionId.Length is >= 4 and <= 128 && sessionId.All(c => c is > ' ' and < (char)127)
            ? sessionId
            : throw ToolErrors.InvalidSessionId(sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The snapshot of session {SessionId} was refused: {Reason}")]
    private static partial void LogSnapshotRefused(ILogger logger, string sessionId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session storage failed ({Kind}, status {Status}, code {ErrorCode}).")]
    private static partial void LogStorageFailure(ILogger logger, StorageErrorKind kind, int? status, string? errorCode);
}

/// <summary>A background job's claim on a session: no other call runs on it until the job commits or the hold lapses.</summary>
public sealed record JobHold(string JobId, TimeSpan Duration);

/// <summary>What an operation on a session produced, and whether the state it left should be saved.</summary>
/// <param name="Executions">How many code executions the step ran (for the session's counter).</param>
/// <param name="Discard">Throw the sandbox away: the session keeps its last saved state (e.g. after a cancelled execution).</param>
public sealed record SessionStep<T>(T Value, bool Commit, long Executions = 0, bool Discard = false);

/// <summary>The session after an operation, the operation's value, and whether its state was saved.</summary>
public sealed record SessionOutcome<T>(SessionRecord Record, T Value, bool Saved, ToolError? SaveError = null);

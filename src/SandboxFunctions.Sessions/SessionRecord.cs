using Azure;

namespace SandboxFunctions.Sessions;

/// <summary>
/// What is stored about a session besides its snapshot. Sessions are keyed by owner first, so a caller
/// can only ever address its own.
/// </summary>
public sealed record SessionRecord
{
    public required string Owner { get; init; }

    public required string Id { get; init; }

    public required string Language { get; init; }

    /// <summary>The runtime build the snapshot was taken with; a different build cannot load it.</summary>
    public required string RuntimeBuildId { get; init; }

    public required string Flavor { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset LastUsedAt { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>Idle time after which the session expires; every use pushes <see cref="ExpiresAt"/> out by this much.</summary>
    public required TimeSpan Ttl { get; init; }

    /// <summary>Counts committed changes; the snapshot blob of version N is the state after N changes.</summary>
    public long Version { get; init; }

    /// <summary>The blob holding the snapshot of <see cref="Version"/>, or null while the session has never been saved.</summary>
    public string? SnapshotBlob { get; init; }

    public long SnapshotBytes { get; init; }

    public long ExecutionCount { get; init; }

    public long MemoryBytes { get; init; }

    /// <summary>The workspace's files and sizes at the last commit, so they can be listed without loading the session.</summary>
    public IReadOnlyList<SessionFile> Files { get; init; } = [];

    /// <summary>The background job that holds the session, if any; interactive calls wait while its lease lasts.</summary>
    public string? ActiveJobId { get; init; }

    public DateTimeOffset? JobLeaseUntil { get; init; }

    /// <summary>The record's version in the store, for conditional updates.</summary>
    public ETag ETag { get; init; }

    public bool IsExpired(DateTimeOffset now) => ExpiresAt <= now;

    /// <summary>The job whose lease on the session is still running at <paramref name="now"/>, if any.</summary>
    public string? LeasedTo(DateTimeOffset now) => ActiveJobId is not null && JobLeaseUntil > now ? ActiveJobId : null;
}

public sealed record SessionFile(string Path, long Size);

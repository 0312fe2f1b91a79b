using Microsoft.Extensions.Logging;

namespace SandboxFunctions.Sessions;

/// <summary>
/// Deletes expired sessions and snapshots that no session references. Every deletion is conditional or
/// idempotent, so any number of instances may reap at once.
/// </summary>
public sealed partial class SessionReaper(SessionStore store, SignalStore signals, TimeProvider time, ILogger<SessionReaper> logger)
{
    public async Task<ReapResult> ReapAsync(CancellationToken cancellationToken = default)
    {
        using var activity = SessionDiagnostics.Source.StartActivity("session.reap");
        var now = time.GetUtcNow();
        var expired = 0;
        await foreach (var record in store.QueryExpiredAsync(now, cancellationToken).ConfigureAwait(false))
        {
            if (await store.DeleteExpiredAsync(record, cancellationToken).ConfigureAwait(false))
            {
                expired++;
            }
        }

        var orphans = 0;
        var referenced = new Dictionary<(string Owner, string RowKey), string?>();
        await foreach (var blob in store.ListSnapshotBlobsAsync(cancellationToken).ConfigureAwait(false))
        {
            // A snapshot younger than the grace period may belong to a commit still in flight.
            if (now - blob.LastModified < store.Options.OrphanGracePeriod || !SessionKeys.TryParseSnapshotName(blob.Name, out var owner, out var rowKey))
            {
                continue;
            }

            if (!referenced.TryGetValue((owner, rowKey), out var current))
            {
                current = (await store.GetByRowKeyAsync(owner, rowKey, cancellationToken).ConfigureAwait(false))?.SnapshotBlob;
                referenced[(owner, rowKey)] = current;
            }

            if (current != blob.Name && await store.DeleteSnapshotBlobAsync(blob.Name, blob.ETag, cancellationToken).ConfigureAwait(false))
            {
                orphans++;
            }
        }

        // Cancellation requests only matter while the work they name runs, which is never longer than a job.
        await signals.DeleteOlderThanAsync(TimeSpan.FromDays(1), cancellationToken).ConfigureAwait(false);

        var result = new ReapResult(expired, orphans);
        activity?.SetTag("sandbox.reaped.sessions", expired);
        activity?.SetTag("sandbox.reaped.snapshots", orphans);
        SessionDiagnostics.RecordReaped(result);
        LogReaped(logger, expired, orphans);
        return result;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reaped {Expired} expired sessions and {Orphans} unreferenced snapshots.")]
    private static partial void LogReaped(ILogger logger, int expired, int orphans);
}

public sealed record ReapResult(int ExpiredSessions, int OrphanedSnapshots);

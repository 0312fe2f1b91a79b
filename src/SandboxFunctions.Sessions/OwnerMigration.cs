using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SandboxFunctions.Sessions;

/// <summary>
/// Moves the sessions a caller created under its legacy owner id to its current one, the first time this
/// process sees the caller. A move that could not finish (storage down, a session held by a job) is tried again
/// on the caller's next request; one that finished is never looked for again in this process.
/// </summary>
public sealed partial class OwnerMigration(SessionStore store, ILogger<OwnerMigration> logger)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<bool>>> _moves = new(StringComparer.Ordinal);

    public async Task EnsureMovedAsync(string legacyOwner, string owner, CancellationToken cancellationToken = default)
    {
        var move = _moves.GetOrAdd(owner, _ => new Lazy<Task<bool>>(() => MoveAsync(legacyOwner, owner)));
        try
        {
            if (!await move.Value.WaitAsync(cancellationToken).ConfigureAwait(false))
            {
                _moves.TryRemove(new KeyValuePair<string, Lazy<Task<bool>>>(owner, move));
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _moves.TryRemove(new KeyValuePair<string, Lazy<Task<bool>>>(owner, move));
        }
    }

    private async Task<bool> MoveAsync(string legacyOwner, string owner)
    {
        try
        {
            return await store.MoveOwnerAsync(legacyOwner, owner, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Storage.StorageException ex)
        {
            LogMoveFailed(logger, ex.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Moving a caller's sessions from its legacy owner id failed ({Reason}); the caller's next request tries again.")]
    private static partial void LogMoveFailed(ILogger logger, string reason);
}

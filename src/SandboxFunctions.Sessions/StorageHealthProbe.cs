using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Sessions;

/// <summary>
/// Checks that the session store answers: a read of a key that never exists must come back empty, within a few
/// seconds. Health answers quickly even when storage does not, instead of waiting out the clients' retries.
/// </summary>
internal sealed class StorageHealthProbe(IStorageProvider storage) : IStorageHealthProbe
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(3);

    public async Task<StorageStatus> CheckAsync(CancellationToken cancellationToken = default)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(Patience);
        try
        {
            var table = storage.GetTable(SessionStore.TableName);
            await table.CreateIfNotExistsAsync(bounded.Token).ConfigureAwait(false);
            await table.GetAsync("health", "probe", bounded.Token).ConfigureAwait(false);
            return new StorageStatus(storage.Kind, Reachable: true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new StorageStatus(storage.Kind, Reachable: false, $"no answer within {Patience.TotalSeconds:0} s");
        }
        catch (StorageException ex)
        {
            return new StorageStatus(storage.Kind, Reachable: false, ex.Kind.ToString());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Health reports what is wrong instead of failing itself.
            return new StorageStatus(storage.Kind, Reachable: false, ex.GetType().Name);
        }
    }
}

using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Sessions;

/// <summary>Checks that the session store answers: a read of a key that never exists must come back empty.</summary>
internal sealed class StorageHealthProbe(IStorageProvider storage) : IStorageHealthProbe
{
    public async Task<StorageStatus> CheckAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var table = storage.GetTable(SessionStore.TableName);
            await table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            await table.GetAsync("health", "probe", cancellationToken).ConfigureAwait(false);
            return new StorageStatus(storage.Kind, Reachable: true);
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

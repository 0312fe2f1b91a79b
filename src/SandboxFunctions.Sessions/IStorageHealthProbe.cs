namespace SandboxFunctions.Sessions;

public interface IStorageHealthProbe
{
    Task<StorageStatus> CheckAsync(CancellationToken cancellationToken = default);
}

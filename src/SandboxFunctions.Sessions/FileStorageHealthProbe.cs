using Microsoft.Extensions.Options;

namespace SandboxFunctions.Sessions;

/// <summary>Checks that the embedded store's folder exists and accepts writes.</summary>
internal sealed class FileStorageHealthProbe(IOptions<SessionStorageOptions> options) : IStorageHealthProbe
{
    public async Task<StorageStatus> CheckAsync(CancellationToken cancellationToken = default)
    {
        var probePath = Path.Combine(Path.GetFullPath(options.Value.DataPath), $".probe-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(probePath)!);
            await File.WriteAllBytesAsync(probePath, [1], cancellationToken).ConfigureAwait(false);
            File.Delete(probePath);
            return new StorageStatus("file", Reachable: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new StorageStatus("file", Reachable: false, ex.GetType().Name);
        }
    }
}

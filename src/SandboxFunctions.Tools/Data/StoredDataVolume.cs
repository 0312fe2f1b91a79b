using SandboxFunctions.Sandbox.Data;
using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Tools.Data;

/// <summary>
/// A data volume whose files are blobs in a container (under a prefix), or files in a folder on this machine. The
/// engine calls it on a guest thread, which waits for storage here: those threads are the guest's own, not the
/// thread pool's.
/// </summary>
internal sealed class StoredDataVolume(string name, DataVolumeSettings settings, IStorageProvider storage, DataFileCache cache) : IDataVolume
{
    /// <summary>How long one listing or download may take before the code gets an error instead.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly IBlobContainer? _container = string.IsNullOrWhiteSpace(settings.Path) ? storage.GetContainer(settings.Container!) : null;
    private readonly string _prefix = settings.Prefix ?? string.Empty;

    public string Name { get; } = name;

    public long MaxBytesPerCall { get; } = settings.MaxBytesPerCall;

    /// <summary>Where the files come from, for messages and listings.</summary>
    public string Source => _container is null ? $"folder {settings.Path}" : $"container '{_container.Name}'{(_prefix.Length > 0 ? $" under '{_prefix}'" : string.Empty)}";

    public IReadOnlyList<DataFile> List(CancellationToken cancellationToken) =>
        Wait(token => ListAsync(token), cancellationToken);

    public ReadOnlyMemory<byte> Read(DataFile file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (cache.TryGet(Name, file.Path, file.Version, out var cached))
        {
            return cached;
        }

        var content = Wait(token => ReadAsync(file, token), cancellationToken);
        cache.Add(Name, file.Path, file.Version, content);
        return content;
    }

    public async Task<IReadOnlyList<DataFile>> ListAsync(CancellationToken cancellationToken)
    {
        if (_container is null)
        {
            var root = settings.Path!;
            if (!Directory.Exists(root))
            {
                throw new DataVolumeException($"its folder {root} does not exist; create it or fix Volumes:{Name}:Path");
            }

            return [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(path =>
            {
                var info = new FileInfo(path);
                var relative = System.IO.Path.GetRelativePath(root, path).Replace('\\', '/');
                return new DataFile(relative, info.Length, $"{info.LastWriteTimeUtc.Ticks}-{info.Length}", info.LastWriteTimeUtc);
            })];
        }

        var files = new List<DataFile>();
        try
        {
            await foreach (var blob in _container.ListAsync(_prefix.Length > 0 ? _prefix : null, cancellationToken).ConfigureAwait(false))
            {
                files.Add(new DataFile(blob.Name[_prefix.Length..], blob.Size, blob.ETag.ToString(), blob.LastModified));
            }
        }
        catch (StorageException ex)
        {
            throw new DataVolumeException(ex.Kind == StorageErrorKind.NotFound
                ? $"its {Source} does not exist on the session storage account; create it or fix Volumes:{Name}:Container"
                : $"its {Source} could not be listed ({ex.Kind})", ex);
        }

        return files;
    }

    private async Task<ReadOnlyMemory<byte>> ReadAsync(DataFile file, CancellationToken cancellationToken)
    {
        if (_container is null)
        {
            try
            {
                return await File.ReadAllBytesAsync(System.IO.Path.Combine(settings.Path!, file.Path), cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new DataVolumeException($"it could not be read from the volume's folder ({ex.GetType().Name})", ex);
            }
        }

        try
        {
            var blob = await _container.DownloadAsync(_prefix + file.Path, cancellationToken).ConfigureAwait(false)
                ?? throw new DataVolumeException("it was removed from the volume after it was listed");
            return blob.Content;
        }
        catch (StorageException ex)
        {
            throw new DataVolumeException($"it could not be downloaded from the {Source} ({ex.Kind})", ex);
        }
    }

    private static T Wait<T>(Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        try
        {
            return operation(deadline.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new DataVolumeException($"storage did not answer within {Timeout.TotalSeconds:0} s", ex);
        }
    }
}

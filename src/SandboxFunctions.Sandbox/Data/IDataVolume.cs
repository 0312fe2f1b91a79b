namespace SandboxFunctions.Sandbox.Data;

/// <summary>
/// Shared read-only files that every sandbox allowed to see it finds under <c>/data/&lt;name&gt;</c>. The engine asks for the
/// listing when a call first looks inside the volume and for a file's bytes when code first opens it; where the
/// files live and how they are cached is the implementation's business. Both are called on a guest thread while
/// the guest waits.
/// </summary>
public interface IDataVolume
{
    /// <summary>The folder name under /data.</summary>
    string Name { get; }

    /// <summary>The most bytes code may open from this volume in one call.</summary>
    long MaxBytesPerCall { get; }

    /// <summary>Every file of the volume as it is now; throws <see cref="DataVolumeException"/> when it cannot be listed.</summary>
    IReadOnlyList<DataFile> List(CancellationToken cancellationToken);

    /// <summary>The bytes of a listed file; throws <see cref="DataVolumeException"/> when they cannot be had.</summary>
    ReadOnlyMemory<byte> Read(DataFile file, CancellationToken cancellationToken);
}

/// <summary>A file of a data volume.</summary>
/// <param name="Path">Its path inside the volume, with '/' between folders.</param>
/// <param name="Size">Its length in bytes.</param>
/// <param name="Version">Changes whenever its content does (a blob's ETag), so cached bytes are known to be current.</param>
/// <param name="LastModified">When it last changed.</param>
public sealed record DataFile(string Path, long Size, string Version, DateTimeOffset LastModified);

/// <summary>A data volume could not be listed or read; the message says why, for the caller.</summary>
public sealed class DataVolumeException : Exception
{
    public DataVolumeException()
    {
    }

    public DataVolumeException(string message)
        : base(message)
    {
    }

    public DataVolumeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

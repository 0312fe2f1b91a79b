using Azure;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>A container of binary blobs, with conditional writes.</summary>
public interface IBlobContainer
{
    string Name { get; }

    Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a blob whole. With <paramref name="ifNoneMatch"/> = <see cref="ETag.All"/> it only creates; with
    /// <paramref name="ifMatch"/> it only replaces that version. A failed condition throws <see cref="StorageErrorKind.PreconditionFailed"/>.
    /// </summary>
    Task<ETag> UploadAsync(string name, ReadOnlyMemory<byte> content, IReadOnlyDictionary<string, string>? metadata = null, ETag? ifMatch = null, ETag? ifNoneMatch = null, CancellationToken cancellationToken = default);

    /// <summary>The blob, or null when it does not exist.</summary>
    Task<StoredBlob?> DownloadAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes; false when it did not exist.</summary>
    Task<bool> DeleteAsync(string name, ETag? ifMatch = null, CancellationToken cancellationToken = default);

    IAsyncEnumerable<BlobInfo> ListAsync(string? prefix = null, CancellationToken cancellationToken = default);
}

public sealed record StoredBlob(byte[] Content, ETag ETag, IReadOnlyDictionary<string, string> Metadata, DateTimeOffset LastModified);

public sealed record BlobInfo(string Name, long Size, ETag ETag, DateTimeOffset LastModified);

using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// A container as a folder with one file per blob, named by the SHA-256 of the blob's name. Each file starts
/// with a small header (name, version, metadata) so that listing reads only headers and a write replaces
/// content and header together.
/// </summary>
internal sealed class FileBlobContainer(string name, string directory, FileResourceLock writeLock, TimeProvider time) : IBlobContainer
{
    private const string BlobExtension = ".blob";
    private const int PrefixLength = 8;

    public string Name => name;

    private static ReadOnlySpan<byte> Magic => "SFB1"u8;

    public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        return Task.CompletedTask;
    }

    public async Task<ETag> UploadAsync(
        string name,
        ReadOnlyMemory<byte> content,
        IReadOnlyDictionary<string, string>? metadata = null,
        ETag? ifMatch = null,
        ETag? ifNoneMatch = null,
        CancellationToken cancellationToken = default)
    {
        StorageValidation.Upload(name, metadata, ifMatch, ifNoneMatch);
        RequireContainer("Upload blob");
        var path = BlobPath(name);
        var etag = FileStorageProvider.NewETag();
        var header = new BlobFileHeader(
            name,
            etag.ToString(),
            time.GetUtcNow(),
            content.Length,
            new Dictionary<string, string>(metadata ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase));
        var headerBytes = JsonSerializer.SerializeToUtf8Bytes(header, FileStoreJsonContext.Default.BlobFileHeader);
        var prefix = new byte[PrefixLength];
        Magic.CopyTo(prefix);
        BinaryPrimitives.WriteInt32LittleEndian(prefix.AsSpan(Magic.Length), headerBytes.Length);
        using var prepared = await AtomicFile.PrepareAsync(directory, path, [prefix, headerBytes, content], cancellationToken).ConfigureAwait(false);

        using var held = await writeLock.AcquireAsync(cancellationToken).ConfigureAwait(false);
        CheckConditions(await ReadHeaderAsync(path, cancellationToken).ConfigureAwait(false), ifMatch, ifNoneMatch);
        prepared.CommitTo(path);
        return etag;
    }

    public async Task<StoredBlob?> DownloadAsync(string name, CancellationToken cancellationToken = default)
    {
        StorageValidation.BlobName(name);
        var stream = AtomicFile.OpenForReading(BlobPath(name));
        if (stream is null)
        {
            return null;
        }

        await using (stream.ConfigureAwait(false))
        {
            var header = await ReadHeaderAsync(stream, cancellationToken).ConfigureAwait(false);
            var content = new byte[header.Size];
            await stream.ReadExactlyAsync(content, cancellationToken).ConfigureAwait(false);
            var metadata = new Dictionary<string, string>(header.Metadata, StringComparer.OrdinalIgnoreCase);
            return new StoredBlob(content, new ETag(header.ETag), metadata, header.LastModified);
        }
    }

    public async Task<bool> DeleteAsync(string name, ETag? ifMatch = null, CancellationToken cancellationToken = default)
    {
        StorageValidation.BlobName(name);
        StorageValidation.OptionalCondition(ifMatch, nameof(ifMatch));
        if (!Directory.Exists(directory))
        {
            return false;
        }

        using var held = await writeLock.AcquireAsync(cancellationToken).ConfigureAwait(false);
        var path = BlobPath(name);
        var current = await ReadHeaderAsync(path, cancellationToken).ConfigureAwait(false);
        if (current is null)
        {
            return false;
        }

        CheckConditions(current, ifMatch, ifNoneMatch: null);
        return AtomicFile.TryDelete(path);
    }

    public async IAsyncEnumerable<BlobInfo> ListAsync(string? prefix = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        RequireContainer("List blobs");
        var blobs = new List<BlobInfo>();
        foreach (var path in Directory.EnumerateFiles(directory, "*" + BlobExtension))
        {
            var header = await ReadHeaderAsync(path, cancellationToken).ConfigureAwait(false);
            if (header is not null && (prefix is null || header.Name.StartsWith(prefix, StringComparison.Ordinal)))
            {
                blobs.Add(new BlobInfo(header.Name, header.Size, new ETag(header.ETag), header.LastModified));
            }
        }

        // The blob service lists in name order; so does this.
        blobs.Sort(static (left, right) => string.CompareOrdinal(left.Name, right.Name));
        foreach (var blob in blobs)
        {
            yield return blob;
        }
    }

    private void CheckConditions(BlobFileHeader? current, ETag? ifMatch, ETag? ifNoneMatch)
    {
        var currentETag = current is null ? (ETag?)null : new ETag(current.ETag);
        if (ifMatch is { } match && (currentETag is null || (match != ETag.All && match != currentETag)))
        {
            throw new StorageException(StorageErrorKind.PreconditionFailed, $"Write blob in container '{Name}' failed: the blob has changed or does not exist.")
            {
                ErrorCode = "ConditionNotMet",
            };
        }

        if (ifNoneMatch is { } noneMatch && currentETag is { } existing && (noneMatch == ETag.All || noneMatch == existing))
        {
            throw new StorageException(StorageErrorKind.PreconditionFailed, $"Write blob in container '{Name}' failed: the blob already exists.")
            {
                ErrorCode = noneMatch == ETag.All ? "BlobAlreadyExists" : "ConditionNotMet",
            };
        }
    }

    private void RequireContainer(string operation)
    {
        if (!Directory.Exists(directory))
        {
            throw new StorageException(StorageErrorKind.NotFound, $"{operation} in container '{Name}' failed: the container does not exist.")
            {
                ErrorCode = "ContainerNotFound",
            };
        }
    }

    private static async Task<BlobFileHeader?> ReadHeaderAsync(string path, CancellationToken cancellationToken)
    {
        var stream = AtomicFile.OpenForReading(path);
        if (stream is null)
        {
            return null;
        }

        await using (stream.ConfigureAwait(false))
        {
            return await ReadHeaderAsync(stream, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<BlobFileHeader> ReadHeaderAsync(FileStream stream, CancellationToken cancellationToken)
    {
        var prefix = new byte[PrefixLength];
        await stream.ReadExactlyAsync(prefix, cancellationToken).ConfigureAwait(false);
        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(prefix.AsSpan(Magic.Length));
        if (!prefix.AsSpan(0, Magic.Length).SequenceEqual(Magic) || headerLength <= 0 || headerLength > stream.Length - PrefixLength)
        {
            throw new StorageException(StorageErrorKind.Failed, $"'{stream.Name}' is not a blob file of this store.");
        }

        var headerBytes = new byte[headerLength];
        await stream.ReadExactlyAsync(headerBytes, cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Deserialize(headerBytes, FileStoreJsonContext.Default.BlobFileHeader)
            ?? throw new StorageException(StorageErrorKind.Failed, $"'{stream.Name}' has an empty header.");
    }

    private string BlobPath(string name) => Path.Combine(directory, FileEntityTable.Hash(name) + BlobExtension);
}

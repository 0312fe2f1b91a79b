using System.Runtime.CompilerServices;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>A container of block blobs in the Blob service, through <see cref="BlobContainerClient"/>.</summary>
internal sealed class AzureBlobContainer(BlobContainerClient client, AzureStorageClientOptions options) : IBlobContainer
{
    public string Name => client.Name;

    public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) =>
        Run($"Create container '{Name}'", () => client.CreateIfNotExistsAsync(cancellationToken: cancellationToken), cancellationToken);

    public async Task<ETag> UploadAsync(
        string name,
        ReadOnlyMemory<byte> content,
        IReadOnlyDictionary<string, string>? metadata = null,
        ETag? ifMatch = null,
        ETag? ifNoneMatch = null,
        CancellationToken cancellationToken = default)
    {
        StorageValidation.Upload(name, metadata, ifMatch, ifNoneMatch);
        var blob = client.GetBlockBlobClient(name);
        var conditions = new BlobRequestConditions { IfMatch = ifMatch, IfNoneMatch = ifNoneMatch };
        var metadataCopy = metadata?.ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.OrdinalIgnoreCase);
        var operation = Operation("Upload blob");
        try
        {
            var info = content.Length <= options.BlockUploadThreshold
                ? await Run(operation, () => blob.UploadAsync(
                    BinaryData.FromBytes(content).ToStream(),
                    new BlobUploadOptions { Metadata = metadataCopy, Conditions = conditions },
                    cancellationToken), cancellationToken).ConfigureAwait(false)
                : await UploadInBlocksAsync(blob, content, metadataCopy, conditions, operation, cancellationToken).ConfigureAwait(false);
            return info.Value.ETag;
        }
        catch (StorageException ex) when (ex.Status == 409 && ifNoneMatch is not null)
        {
            // With If-None-Match: * the service answers an existing blob with 409 BlobAlreadyExists; to the caller both are a failed condition.
            throw new StorageException(StorageErrorKind.PreconditionFailed, ex.Message, ex.InnerException) { Status = ex.Status, ErrorCode = ex.ErrorCode };
        }
    }

    public async Task<StoredBlob?> DownloadAsync(string name, CancellationToken cancellationToken = default)
    {
        StorageValidation.BlobName(name);
        var operation = Operation("Download blob");
        try
        {
            var result = await Run(operation, () => client.GetBlobClient(name).DownloadContentAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
            var details = result.Value.Details;
            return new StoredBlob(
                result.Value.Content.ToArray(),
                details.ETag,
                new Dictionary<string, string>(details.Metadata, StringComparer.OrdinalIgnoreCase),
                details.LastModified);
        }
        catch (StorageException ex) when (ex.Kind == StorageErrorKind.NotFound)
        {
            return null;
        }
    }

    public async Task<bool> DeleteAsync(string name, ETag? ifMatch = null, CancellationToken cancellationToken = default)
    {
        StorageValidation.BlobName(name);
        StorageValidation.OptionalCondition(ifMatch, nameof(ifMatch));
        var response = await Run(
            Operation("Delete blob"),
            () => client.GetBlobClient(name).DeleteIfExistsAsync(conditions: new BlobRequestConditions { IfMatch = ifMatch }, cancellationToken: cancellationToken),
            cancellationToken).ConfigureAwait(false);
        return response.Value;
    }

    public async IAsyncEnumerable<BlobInfo> ListAsync(string? prefix = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var pages = client.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).AsPages(pageSizeHint: options.PageSize);
        await using var enumerator = pages.GetAsyncEnumerator(cancellationToken);
        while (await Run(Operation("List blobs"), async () => await enumerator.MoveNextAsync().ConfigureAwait(false), cancellationToken).ConfigureAwait(false))
        {
            foreach (var blob in enumerator.Current.Values)
            {
                yield return new BlobInfo(blob.Name, blob.Properties.ContentLength ?? 0, Quoted(blob.Properties.ETag), blob.Properties.LastModified ?? DateTimeOffset.MinValue);
            }
        }
    }

    /// <summary>
    /// Stages the blocks in parallel and commits them with the conditions. Block ids are unique per upload, so that
    /// concurrent uploads of one blob never commit each other's blocks; all have one length, as the service requires.
    /// </summary>
    private async Task<Response<BlobContentInfo>> UploadInBlocksAsync(
        BlockBlobClient blob,
        ReadOnlyMemory<byte> content,
        Dictionary<string, string>? metadata,
        BlobRequestConditions conditions,
        string operation,
        CancellationToken cancellationToken)
    {
        var blockSize = options.BlockSize;
        var blockCount = (int)((content.Length + (long)blockSize - 1) / blockSize);
        var uploadId = Guid.NewGuid().ToString("N");
        var blockIds = Enumerable.Range(0, blockCount)
            .Select(index => Convert.ToBase64String(Encoding.ASCII.GetBytes($"{uploadId}-{index:D6}")))
            .ToList();
        var parallelism = new ParallelOptions { MaxDegreeOfParallelism = options.MaxConcurrentBlockUploads, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, blockCount), parallelism, async (index, token) =>
        {
            var block = content.Slice(index * blockSize, Math.Min(blockSize, content.Length - (index * blockSize)));
            await Run(Operation("Upload block of blob"), () => blob.StageBlockAsync(blockIds[index], BinaryData.FromBytes(block).ToStream(), cancellationToken: token), token).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return await Run(
            operation,
            () => blob.CommitBlockListAsync(blockIds, new CommitBlockListOptions { Metadata = metadata, Conditions = conditions }, cancellationToken),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Listings give ETags without the quotes that headers carry; quoted, they compare equal to those.</summary>
    private static ETag Quoted(ETag? etag) =>
        etag is { } value && value.ToString() is { Length: > 0 } text && !text.StartsWith('"') && !text.StartsWith("W/", StringComparison.Ordinal)
            ? new ETag($"\"{text}\"")
            : etag ?? default;

    private Task<T> Run<T>(string operation, Func<Task<T>> call, CancellationToken cancellationToken) =>
        AzureStorageErrors.RunAsync(operation, client.Uri, call, cancellationToken);

    private Task Run(string operation, Func<Task> call, CancellationToken cancellationToken) =>
        AzureStorageErrors.RunAsync(operation, client.Uri, call, cancellationToken);

    private string Operation(string action) => $"{action} in container '{Name}'";
}

using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Azure;
using Azure.Core;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>A container of block blobs in the Blob service.</summary>
internal sealed class AzureBlobContainer : IBlobContainer
{
    private const string MetadataPrefix = "x-ms-meta-";

    private readonly StorageServiceClient _client;

    public AzureBlobContainer(StorageServiceClient client, string name)
    {
        StorageValidation.ContainerOrQueueName(name, "container");
        _client = client;
        Name = name;
    }

    public string Name { get; }

    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        var operation = $"Create container '{Name}'";
        using var message = CreateCreateContainerRequest();
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);

        // 409 ContainerAlreadyExists makes creation idempotent; a container still being deleted is a real conflict.
        if (response.Status != 201 && !(response.Status == 409 && StorageServiceClient.ErrorCodeOf(response) != "ContainerBeingDeleted"))
        {
            throw StorageServiceClient.Failure(response, operation);
        }
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
        var conditions = new MatchConditions { IfMatch = ifMatch, IfNoneMatch = ifNoneMatch };
        var operation = Operation("Upload blob");

        HttpMessage commit;
        if (content.Length <= _client.Options.BlockUploadThreshold)
        {
            commit = CreatePutBlobRequest(name, content, metadata, conditions);
        }
        else
        {
            var blockIds = await PutBlocksAsync(name, content, cancellationToken).ConfigureAwait(false);
            commit = CreatePutBlockListRequest(name, blockIds, metadata, conditions);
        }

        using (commit)
        {
            var response = await _client.SendAsync(commit, operation, cancellationToken).ConfigureAwait(false);
            return response.Status switch
            {
                201 => StorageServiceClient.ETagOf(response, operation),

                // With If-None-Match: * the service answers an existing blob with 409 BlobAlreadyExists; to the caller both are a failed condition.
                409 when ifNoneMatch is not null => throw StorageServiceClient.Failure(response, operation, StorageErrorKind.PreconditionFailed),
                _ => throw StorageServiceClient.Failure(response, operation),
            };
        }
    }

    public async Task<StoredBlob?> DownloadAsync(string name, CancellationToken cancellationToken = default)
    {
        StorageValidation.BlobName(name);
        var operation = Operation("Download blob");
        using var message = CreateGetBlobRequest(name);
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
        switch (response.Status)
        {
            case 200:
                var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var header in response.Headers)
                {
                    if (header.Name.StartsWith(MetadataPrefix, StringComparison.OrdinalIgnoreCase))
                    {
                        metadata[header.Name[MetadataPrefix.Length..]] = header.Value;
                    }
                }

                return new StoredBlob(
                    response.Content.ToArray(),
                    StorageServiceClient.ETagOf(response, operation),
                    metadata,
                    StorageServiceClient.LastModifiedOf(response));
            case 404:
                return null;
            default:
                throw StorageServiceClient.Failure(response, operation);
        }
    }

    public async Task<bool> DeleteAsync(string name, ETag? ifMatch = null, CancellationToken cancellationToken = default)
    {
        StorageValidation.BlobName(name);
        StorageValidation.OptionalCondition(ifMatch, nameof(ifMatch));
        var operation = Operation("Delete blob");
        using var message = CreateDeleteBlobRequest(name, new MatchConditions { IfMatch = ifMatch });
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            202 => true,
            404 => false,
            _ => throw StorageServiceClient.Failure(response, operation),
        };
    }

    public async IAsyncEnumerable<BlobInfo> ListAsync(string? prefix = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var operation = Operation("List blobs");
        string? marker = null;
        do
        {
            List<BlobInfo> page;
            using (var message = CreateListBlobsRequest(prefix, marker))
            {
                var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
                if (response.Status != 200)
                {
                    throw StorageServiceClient.Failure(response, operation);
                }

                var results = (await StorageServiceClient.ReadXmlAsync(response, cancellationToken).ConfigureAwait(false)).Root;
                page = [.. (results?.Element("Blobs")?.Elements("Blob") ?? []).Select(ReadBlobInfo)];
                marker = results?.Element("NextMarker")?.Value;
            }

            foreach (var blob in page)
            {
                yield return blob;
            }
        }
        while (!string.IsNullOrEmpty(marker));
    }

    private async Task<List<string>> PutBlocksAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var blockSize = _client.Options.BlockSize;
        var blockCount = (int)((content.Length + (long)blockSize - 1) / blockSize);

        // Ids are unique per upload so that concurrent uploads of one blob never commit each other's blocks; all have one length, as the service requires.
        var uploadId = Guid.NewGuid().ToString("N");
        var blockIds = Enumerable.Range(0, blockCount)
            .Select(index => Convert.ToBase64String(Encoding.ASCII.GetBytes($"{uploadId}-{index:D6}")))
            .ToList();
        var parallelism = new ParallelOptions { MaxDegreeOfParallelism = _client.Options.MaxConcurrentBlockUploads, CancellationToken = cancellationToken };
        var operation = Operation("Upload block of blob");
        await Parallel.ForEachAsync(Enumerable.Range(0, blockCount), parallelism, async (index, token) =>
        {
            var offset = index * blockSize;
            var block = content.Slice(offset, Math.Min(blockSize, content.Length - offset));
            using var message = CreatePutBlockRequest(name, blockIds[index], block);
            var response = await _client.SendAsync(message, operation, token).ConfigureAwait(false);
            if (response.Status != 201)
            {
                throw StorageServiceClient.Failure(response, operation);
            }
        }).ConfigureAwait(false);
        return blockIds;
    }

    private HttpMessage CreateCreateContainerRequest()
    {
        var message = _client.CreateMessage(RequestMethod.Put, "/" + Name);
        message.Request.Uri.AppendQuery("restype", "container");
        return message;
    }

    private HttpMessage CreatePutBlobRequest(string name, ReadOnlyMemory<byte> content, IReadOnlyDictionary<string, string>? metadata, MatchConditions conditions)
    {
        var message = _client.CreateMessage(RequestMethod.Put, BlobPath(name));
        var request = message.Request;
        request.Headers.SetValue("x-ms-blob-type", "BlockBlob");
        request.Headers.SetValue("Content-Type", "application/octet-stream");
        SetMetadata(request, metadata);
        MatchConditionHeaders.Apply(request, conditions);
        request.Content = RequestContent.Create(content);
        return message;
    }

    private HttpMessage CreatePutBlockRequest(string name, string blockId, ReadOnlyMemory<byte> block)
    {
        var message = _client.CreateMessage(RequestMethod.Put, BlobPath(name));
        message.Request.Uri.AppendQuery("comp", "block");
        message.Request.Uri.AppendQuery("blockid", blockId, escapeValue: true);
        message.Request.Headers.SetValue("Content-Type", "application/octet-stream");
        message.Request.Content = RequestContent.Create(block);
        return message;
    }

    private HttpMessage CreatePutBlockListRequest(string name, List<string> blockIds, IReadOnlyDictionary<string, string>? metadata, MatchConditions conditions)
    {
        var message = _client.CreateMessage(RequestMethod.Put, BlobPath(name));
        var request = message.Request;
        request.Uri.AppendQuery("comp", "blocklist");
        request.Headers.SetValue("Content-Type", "application/xml");
        request.Headers.SetValue("x-ms-blob-content-type", "application/octet-stream");
        SetMetadata(request, metadata);
        MatchConditionHeaders.Apply(request, conditions);

        // Block ids are base64, so they need no XML escaping.
        var body = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        foreach (var blockId in blockIds)
        {
            body.Append("<Latest>").Append(blockId).Append("</Latest>");
        }

        body.Append("</BlockList>");
        request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(body.ToString()));
        return message;
    }

    private HttpMessage CreateGetBlobRequest(string name) => _client.CreateMessage(RequestMethod.Get, BlobPath(name));

    private HttpMessage CreateDeleteBlobRequest(string name, MatchConditions conditions)
    {
        var message = _client.CreateMessage(RequestMethod.Delete, BlobPath(name));
        MatchConditionHeaders.Apply(message.Request, conditions);
        return message;
    }

    private HttpMessage CreateListBlobsRequest(string? prefix, string? marker)
    {
        var message = _client.CreateMessage(RequestMethod.Get, "/" + Name);
        var uri = message.Request.Uri;
        uri.AppendQuery("restype", "container");
        uri.AppendQuery("comp", "list");
        if (!string.IsNullOrEmpty(prefix))
        {
            uri.AppendQuery("prefix", prefix, escapeValue: true);
        }

        if (marker is not null)
        {
            uri.AppendQuery("marker", marker, escapeValue: true);
        }

        uri.AppendQuery("maxresults", _client.Options.PageSize.ToString(CultureInfo.InvariantCulture));
        return message;
    }

    private static BlobInfo ReadBlobInfo(System.Xml.Linq.XElement blob)
    {
        var nameElement = blob.Element("Name")!;
        var name = (string?)nameElement.Attribute("Encoded") == "true" ? Uri.UnescapeDataString(nameElement.Value) : nameElement.Value;
        var properties = blob.Element("Properties");
        var size = long.TryParse(properties?.Element("Content-Length")?.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var length) ? length : 0;
        var lastModified = DateTimeOffset.TryParseExact(
            properties?.Element("Last-Modified")?.Value, "R", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var modified)
            ? modified
            : DateTimeOffset.MinValue;

        // Listings show the ETag unquoted; quoting it makes it equal to the one the blob's own responses carry.
        var etag = properties?.Element("Etag")?.Value ?? string.Empty;
        if (!etag.StartsWith('"') && !etag.StartsWith("W/", StringComparison.Ordinal))
        {
            etag = $"\"{etag}\"";
        }

        return new BlobInfo(name, size, new ETag(etag), lastModified);
    }

    private static void SetMetadata(Request request, IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null)
        {
            return;
        }

        foreach (var (name, value) in metadata)
        {
            request.Headers.SetValue(MetadataPrefix + name, value);
        }
    }

    /// <summary>Each path segment is escaped on its own, so '/' keeps separating virtual folders.</summary>
    private string BlobPath(string name) => $"/{Name}/{string.Join('/', name.Split('/').Select(Uri.EscapeDataString))}";

    private string Operation(string action) => $"{action} in container '{Name}'";
}

using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Core;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>A table of the Table service, spoken to in JSON with minimal metadata.</summary>
internal sealed class AzureEntityTable : IEntityTable
{
    private const string JsonMinimalMetadata = "application/json;odata=minimalmetadata";

    private readonly StorageServiceClient _client;

    public AzureEntityTable(StorageServiceClient client, string name)
    {
        StorageValidation.TableName(name);
        _client = client;
        Name = name;
    }

    public string Name { get; }

    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateCreateTableRequest();
        var operation = $"Create table '{Name}'";
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);

        // 409 TableAlreadyExists makes creation idempotent; a table still being deleted is a real conflict.
        if (response.Status is not (201 or 204) && !(response.Status == 409 && StorageServiceClient.ErrorCodeOf(response) != "TableBeingDeleted"))
        {
            throw StorageServiceClient.Failure(response, operation);
        }
    }

    public async Task<StorageEntity?> GetAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default)
    {
        StorageValidation.Key(partitionKey, nameof(partitionKey));
        StorageValidation.Key(rowKey, nameof(rowKey));
        using var message = CreateGetEntityRequest(partitionKey, rowKey);
        var response = await _client.SendAsync(message, Operation("Get entity"), cancellationToken).ConfigureAwait(false);
        switch (response.Status)
        {
            case 200:
                using (var json = JsonDocument.Parse(response.Content.ToMemory()))
                {
                    return TableEntityJson.Read(json.RootElement);
                }

            case 404:
                return null;
            default:
                throw StorageServiceClient.Failure(response, Operation("Get entity"));
        }
    }

    public async Task<ETag> AddAsync(StorageEntity entity, CancellationToken cancellationToken = default)
    {
        StorageValidation.Entity(entity);
        using var message = CreateInsertEntityRequest(entity);
        var response = await _client.SendAsync(message, Operation("Add entity"), cancellationToken).ConfigureAwait(false);
        return response.Status is 201 or 204
            ? StorageServiceClient.ETagOf(response, Operation("Add entity"))
            : throw StorageServiceClient.Failure(response, Operation("Add entity"));
    }

    public async Task<ETag> UpdateAsync(StorageEntity entity, ETag ifMatch, CancellationToken cancellationToken = default)
    {
        StorageValidation.Entity(entity);
        StorageValidation.Condition(ifMatch, nameof(ifMatch));
        using var message = CreateReplaceEntityRequest(entity, ifMatch);
        var response = await _client.SendAsync(message, Operation("Update entity"), cancellationToken).ConfigureAwait(false);
        return response.Status == 204
            ? StorageServiceClient.ETagOf(response, Operation("Update entity"))
            : throw StorageServiceClient.Failure(response, Operation("Update entity"));
    }

    public async Task<ETag> UpsertAsync(StorageEntity entity, CancellationToken cancellationToken = default)
    {
        StorageValidation.Entity(entity);
        using var message = CreateReplaceEntityRequest(entity, ifMatch: null);
        var response = await _client.SendAsync(message, Operation("Upsert entity"), cancellationToken).ConfigureAwait(false);
        return response.Status == 204
            ? StorageServiceClient.ETagOf(response, Operation("Upsert entity"))
            : throw StorageServiceClient.Failure(response, Operation("Upsert entity"));
    }

    public async Task<bool> DeleteAsync(string partitionKey, string rowKey, ETag ifMatch, CancellationToken cancellationToken = default)
    {
        StorageValidation.Key(partitionKey, nameof(partitionKey));
        StorageValidation.Key(rowKey, nameof(rowKey));
        StorageValidation.Condition(ifMatch, nameof(ifMatch));
        using var message = CreateDeleteEntityRequest(partitionKey, rowKey, ifMatch);
        var response = await _client.SendAsync(message, Operation("Delete entity"), cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            204 => true,
            404 => false,
            _ => throw StorageServiceClient.Failure(response, Operation("Delete entity")),
        };
    }

    public async IAsyncEnumerable<StorageEntity> QueryAsync(EntityFilter? filter = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var odataFilter = filter is null ? null : ODataFilter.Translate(filter);
        (string PartitionKey, string? RowKey)? continuation = null;
        do
        {
            List<StorageEntity> page;
            using (var message = CreateQueryEntitiesRequest(odataFilter, continuation))
            {
                var response = await _client.SendAsync(message, Operation("Query entities"), cancellationToken).ConfigureAwait(false);
                if (response.Status != 200)
                {
                    throw StorageServiceClient.Failure(response, Operation("Query entities"));
                }

                using var json = JsonDocument.Parse(response.Content.ToMemory());
                page = [.. json.RootElement.GetProperty("value").EnumerateArray().Select(TableEntityJson.Read)];
                continuation = response.Headers.TryGetValue("x-ms-continuation-NextPartitionKey", out var nextPartition)
                    ? (nextPartition, response.Headers.TryGetValue("x-ms-continuation-NextRowKey", out var nextRow) ? nextRow : null)
                    : null;
            }

            foreach (var entity in page)
            {
                yield return entity;
            }
        }
        while (continuation is not null);
    }

    private HttpMessage CreateCreateTableRequest()
    {
        var message = _client.CreateMessage(RequestMethod.Post, "/Tables");
        SetJsonHeaders(message.Request, hasContent: true);
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        message.Request.Content = RequestContent.Create(TableEntityJson.WriteTableName(Name));
        return message;
    }

    private HttpMessage CreateGetEntityRequest(string partitionKey, string rowKey)
    {
        var message = _client.CreateMessage(RequestMethod.Get, EntityPath(partitionKey, rowKey));
        SetJsonHeaders(message.Request, hasContent: false);
        return message;
    }

    private HttpMessage CreateInsertEntityRequest(StorageEntity entity)
    {
        var message = _client.CreateMessage(RequestMethod.Post, "/" + Name);
        SetJsonHeaders(message.Request, hasContent: true);
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        message.Request.Content = RequestContent.Create(TableEntityJson.Write(entity));
        return message;
    }

    /// <summary>Replace with If-Match is an update; without it, the service inserts or replaces.</summary>
    private HttpMessage CreateReplaceEntityRequest(StorageEntity entity, ETag? ifMatch)
    {
        var message = _client.CreateMessage(RequestMethod.Put, EntityPath(entity.PartitionKey, entity.RowKey));
        SetJsonHeaders(message.Request, hasContent: true);
        MatchConditionHeaders.Apply(message.Request, new MatchConditions { IfMatch = ifMatch });
        message.Request.Content = RequestContent.Create(TableEntityJson.Write(entity));
        return message;
    }

    private HttpMessage CreateDeleteEntityRequest(string partitionKey, string rowKey, ETag ifMatch)
    {
        var message = _client.CreateMessage(RequestMethod.Delete, EntityPath(partitionKey, rowKey));
        SetJsonHeaders(message.Request, hasContent: false);
        MatchConditionHeaders.Apply(message.Request, new MatchConditions { IfMatch = ifMatch });
        return message;
    }

    private HttpMessage CreateQueryEntitiesRequest(string? odataFilter, (string PartitionKey, string? RowKey)? continuation)
    {
        var message = _client.CreateMessage(RequestMethod.Get, $"/{Name}()");
        SetJsonHeaders(message.Request, hasContent: false);
        var uri = message.Request.Uri;
        if (odataFilter is not null)
        {
            uri.AppendQuery("$filter", odataFilter, escapeValue: true);
        }

        uri.AppendQuery("$top", _client.Options.PageSize.ToString(System.Globalization.CultureInfo.InvariantCulture), escapeValue: false);
        if (continuation is { } next)
        {
            uri.AppendQuery("NextPartitionKey", next.PartitionKey, escapeValue: true);
            if (next.RowKey is not null)
            {
                uri.AppendQuery("NextRowKey", next.RowKey, escapeValue: true);
            }
        }

        return message;
    }

    private static void SetJsonHeaders(Request request, bool hasContent)
    {
        request.Headers.SetValue("Accept", JsonMinimalMetadata);
        request.Headers.SetValue("DataServiceVersion", "3.0");
        request.Headers.SetValue("MaxDataServiceVersion", "3.0;NetFx");
        if (hasContent)
        {
            request.Headers.SetValue("Content-Type", "application/json");
        }
    }

    /// <summary>Keys are quoted OData string literals (quotes doubled), then percent-encoded.</summary>
    private string EntityPath(string partitionKey, string rowKey) =>
        $"/{Name}(PartitionKey='{EscapeKey(partitionKey)}',RowKey='{EscapeKey(rowKey)}')";

    private static string EscapeKey(string key) => Uri.EscapeDataString(key.Replace("'", "''", StringComparison.Ordinal));

    private string Operation(string action) => $"{action} in table '{Name}'";
}

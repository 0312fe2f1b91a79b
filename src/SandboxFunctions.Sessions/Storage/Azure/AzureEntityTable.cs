using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>A table of the Table service, through <see cref="TableClient"/>.</summary>
internal sealed class AzureEntityTable(TableClient client, Uri endpoint, int pageSize) : IEntityTable
{
    public string Name => client.Name;

    public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) =>
        Run($"Create table '{Name}'", () => client.CreateIfNotExistsAsync(cancellationToken), cancellationToken);

    public async Task<StorageEntity?> GetAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default)
    {
        StorageValidation.Key(partitionKey, nameof(partitionKey));
        StorageValidation.Key(rowKey, nameof(rowKey));
        var response = await Run(Operation("Get entity"), () => client.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.HasValue ? FromTableEntity(response.Value!) : null;
    }

    public async Task<ETag> AddAsync(StorageEntity entity, CancellationToken cancellationToken = default)
    {
        StorageValidation.Entity(entity);
        var response = await Run(Operation("Add entity"), () => client.AddEntityAsync(ToTableEntity(entity), cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Headers.ETag ?? throw MissingETag(Operation("Add entity"));
    }

    public async Task<ETag> UpdateAsync(StorageEntity entity, ETag ifMatch, CancellationToken cancellationToken = default)
    {
        StorageValidation.Entity(entity);
        StorageValidation.Condition(ifMatch, nameof(ifMatch));
        var response = await Run(Operation("Update entity"), () => client.UpdateEntityAsync(ToTableEntity(entity), ifMatch, TableUpdateMode.Replace, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Headers.ETag ?? throw MissingETag(Operation("Update entity"));
    }

    public async Task<ETag> UpdateAfterAsync(StorageEntity entity, ETag ifMatch, Task precondition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(precondition);
        await precondition.ConfigureAwait(false);
        return await UpdateAsync(entity, ifMatch, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ETag> UpsertAsync(StorageEntity entity, CancellationToken cancellationToken = default)
    {
        StorageValidation.Entity(entity);
        var response = await Run(Operation("Upsert entity"), () => client.UpsertEntityAsync(ToTableEntity(entity), TableUpdateMode.Replace, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Headers.ETag ?? throw MissingETag(Operation("Upsert entity"));
    }

    public async Task<bool> DeleteAsync(string partitionKey, string rowKey, ETag ifMatch, CancellationToken cancellationToken = default)
    {
        StorageValidation.Key(partitionKey, nameof(partitionKey));
        StorageValidation.Key(rowKey, nameof(rowKey));
        StorageValidation.Condition(ifMatch, nameof(ifMatch));

        // The client answers a missing entity with its 404 response instead of throwing.
        var response = await Run(Operation("Delete entity"), () => client.DeleteEntityAsync(partitionKey, rowKey, ifMatch, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Status != 404;
    }

    public async IAsyncEnumerable<StorageEntity> QueryAsync(EntityFilter? filter = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var query = filter is null ? null : TableFilter.Translate(filter);
        var pages = client.QueryAsync<TableEntity>(query, pageSize, cancellationToken: cancellationToken).AsPages();
        await using var enumerator = pages.GetAsyncEnumerator(cancellationToken);
        while (await Run(Operation("Query entities"), async () => await enumerator.MoveNextAsync().ConfigureAwait(false), cancellationToken).ConfigureAwait(false))
        {
            foreach (var entity in enumerator.Current.Values)
            {
                yield return FromTableEntity(entity);
            }
        }
    }

    private static TableEntity ToTableEntity(StorageEntity entity)
    {
        var row = new TableEntity(entity.PartitionKey, entity.RowKey);
        foreach (var (name, value) in entity.Properties)
        {
            row[name] = value;
        }

        return row;
    }

    private static StorageEntity FromTableEntity(TableEntity row)
    {
        var properties = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in row)
        {
            if (name is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag"))
            {
                properties[name] = value is DateTime time ? new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)) : value;
            }
        }

        return new StorageEntity(row.PartitionKey, row.RowKey) { Properties = properties, ETag = row.ETag, Timestamp = row.Timestamp };
    }

    private static StorageException MissingETag(string operation) =>
        new(StorageErrorKind.Failed, $"{operation} succeeded but the service sent no ETag.");

    private Task<T> Run<T>(string operation, Func<Task<T>> call, CancellationToken cancellationToken) =>
        AzureStorageErrors.RunAsync(operation, endpoint, call, cancellationToken);

    private Task Run(string operation, Func<Task> call, CancellationToken cancellationToken) =>
        AzureStorageErrors.RunAsync(operation, endpoint, call, cancellationToken);

    private string Operation(string action) => $"{action} in table '{Name}'";
}

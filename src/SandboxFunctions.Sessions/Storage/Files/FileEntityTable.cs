using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// A table as a folder: one subfolder per partition and one JSON file per entity, each named by the SHA-256 of
/// its key, so that no key, however long or strange, becomes part of a path.
/// </summary>
internal sealed class FileEntityTable(string name, string directory, FileResourceLock writeLock, TimeProvider time) : IEntityTable
{
    private const string EntityExtension = ".json";

    public string Name => name;

    public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        return Task.CompletedTask;
    }

    public async Task<StorageEntity?> GetAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default)
    {
        StorageValidation.Key(partitionKey, nameof(partitionKey));
        StorageValidation.Key(rowKey, nameof(rowKey));
        return (await ReadAsync(EntityPath(partitionKey, rowKey), cancellationToken).ConfigureAwait(false))?.ToEntity();
    }

    public async Task<ETag> AddAsync(StorageEntity entity, CancellationToken cancellationToken = default)
    {
        StorageValidation.Entity(entity);
        RequireTable("Add entity");
        var path = EntityPath(entity.PartitionKey, entity.RowKey);
        var (prepared, etag) = await PrepareAsync(path, entity, cancellationToken).ConfigureAwait(false);
        using (prepared)
        {
            using var held = await LockAsync("Add entity", cancellationToken).ConfigureAwait(false);
            if (File.Exists(path))
            {
                throw new StorageException(StorageErrorKind.Conflict, $"Add entity in table '{Name}' failed: the entity already exists.") { ErrorCode = "EntityAlreadyExists" };
            }

            Commit(prepared, path);
            return etag;
        }
    }

    public Task<ETag> UpdateAsync(StorageEntity entity, ETag ifMatch, CancellationToken cancellationToken = default) =>
        UpdateAfterAsync(entity, ifMatch, Task.CompletedTask, cancellationToken);

    public async Task<ETag> UpdateAfterAsync(StorageEntity entity, ETag ifMatch, Task precondition, CancellationToken cancellationToken = default)
    {
        StorageValidation.Entity(entity);
        StorageValidation.Condition(ifMatch, nameof(ifMatch));
        ArgumentNullException.ThrowIfNull(precondition);
        RequireTable("Update entity");
        var path = EntityPath(entity.PartitionKey, entity.RowKey);
        var preparing = PrepareAsync(path, entity, cancellationToken);
        try
        {
            await precondition.ConfigureAwait(false);
        }
        catch
        {
            await DiscardAsync(preparing).ConfigureAwait(false);
            throw;
        }

        var (prepared, etag) = await preparing.ConfigureAwait(false);
        using (prepared)
        {
            using var held = await LockAsync("Update entity", cancellationToken).ConfigureAwait(false);
            var current = await ReadAsync(path, cancellationToken).ConfigureAwait(false)
                ?? throw new StorageException(StorageErrorKind.NotFound, $"Update entity in table '{Name}' failed: the entity does not exist.") { ErrorCode = "ResourceNotFound" };
            RequireMatch(current, ifMatch, "Update entity");
            Commit(prepared, path);
            return etag;
        }
    }

    public async Task<ETag> UpsertAsync(StorageEntity entity, CancellationToken cancellationToken = default)
    {
        StorageValidation.Entity(entity);
        RequireTable("Upsert entity");
        var path = EntityPath(entity.PartitionKey, entity.RowKey);
        var (prepared, etag) = await PrepareAsync(path, entity, cancellationToken).ConfigureAwait(false);
        using (prepared)
        {
            using var held = await LockAsync("Upsert entity", cancellationToken).ConfigureAwait(false);
            Commit(prepared, path);
            return etag;
        }
    }

    public async Task<bool> DeleteAsync(string partitionKey, string rowKey, ETag ifMatch, CancellationToken cancellationToken = default)
    {
        StorageValidation.Key(partitionKey, nameof(partitionKey));
        StorageValidation.Key(rowKey, nameof(rowKey));
        StorageValidation.Condition(ifMatch, nameof(ifMatch));
        if (!Directory.Exists(directory))
        {
            return false;
        }

        using var held = await LockAsync("Delete entity", cancellationToken).ConfigureAwait(false);
        var path = EntityPath(partitionKey, rowKey);
        var current = await ReadAsync(path, cancellationToken).ConfigureAwait(false);
        if (current is null)
        {
            return false;
        }

        RequireMatch(current, ifMatch, "Delete entity");
        File.Delete(path);
        RemoveIfEmpty(Path.GetDirectoryName(path)!);
        return true;
    }

    public async IAsyncEnumerable<StorageEntity> QueryAsync(EntityFilter? filter = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (filter is not null)
        {
            StorageValidation.Filter(filter);
        }

        RequireTable("Query entities");
        var partitions = EntityFilterEvaluator.SinglePartition(filter) is { } partitionKey
            ? [Path.Combine(directory, Hash(partitionKey))]
            : Directory.EnumerateDirectories(directory);
        var matches = new List<StorageEntity>();
        foreach (var partition in partitions)
        {
            foreach (var path in EnumerateFiles(partition))
            {
                var entity = (await ReadAsync(path, cancellationToken).ConfigureAwait(false))?.ToEntity();
                if (entity is not null && (filter is null || EntityFilterEvaluator.Matches(filter, entity)))
                {
                    matches.Add(entity);
                }
            }
        }

        // The table service returns entities in key order; so does this.
        matches.Sort(static (left, right) =>
        {
            var byPartition = string.CompareOrdinal(left.PartitionKey, right.PartitionKey);
            return byPartition != 0 ? byPartition : string.CompareOrdinal(left.RowKey, right.RowKey);
        });
        foreach (var entity in matches)
        {
            yield return entity;
        }
    }

    private async Task<FileResourceLock.Holder> LockAsync(string operation, CancellationToken cancellationToken)
    {
        RequireTable(operation);
        return await writeLock.AcquireAsync(cancellationToken).ConfigureAwait(false);
    }

    private void RequireTable(string operation)
    {
        if (!Directory.Exists(directory))
        {
            throw new StorageException(StorageErrorKind.NotFound, $"{operation} in table '{Name}' failed: the table does not exist.") { ErrorCode = "TableNotFound" };
        }
    }

    private void RequireMatch(EntityFile current, ETag ifMatch, string operation)
    {
        if (ifMatch != ETag.All && new ETag(current.ETag) != ifMatch)
        {
            throw new StorageException(StorageErrorKind.PreconditionFailed, $"{operation} in table '{Name}' failed: the entity has changed since it was read.")
            {
                ErrorCode = "UpdateConditionNotSatisfied",
            };
        }
    }

    /// <summary>
    /// Writes the entity's file in the table's folder, outside every partition, so the partition folder need exist only
    /// from the commit on: a delete that empties a partition removes its folder under the lock.
    /// </summary>
    private async Task<(PreparedFile File, ETag ETag)> PrepareAsync(string path, StorageEntity entity, CancellationToken cancellationToken)
    {
        var etag = FileStorageProvider.NewETag();
        var file = EntityFile.From(entity, etag, time.GetUtcNow());
        var prepared = await AtomicFile.PrepareAsync(directory, path, [JsonSerializer.SerializeToUtf8Bytes(file, FileStoreJsonContext.Default.EntityFile)], cancellationToken).ConfigureAwait(false);
        return (prepared, etag);
    }

    /// <summary>Deletes a prepared write that will not be committed, whether or not preparing it succeeded.</summary>
    private static async Task DiscardAsync(Task<(PreparedFile File, ETag ETag)> preparing)
    {
        try
        {
            (await preparing.ConfigureAwait(false)).File.Dispose();
        }
        catch (Exception ex) when (ex is StorageException or OperationCanceledException)
        {
        }
    }

    private static void Commit(PreparedFile prepared, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        prepared.CommitTo(path);
    }

    private static async Task<EntityFile?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var content = await AtomicFile.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return content is null ? null : JsonSerializer.Deserialize(content, FileStoreJsonContext.Default.EntityFile);
    }

    private string EntityPath(string partitionKey, string rowKey) => Path.Combine(directory, Hash(partitionKey), Hash(rowKey) + EntityExtension);

    private static string[] EnumerateFiles(string partition)
    {
        try
        {
            return Directory.GetFiles(partition, "*" + EntityExtension);
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    /// <summary>An emptied partition folder goes too.</summary>
    private static void RemoveIfEmpty(string partition)
    {
        try
        {
            if (!Directory.EnumerateFileSystemEntries(partition).Any())
            {
                Directory.Delete(partition);
            }
        }
        catch (IOException)
        {
            // Something still holds the folder open; an empty folder is harmless and the next delete tries again.
        }
    }

    internal static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}

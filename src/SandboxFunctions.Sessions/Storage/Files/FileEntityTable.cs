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
        return await WriteAsync("Add entity", entity, Task.CompletedTask, path => File.Exists(path)
            ? throw new StorageException(StorageErrorKind.Conflict, $"Add entity in table '{Name}' failed: the entity already exists.") { ErrorCode = "EntityAlreadyExists" }
            : Task.CompletedTask, cancellationToken).ConfigureAwait(false);
    }

    public Task<ETag> UpdateAsync(StorageEntity entity, ETag ifMatch, CancellationToken cancellationToken = default) =>
        UpdateAfterAsync(entity, ifMatch, Task.CompletedTask, cancellationToken);

    public async Task<ETag> UpdateAfterAsync(StorageEntity entity, ETag ifMatch, Task precondition, CancellationToken cancellationToken = default)
    {
        StorageValidation.Entity(entity);
        StorageValidation.Condition(ifMatch, nameof(ifMatch));
        ArgumentNullException.ThrowIfNull(precondition);
        return await WriteAsync("Update entity", entity, precondition, async path =>
        {
            var current = await ReadAsync(path, cancellationToken).ConfigureAwait(false)
                ?? throw new StorageException(StorageErrorKind.NotFound, $"Update entity in table '{Name}' failed: the entity does not exist.") { ErrorCode = "ResourceNotFound" };
            RequireMatch(current, ifMatch, "Update entity");
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ETag> UpsertAsync(StorageEntity entity, CancellationToken cancellationToken = default)
    {
        StorageValidation.Entity(entity);
        return await WriteAsync("Upsert entity", entity, Task.CompletedTask, _ => Task.CompletedTask, cancellationToken).ConfigureAwait(false);
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
    /// Every write of an entity: its file is written and flushed while <paramref name="precondition"/> runs, then, if
    /// that succeeded, the lock is taken only to check <paramref name="condition"/> (given the entity's path) and rename
    /// the file into place.
    /// </summary>
    /// <remarks>
    /// The file is prepared in the table's folder, outside every partition, so the partition folder need exist only
    /// from the commit on: a delete that empties a partition removes its folder under the lock.
    /// </remarks>
    private async Task<ETag> WriteAsync(string operation, StorageEntity entity, Task precondition, Func<string, Task> condition, CancellationToken cancellationToken)
    {
        RequireTable(operation);
        var path = EntityPath(entity.PartitionKey, entity.RowKey);
        var etag = FileStorageProvider.NewETag();
        var content = JsonSerializer.SerializeToUtf8Bytes(EntityFile.From(entity, etag, time.GetUtcNow()), FileStoreJsonContext.Default.EntityFile);
        var preparing = AtomicFile.PrepareAsync(directory, path, [content], cancellationToken);
        try
        {
            await precondition.ConfigureAwait(false);
        }
        catch
        {
            // A write that will not be committed is deleted, if preparing it got as far as a file.
            if (await StorageOutcome.SucceededAsync(preparing).ConfigureAwait(false))
            {
                preparing.Result.Dispose();
            }

            throw;
        }

        using var prepared = await preparing.ConfigureAwait(false);
        using var held = await LockAsync(operation, cancellationToken).ConfigureAwait(false);
        await condition(path).ConfigureAwait(false);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        prepared.CommitTo(path);
        return etag;
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

using Azure;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>A table of entities with optimistic concurrency through ETags.</summary>
public interface IEntityTable
{
    string Name { get; }

    Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default);

    /// <summary>The entity, or null when it does not exist.</summary>
    Task<StorageEntity?> GetAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default);

    /// <summary>Inserts; throws <see cref="StorageException"/> with <see cref="StorageErrorKind.Conflict"/> when it exists.</summary>
    Task<ETag> AddAsync(StorageEntity entity, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the entity if its current ETag matches (<see cref="ETag.All"/> matches any existing entity);
    /// throws <see cref="StorageErrorKind.PreconditionFailed"/> when it does not, <see cref="StorageErrorKind.NotFound"/> when it is gone.
    /// </summary>
    Task<ETag> UpdateAsync(StorageEntity entity, ETag ifMatch, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="UpdateAsync"/> once <paramref name="precondition"/> has completed, and not at all if it fails, whose
    /// exception is then thrown. The update never becomes visible before <paramref name="precondition"/> is done; a table
    /// on local disk writes and flushes the new entity while it waits, so the two writes reach the disk together.
    /// </summary>
    Task<ETag> UpdateAfterAsync(StorageEntity entity, ETag ifMatch, Task precondition, CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces, unconditionally.</summary>
    Task<ETag> UpsertAsync(StorageEntity entity, CancellationToken cancellationToken = default);

    /// <summary>Deletes if the ETag matches; false when the entity did not exist.</summary>
    Task<bool> DeleteAsync(string partitionKey, string rowKey, ETag ifMatch, CancellationToken cancellationToken = default);

    IAsyncEnumerable<StorageEntity> QueryAsync(EntityFilter? filter = null, CancellationToken cancellationToken = default);
}

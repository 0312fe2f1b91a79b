using System.Collections.Concurrent;
using Azure;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// An embedded store under one folder, with the semantics of Azure Storage: versions that change on every write,
/// conditional writes, queue visibility. Safe for concurrent callers in one process and for several processes
/// on one machine sharing the folder.
/// </summary>
public sealed class FileStorageProvider : IStorageProvider
{
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, FileResourceLock> _locks = new(StringComparer.Ordinal);

    public FileStorageProvider(string dataPath, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataPath);
        DataPath = Path.GetFullPath(dataPath);
        _time = timeProvider ?? TimeProvider.System;
    }

    public string Kind => "file";

    /// <summary>The absolute path of the folder holding everything.</summary>
    public string DataPath { get; }

    public IEntityTable GetTable(string name)
    {
        StorageValidation.TableName(name);

        // Table names are case-insensitive, so one casing names the folder.
        var directory = Path.Combine(DataPath, "tables", LowerInvariant(name));
        return new FileEntityTable(name, directory, LockFor(directory, $"table '{name}'"), _time);
    }

    public IBlobContainer GetContainer(string name)
    {
        StorageValidation.ContainerOrQueueName(name, "container");
        var directory = Path.Combine(DataPath, "blobs", name);
        return new FileBlobContainer(name, directory, LockFor(directory, $"container '{name}'"), _time);
    }

    public IMessageQueue GetQueue(string name)
    {
        StorageValidation.ContainerOrQueueName(name, "queue");
        var directory = Path.Combine(DataPath, "queues", name);
        return new FileMessageQueue(name, directory, LockFor(directory, $"queue '{name}'"), _time);
    }

    internal static ETag NewETag() => new($"\"0x{Guid.NewGuid():N}\"");

    private FileResourceLock LockFor(string directory, string description) =>
        _locks.GetOrAdd(directory, static (path, what) => new FileResourceLock(Path.Combine(path, ".lock"), what), description);

    // Folder names follow the lowercase convention of container and queue names; nothing compares them uppercased.
#pragma warning disable CA1308
    private static string LowerInvariant(string name) => name.ToLowerInvariant();
#pragma warning restore CA1308
}

using System.Text.Json;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// A queue as a folder with one JSON file per message. Receiving hides a message until its visibility timeout
/// passes, counting each receipt, and gives it a new pop receipt that later updates must present.
/// </summary>
internal sealed class FileMessageQueue(string name, string directory, FileResourceLock writeLock, TimeProvider time) : IMessageQueue
{
    private const string MessageExtension = ".json";

    public string Name => name;

    public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        return Task.CompletedTask;
    }

    public async Task SendAsync(string text, TimeSpan? visibilityDelay = null, CancellationToken cancellationToken = default)
    {
        StorageValidation.MessageText(text);
        var delay = visibilityDelay ?? TimeSpan.Zero;
        StorageValidation.VisibilityTimeout(delay, TimeSpan.Zero, nameof(visibilityDelay));
        RequireQueue("Send message");
        var now = time.GetUtcNow();
        var message = new MessageFile(NewId(), PopReceipt: NewId(), DequeueCount: 0, text, now, now + delay);

        // A new file with a new name races with nobody, so sending takes no lock.
        await WriteAsync(message, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<QueueMessage>> ReceiveAsync(int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        var count = StorageValidation.MessageCount(maxMessages);
        StorageValidation.VisibilityTimeout(visibilityTimeout, TimeSpan.FromSeconds(1), nameof(visibilityTimeout));
        RequireQueue("Receive messages");
        using var held = await writeLock.AcquireAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var visible = new List<MessageFile>();
        foreach (var path in Directory.EnumerateFiles(directory, "*" + MessageExtension))
        {
            if (await ReadAsync(path, cancellationToken).ConfigureAwait(false) is { } message && message.VisibleOn <= now)
            {
                visible.Add(message);
            }
        }

        var received = new List<QueueMessage>(count);
        foreach (var message in visible.OrderBy(m => m.InsertedOn).ThenBy(m => m.Id, StringComparer.Ordinal).Take(count))
        {
            var hidden = message with { PopReceipt = NewId(), DequeueCount = message.DequeueCount + 1, VisibleOn = now + visibilityTimeout };
            await WriteAsync(hidden, cancellationToken).ConfigureAwait(false);
            received.Add(ToQueueMessage(hidden));
        }

        return received;
    }

    public async Task<QueueMessage> ExtendVisibilityAsync(QueueMessage message, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        StorageValidation.VisibilityTimeout(visibilityTimeout, TimeSpan.Zero, nameof(visibilityTimeout));
        RequireQueue("Extend visibility of message");
        using var held = await writeLock.AcquireAsync(cancellationToken).ConfigureAwait(false);
        var current = await ReadReceivedAsync(message, "Extend visibility of message", cancellationToken).ConfigureAwait(false);
        var extended = current with { PopReceipt = NewId(), VisibleOn = time.GetUtcNow() + visibilityTimeout };
        await WriteAsync(extended, cancellationToken).ConfigureAwait(false);
        return ToQueueMessage(extended);
    }

    public async Task DeleteAsync(QueueMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        RequireQueue("Delete message");
        using var held = await writeLock.AcquireAsync(cancellationToken).ConfigureAwait(false);
        await ReadReceivedAsync(message, "Delete message", cancellationToken).ConfigureAwait(false);
        AtomicFile.TryDelete(MessagePath(message.Id));
    }

    /// <summary>The stored message, which must still carry the caller's pop receipt.</summary>
    private async Task<MessageFile> ReadReceivedAsync(QueueMessage message, string operation, CancellationToken cancellationToken)
    {
        var current = IsOwnId(message.Id) ? await ReadAsync(MessagePath(message.Id), cancellationToken).ConfigureAwait(false) : null;
        if (current is null)
        {
            throw new StorageException(StorageErrorKind.NotFound, $"{operation} in queue '{Name}' failed: the message does not exist.") { ErrorCode = "MessageNotFound" };
        }

        if (current.PopReceipt != message.PopReceipt)
        {
            throw new StorageException(StorageErrorKind.PreconditionFailed, $"{operation} in queue '{Name}' failed: the message was received again since.")
            {
                ErrorCode = "PopReceiptMismatch",
            };
        }

        return current;
    }

    private void RequireQueue(string operation)
    {
        if (!Directory.Exists(directory))
        {
            throw new StorageException(StorageErrorKind.NotFound, $"{operation} in queue '{Name}' failed: the queue does not exist.") { ErrorCode = "QueueNotFound" };
        }
    }

    private Task WriteAsync(MessageFile message, CancellationToken cancellationToken) =>
        AtomicFile.WriteAsync(MessagePath(message.Id), [JsonSerializer.SerializeToUtf8Bytes(message, FileStoreJsonContext.Default.MessageFile)], cancellationToken);

    private static async Task<MessageFile?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var content = await AtomicFile.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return content is null ? null : JsonSerializer.Deserialize(content, FileStoreJsonContext.Default.MessageFile);
    }

    private static QueueMessage ToQueueMessage(MessageFile message) =>
        new(message.Id, message.PopReceipt, message.DequeueCount, message.Text, message.InsertedOn);

    /// <summary>Ids come back from callers and become file names, so only ids this store could have made are looked up.</summary>
    private static bool IsOwnId(string id) => Guid.TryParseExact(id, "N", out _);

    private static string NewId() => Guid.NewGuid().ToString("N");

    private string MessagePath(string id) => Path.Combine(directory, id + MessageExtension);
}

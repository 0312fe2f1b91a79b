namespace SandboxFunctions.Sessions.Storage;

/// <summary>A queue of text messages that reappear when not deleted before their visibility timeout.</summary>
public interface IMessageQueue
{
    string Name { get; }

    Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default);

    Task SendAsync(string text, TimeSpan? visibilityDelay = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Up to <paramref name="maxMessages"/> (at most 32) visible messages, hidden from others for <paramref name="visibilityTimeout"/>
    /// (at least one second).
    /// </summary>
    Task<IReadOnlyList<QueueMessage>> ReceiveAsync(int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Keeps a received message hidden longer; returns it with its new pop receipt. Throws <see cref="StorageErrorKind.NotFound"/>
    /// when the message is gone, <see cref="StorageErrorKind.PreconditionFailed"/> when it was received again since.
    /// </summary>
    Task<QueueMessage> ExtendVisibilityAsync(QueueMessage message, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes a received message. Throws <see cref="StorageErrorKind.NotFound"/> when it is gone,
    /// <see cref="StorageErrorKind.PreconditionFailed"/> when it was received again since (its pop receipt no longer matches).
    /// </summary>
    Task DeleteAsync(QueueMessage message, CancellationToken cancellationToken = default);
}

public sealed record QueueMessage(string Id, string PopReceipt, long DequeueCount, string Text, DateTimeOffset InsertedOn);

namespace SandboxFunctions.Sessions.Storage;

/// <summary>A queue of text messages that reappear when not deleted before their visibility timeout.</summary>
public interface IMessageQueue
{
    string Name { get; }

    Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default);

    Task SendAsync(string text, TimeSpan? visibilityDelay = null, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="maxMessages"/> visible messages, hidden from others for <paramref name="visibilityTimeout"/>.</summary>
    Task<IReadOnlyList<QueueMessage>> ReceiveAsync(int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default);

    /// <summary>Keeps a received message hidden longer; returns it with its new pop receipt.</summary>
    Task<QueueMessage> ExtendVisibilityAsync(QueueMessage message, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default);

    Task DeleteAsync(QueueMessage message, CancellationToken cancellationToken = default);
}

public sealed record QueueMessage(string Id, string PopReceipt, long DequeueCount, string Text, DateTimeOffset InsertedOn);

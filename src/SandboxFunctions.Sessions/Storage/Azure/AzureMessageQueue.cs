using System.Text;
using Azure.Storage.Queues;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// A queue of the Queue service, through <see cref="QueueClient"/>. Text is sent base64-encoded, as Functions
/// queue triggers expect by default; messages other clients put as plain text are read as they are.
/// </summary>
internal sealed class AzureMessageQueue(QueueClient client) : IMessageQueue
{
    /// <summary>Messages stay until they are handled: the service's time-to-live of -1 means never expire.</summary>
    private static readonly TimeSpan NeverExpires = TimeSpan.FromSeconds(-1);

    public string Name => client.Name;

    public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) =>
        Run($"Create queue '{Name}'", () => client.CreateIfNotExistsAsync(cancellationToken: cancellationToken), cancellationToken);

    public Task SendAsync(string text, TimeSpan? visibilityDelay = null, CancellationToken cancellationToken = default)
    {
        StorageValidation.MessageText(text);
        var delay = visibilityDelay ?? TimeSpan.Zero;
        StorageValidation.VisibilityTimeout(delay, TimeSpan.Zero, nameof(visibilityDelay));
        return Run(Operation("Send message"), () => client.SendMessageAsync(Encode(text), WholeSeconds(delay), NeverExpires, cancellationToken), cancellationToken);
    }

    public async Task<IReadOnlyList<QueueMessage>> ReceiveAsync(int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        var count = StorageValidation.MessageCount(maxMessages);
        StorageValidation.VisibilityTimeout(visibilityTimeout, TimeSpan.FromSeconds(1), nameof(visibilityTimeout));
        var response = await Run(Operation("Receive messages"), () => client.ReceiveMessagesAsync(count, WholeSeconds(visibilityTimeout), cancellationToken), cancellationToken).ConfigureAwait(false);
        return [.. response.Value.Select(message => new QueueMessage(
            message.MessageId,
            message.PopReceipt,
            message.DequeueCount,
            Decode(message.Body.ToString()),
            message.InsertedOn ?? DateTimeOffset.MinValue))];
    }

    public async Task<QueueMessage> ExtendVisibilityAsync(QueueMessage message, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        StorageValidation.VisibilityTimeout(visibilityTimeout, TimeSpan.Zero, nameof(visibilityTimeout));
        var operation = Operation("Extend visibility of message");
        var receipt = await RunWithReceipt(operation, () => client.UpdateMessageAsync(message.Id, message.PopReceipt, visibilityTimeout: WholeSeconds(visibilityTimeout), cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
        return message with { PopReceipt = receipt.Value.PopReceipt };
    }

    public Task DeleteAsync(QueueMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return RunWithReceipt(Operation("Delete message"), () => client.DeleteMessageAsync(message.Id, message.PopReceipt, cancellationToken), cancellationToken);
    }

    /// <summary>A pop receipt that no longer matches means someone else received the message since: a failed condition.</summary>
    private async Task<T> RunWithReceipt<T>(string operation, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await Run(operation, call, cancellationToken).ConfigureAwait(false);
        }
        catch (StorageException ex) when (ex is { Status: 400, ErrorCode: "PopReceiptMismatch" })
        {
            throw new StorageException(StorageErrorKind.PreconditionFailed, ex.Message, ex.InnerException) { Status = ex.Status, ErrorCode = ex.ErrorCode };
        }
    }

    private static string Encode(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static string Decode(string encoded)
    {
        var buffer = new byte[encoded.Length];
        return Convert.TryFromBase64String(encoded, buffer, out var written) ? Encoding.UTF8.GetString(buffer, 0, written) : encoded;
    }

    /// <summary>The service counts whole seconds; rounding up never shortens a requested timeout.</summary>
    private static TimeSpan WholeSeconds(TimeSpan timeout) => TimeSpan.FromSeconds(Math.Ceiling(timeout.TotalSeconds));

    private Task<T> Run<T>(string operation, Func<Task<T>> call, CancellationToken cancellationToken) =>
        AzureStorageErrors.RunAsync(operation, client.Uri, call, cancellationToken);

    private string Operation(string action) => $"{action} in queue '{Name}'";
}

using System.Globalization;
using System.Text;
using System.Xml.Linq;
using Azure.Core;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// A queue of the Queue service. Text is sent base64-encoded, as Functions queue triggers expect by default, so
/// any text survives the XML the service speaks.
/// </summary>
internal sealed class AzureMessageQueue : IMessageQueue
{
    private readonly StorageServiceClient _client;

    public AzureMessageQueue(StorageServiceClient client, string name)
    {
        StorageValidation.ContainerOrQueueName(name, "queue");
        _client = client;
        Name = name;
    }

    public string Name { get; }

    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        var operation = $"Create queue '{Name}'";
        using var message = CreateCreateQueueRequest();
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);

        // 204 and 409 QueueAlreadyExists both mean it is there; a queue still being deleted is a real conflict.
        if (response.Status is not (201 or 204) && !(response.Status == 409 && StorageServiceClient.ErrorCodeOf(response) != "QueueBeingDeleted"))
        {
            throw StorageServiceClient.Failure(response, operation);
        }
    }

    public async Task SendAsync(string text, TimeSpan? visibilityDelay = null, CancellationToken cancellationToken = default)
    {
        StorageValidation.MessageText(text);
        var delay = visibilityDelay ?? TimeSpan.Zero;
        StorageValidation.VisibilityTimeout(delay, TimeSpan.Zero, nameof(visibilityDelay));
        var operation = Operation("Send message");
        using var message = CreatePutMessageRequest(text, delay);
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw StorageServiceClient.Failure(response, operation);
        }
    }

    public async Task<IReadOnlyList<QueueMessage>> ReceiveAsync(int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        var count = StorageValidation.MessageCount(maxMessages);
        StorageValidation.VisibilityTimeout(visibilityTimeout, TimeSpan.FromSeconds(1), nameof(visibilityTimeout));
        var operation = Operation("Receive messages");
        using var message = CreateGetMessagesRequest(count, visibilityTimeout);
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw StorageServiceClient.Failure(response, operation);
        }

        var list = (await StorageServiceClient.ReadXmlAsync(response, cancellationToken).ConfigureAwait(false)).Root;
        return [.. (list?.Elements("QueueMessage") ?? []).Select(ReadMessage)];
    }

    public async Task<QueueMessage> ExtendVisibilityAsync(QueueMessage message, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        StorageValidation.VisibilityTimeout(visibilityTimeout, TimeSpan.Zero, nameof(visibilityTimeout));
        var operation = Operation("Extend visibility of message");
        using var request = CreateUpdateMessageRequest(message, visibilityTimeout);
        var response = await _client.SendAsync(request, operation, cancellationToken).ConfigureAwait(false);
        if (response.Status != 204)
        {
            throw PopReceiptFailure(response, operation);
        }

        return response.Headers.TryGetValue("x-ms-popreceipt", out var popReceipt)
            ? message with { PopReceipt = popReceipt }
            : throw new StorageException(StorageErrorKind.Failed, $"{operation} succeeded but the service sent no pop receipt.") { Status = response.Status };
    }

    public async Task DeleteAsync(QueueMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var operation = Operation("Delete message");
        using var request = CreateDeleteMessageRequest(message);
        var response = await _client.SendAsync(request, operation, cancellationToken).ConfigureAwait(false);
        if (response.Status != 204)
        {
            throw PopReceiptFailure(response, operation);
        }
    }

    private HttpMessage CreateCreateQueueRequest() => _client.CreateMessage(RequestMethod.Put, "/" + Name);

    private HttpMessage CreatePutMessageRequest(string text, TimeSpan visibilityDelay)
    {
        var message = _client.CreateMessage(RequestMethod.Post, $"/{Name}/messages");
        message.Request.Uri.AppendQuery("visibilitytimeout", Seconds(visibilityDelay));
        message.Request.Uri.AppendQuery("messagettl", "-1");
        SetMessageBody(message.Request, text);
        return message;
    }

    private HttpMessage CreateGetMessagesRequest(int count, TimeSpan visibilityTimeout)
    {
        var message = _client.CreateMessage(RequestMethod.Get, $"/{Name}/messages");
        message.Request.Uri.AppendQuery("numofmessages", count.ToString(CultureInfo.InvariantCulture));
        message.Request.Uri.AppendQuery("visibilitytimeout", Seconds(visibilityTimeout));
        return message;
    }

    /// <summary>Update Message replaces the text too, so the same text goes back with the new visibility.</summary>
    private HttpMessage CreateUpdateMessageRequest(QueueMessage queued, TimeSpan visibilityTimeout)
    {
        var message = _client.CreateMessage(RequestMethod.Put, MessagePath(queued.Id));
        message.Request.Uri.AppendQuery("popreceipt", queued.PopReceipt, escapeValue: true);
        message.Request.Uri.AppendQuery("visibilitytimeout", Seconds(visibilityTimeout));
        SetMessageBody(message.Request, queued.Text);
        return message;
    }

    private HttpMessage CreateDeleteMessageRequest(QueueMessage queued)
    {
        var message = _client.CreateMessage(RequestMethod.Delete, MessagePath(queued.Id));
        message.Request.Uri.AppendQuery("popreceipt", queued.PopReceipt, escapeValue: true);
        return message;
    }

    /// <summary>A pop receipt that no longer matches means someone else received the message since: a failed condition.</summary>
    private static StorageException PopReceiptFailure(Azure.Response response, string operation) =>
        response.Status == 400 && StorageServiceClient.ErrorCodeOf(response) == "PopReceiptMismatch"
            ? StorageServiceClient.Failure(response, operation, StorageErrorKind.PreconditionFailed)
            : StorageServiceClient.Failure(response, operation);

    private static QueueMessage ReadMessage(XElement element)
    {
        var encoded = element.Element("MessageText")?.Value ?? string.Empty;
        return new QueueMessage(
            element.Element("MessageId")?.Value ?? string.Empty,
            element.Element("PopReceipt")?.Value ?? string.Empty,
            long.Parse(element.Element("DequeueCount")?.Value ?? "0", NumberStyles.Integer, CultureInfo.InvariantCulture),
            DecodeText(encoded),
            DateTimeOffset.ParseExact(element.Element("InsertionTime")?.Value ?? string.Empty, "R", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal));
    }

    /// <summary>Messages put by other clients may be plain text; those are returned as they are.</summary>
    private static string DecodeText(string encoded)
    {
        var buffer = new byte[encoded.Length];
        return Convert.TryFromBase64String(encoded, buffer, out var written) ? Encoding.UTF8.GetString(buffer, 0, written) : encoded;
    }

    private static void SetMessageBody(Request request, string text)
    {
        // Base64 needs no XML escaping.
        var body = $"<QueueMessage><MessageText>{Convert.ToBase64String(Encoding.UTF8.GetBytes(text))}</MessageText></QueueMessage>";
        request.Headers.SetValue("Content-Type", "application/xml");
        request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(body));
    }

    /// <summary>The service counts whole seconds; rounding up never shortens a requested timeout.</summary>
    private static string Seconds(TimeSpan timeout) => ((long)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private string MessagePath(string id) => $"/{Name}/messages/{Uri.EscapeDataString(id)}";

    private string Operation(string action) => $"{action} in queue '{Name}'";
}

using System.Net.Http;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using Azure;
using Azure.Identity;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// Turns what the Azure Storage clients throw into <see cref="StorageException"/>s, classified the same way for
/// every service, and with messages that never carry credentials or the service's full diagnostic text.
/// </summary>
internal static class AzureStorageErrors
{
    /// <summary>Runs a storage call; failures become <see cref="StorageException"/>s naming <paramref name="operation"/>.</summary>
    public static async Task<T> RunAsync<T>(string operation, Uri endpoint, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (Translate(ex, operation, endpoint, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    public static async Task RunAsync(string operation, Uri endpoint, Func<Task> call, CancellationToken cancellationToken) =>
        await RunAsync(operation, endpoint, async () =>
        {
            await call().ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// The exception for a call the service refused. The client's exception is not kept: its text carries the
    /// response's content, which for a refused signature can echo what was signed.
    /// </summary>
    private static StorageException Failure(RequestFailedException failure, string operation)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var response = failure.GetRawResponse();
        var (bodyCode, bodyMessage) = ReadErrorBody(response);
        var code = !string.IsNullOrEmpty(failure.ErrorCode) ? failure.ErrorCode
            : response?.Headers.TryGetValue("x-ms-error-code", out var header) == true && !string.IsNullOrEmpty(header) ? header
            : bodyCode;
        var detail = ServiceMessage(failure.Message) ?? bodyMessage;
        var text = $"{operation} failed: {failure.Status} {code ?? "error"}{(detail is null ? string.Empty : $" ({detail})")}.";
        return new StorageException(KindOf(failure.Status), text) { Status = failure.Status, ErrorCode = code };
    }

    private static StorageException? Translate(Exception ex, string operation, Uri endpoint, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested && ex is OperationCanceledException)
        {
            return null;
        }

        return ex switch
        {
            StorageException => null,
            AuthenticationFailedException authentication => new StorageException(
                StorageErrorKind.Unauthorized,
                $"{operation} failed: no Microsoft Entra ID token for Azure Storage could be obtained ({FirstLine(authentication.Message)}).",
                authentication),
            RequestFailedException { Status: > 0 } failed => Failure(failed, operation),
            _ when IsUnreachable(ex) => new StorageException(
                StorageErrorKind.Unavailable,
                $"{operation} failed: the storage service at {endpoint.GetLeftPart(UriPartial.Authority)} did not answer ({Describe(ex)}).",
                ex),
            _ => null,
        };
    }

    /// <summary>The code and the first line of the message of the documented error formats (tables: JSON; blobs and queues: XML).</summary>
    private static (string? Code, string? Message) ReadErrorBody(Response? response)
    {
        try
        {
            var body = response?.Content;
            if (body is null || body.IsEmpty)
            {
                return (null, null);
            }

            var text = body.ToMemory().Span.TrimStart((byte)' ');
            if (text.Length > 0 && text[0] == (byte)'{')
            {
                using var json = JsonDocument.Parse(body.ToMemory());
                if (json.RootElement.TryGetProperty("odata.error", out var error))
                {
                    var code = error.TryGetProperty("code", out var codeElement) ? codeElement.GetString() : null;
                    var message = error.TryGetProperty("message", out var messageElement)
                        ? messageElement.ValueKind == JsonValueKind.Object && messageElement.TryGetProperty("value", out var value) ? value.GetString() : messageElement.GetString()
                        : null;
                    return (code, message is null ? null : FirstLine(message));
                }
            }
            else if (text.Length > 0 && (text[0] == (byte)'<' || text[0] == 0xEF))
            {
                var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };
                using var reader = XmlReader.Create(body.ToStream(), settings);
                var error = XDocument.Load(reader).Root;
                var message = error?.Element("Message")?.Value;
                return (error?.Element("Code")?.Value, message is null ? null : FirstLine(message));
            }
        }
        catch (Exception ex) when (ex is JsonException or XmlException or InvalidOperationException)
        {
            // A body that is not the documented error format still leaves the status and the header's code.
        }

        return (null, null);
    }

    private static StorageErrorKind KindOf(int status) => status switch
    {
        404 => StorageErrorKind.NotFound,
        409 => StorageErrorKind.Conflict,
        412 => StorageErrorKind.PreconditionFailed,
        401 or 403 => StorageErrorKind.Unauthorized,
        408 or 429 or >= 500 => StorageErrorKind.Unavailable,
        _ => StorageErrorKind.Failed,
    };

    private static bool IsUnreachable(Exception ex) => ex switch
    {
        RequestFailedException failed => failed.Status == 0,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsUnreachable),
        HttpRequestException or IOException or TimeoutException or OperationCanceledException => true,
        _ => false,
    };

    private static string Describe(Exception ex)
    {
        while (true)
        {
            switch (ex)
            {
                case AggregateException { InnerExceptions.Count: > 0 } aggregate:
                    ex = aggregate.InnerExceptions[^1];
                    break;
                case RequestFailedException { InnerException: { } inner }:
                    ex = inner;
                    break;
                case OperationCanceledException:
                    return "no answer within the network timeout";
                default:
                    return FirstLine(ex.Message);
            }
        }
    }

    /// <summary>
    /// The first line of the service's own message. The clients append the request id, status, headers and the
    /// response body, which may echo what was signed; none of that is kept.
    /// </summary>
    private static string? ServiceMessage(string message)
    {
        var line = FirstLine(message);
        return line.Length == 0 || line.StartsWith("Service request failed", StringComparison.Ordinal) || line.StartsWith("Status:", StringComparison.Ordinal)
            ? null
            : line;
    }

    private static string FirstLine(string text)
    {
        var line = text.AsSpan().Trim();
        var end = line.IndexOfAny('\r', '\n');
        if (end >= 0)
        {
            line = line[..end].TrimEnd();
        }

        return line.Length > 300 ? string.Concat(line[..300], "…") : line.ToString();
    }
}

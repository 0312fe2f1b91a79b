using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// One Azure Storage service (blob, table or queue) of an account: its pipeline, built once, the requests that
/// address it, and the translation of what comes back into results or <see cref="StorageException"/>s.
/// </summary>
internal sealed class StorageServiceClient
{
    /// <summary>A version that Azure and the storage emulator both accept, and late enough for Entra ID tokens and never-expiring queue messages.</summary>
    internal const string ServiceVersion = "2024-11-04";

    private readonly HttpPipeline _pipeline;

    public StorageServiceClient(Uri endpoint, AzureStorageAccount account, StorageService service, AzureStorageClientOptions options)
    {
        // Without a trailing slash, appending "/resource" to a path-style endpoint gives no empty segment.
        Endpoint = endpoint.AbsolutePath.Length > 1 && endpoint.AbsolutePath.EndsWith('/')
            ? new Uri(endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/'))
            : endpoint;
        Service = service;
        Options = options;
        _pipeline = HttpPipelineBuilder.Build(options, [], [account.CreateAuthenticationPolicy(service)], new ResponseClassifier());
    }

    public Uri Endpoint { get; }

    public StorageService Service { get; }

    public AzureStorageClientOptions Options { get; }

    /// <summary>A request for <paramref name="escapedPath"/> (already escaped, starting with '/') under the service endpoint.</summary>
    public HttpMessage CreateMessage(RequestMethod method, string escapedPath)
    {
        var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(Endpoint);
        request.Uri.AppendPath(escapedPath, escape: false);
        request.Headers.SetValue("x-ms-version", ServiceVersion);
        return message;
    }

    /// <summary>Sends through the pipeline; failures to reach the service or to authenticate become <see cref="StorageException"/>s.</summary>
    public async Task<Response> SendAsync(HttpMessage message, string operation, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            return message.Response;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (AuthenticationFailedException ex)
        {
            throw new StorageException(
                StorageErrorKind.Unauthorized,
                $"{operation} failed: no Microsoft Entra ID token for Azure Storage could be obtained ({FirstLine(ex.Message)}).",
                ex);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            throw new StorageException(
                StorageErrorKind.Unavailable,
                $"{operation} failed: the {ServiceName} service at {Endpoint.GetLeftPart(UriPartial.Authority)} did not answer ({Describe(ex)}).",
                ex);
        }
    }

    /// <summary>The exception for a response the operation did not expect, classified by status.</summary>
    public static StorageException Failure(Response response, string operation, StorageErrorKind? kind = null)
    {
        var (code, detail) = ReadError(response);
        var status = response.Status;
        var text = $"{operation} failed: {status} {code ?? response.ReasonPhrase}{(detail is null ? string.Empty : $" ({detail})")}.";
        return new StorageException(kind ?? KindOf(status), text) { Status = status, ErrorCode = code };
    }

    public static StorageErrorKind KindOf(int status) => status switch
    {
        404 => StorageErrorKind.NotFound,
        409 => StorageErrorKind.Conflict,
        412 => StorageErrorKind.PreconditionFailed,
        401 or 403 => StorageErrorKind.Unauthorized,
        408 or 429 or >= 500 => StorageErrorKind.Unavailable,
        _ => StorageErrorKind.Failed,
    };

    public static string? ErrorCodeOf(Response response) =>
        response.Headers.TryGetValue("x-ms-error-code", out var code) && code.Length > 0 ? code : ReadError(response).Code;

    public static ETag ETagOf(Response response, string operation) =>
        response.Headers.TryGetValue("ETag", out var etag) && etag.Length > 0
            ? new ETag(etag)
            : throw new StorageException(StorageErrorKind.Failed, $"{operation} succeeded but the service sent no ETag.") { Status = response.Status };

    public static DateTimeOffset LastModifiedOf(Response response) =>
        response.Headers.TryGetValue("Last-Modified", out var value)
        && DateTimeOffset.TryParseExact(value, "R", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var lastModified)
            ? lastModified
            : DateTimeOffset.MinValue;

    /// <summary>Reads an XML response body without resolving external entities.</summary>
    public static async Task<XDocument> ReadXmlAsync(Response response, CancellationToken cancellationToken)
    {
        var settings = new XmlReaderSettings { Async = true, DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };
        using var reader = XmlReader.Create(response.ContentStream ?? Stream.Null, settings);
        return await XDocument.LoadAsync(reader, LoadOptions.None, cancellationToken).ConfigureAwait(false);
    }

    private string ServiceName => Service switch
    {
        StorageService.Blob => "blob",
        StorageService.Table => "table",
        _ => "queue",
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
                default:
                    return FirstLine(ex.Message);
            }
        }
    }

    /// <summary>
    /// The error code and the first line of the service's message. Later lines and other elements are left out:
    /// they can echo the string that was signed.
    /// </summary>
    private static (string? Code, string? Message) ReadError(Response response)
    {
        response.Headers.TryGetValue("x-ms-error-code", out var code);
        string? message = null;
        try
        {
            var body = response.Content;
            if (body is not null && !body.IsEmpty)
            {
                var span = body.ToMemory().Span.TrimStart((byte)' ');
                if (span.Length > 0 && span[0] == (byte)'{')
                {
                    using var json = JsonDocument.Parse(body.ToMemory());
                    if (json.RootElement.TryGetProperty("odata.error", out var error))
                    {
                        code ??= error.TryGetProperty("code", out var codeElement) ? codeElement.GetString() : null;
                        message = error.TryGetProperty("message", out var messageElement)
                            ? messageElement.ValueKind == JsonValueKind.Object && messageElement.TryGetProperty("value", out var value) ? value.GetString() : messageElement.GetString()
                            : null;
                    }
                }
                else if (span.Length > 0 && span[0] == (byte)'<' || span.Length > 3 && span[0] == 0xEF)
                {
                    var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };
                    using var reader = XmlReader.Create(body.ToStream(), settings);
                    var error = XDocument.Load(reader).Root;
                    code ??= error?.Element("Code")?.Value;
                    message = error?.Element("Message")?.Value;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or XmlException or InvalidOperationException)
        {
            // A body that is not the documented error format still leaves the status and the header code.
        }

        return (string.IsNullOrEmpty(code) ? null : code, message is null ? null : FirstLine(message));
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

/// <summary>Turns optimistic-concurrency conditions into If-Match / If-None-Match headers, in one place.</summary>
internal static class MatchConditionHeaders
{
    public static void Apply(Request request, MatchConditions conditions)
    {
        if (conditions.IfMatch is { } ifMatch)
        {
            request.Headers.SetValue("If-Match", ifMatch.ToString("H"));
        }

        if (conditions.IfNoneMatch is { } ifNoneMatch)
        {
            request.Headers.SetValue("If-None-Match", ifNoneMatch.ToString("H"));
        }
    }
}

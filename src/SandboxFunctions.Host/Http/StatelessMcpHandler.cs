using System.Buffers;
using System.Net.ServerSentEvents;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SandboxFunctions.Tools;
using SandboxFunctions.Tools.Cancellation;

namespace SandboxFunctions.Host.Http;

/// <summary>
/// Serves MCP Streamable HTTP statelessly: every POST gets its own short-lived MCP server, so any instance
/// can answer any request and nothing about a client is kept in process memory between requests.
/// </summary>
internal sealed partial class StatelessMcpHandler(
    IOptionsFactory<McpServerOptions> serverOptionsFactory,
    IOptions<McpHttpOptions> httpOptions,
    RunningExecutions executions,
    ILoggerFactory loggerFactory,
    ILogger<StatelessMcpHandler> logger)
{
    public const string ProtocolVersionHeader = "MCP-Protocol-Version";
    private const string SessionIdHeader = "Mcp-Session-Id";

    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");
    private static readonly MediaTypeHeaderValue EventStreamMediaType = new("text/event-stream");
    private static readonly JsonTypeInfo<JsonRpcMessage> MessageTypeInfo = GetTypeInfo<JsonRpcMessage>();
    private static readonly JsonTypeInfo<UnsupportedProtocolVersionErrorData> VersionErrorTypeInfo = GetTypeInfo<UnsupportedProtocolVersionErrorData>();

    // Later revisions replace these methods (server/discover, per-request log levels, subscriptions/listen).
    private static readonly string[] MethodsRemovedInPerRequestRevisions =
        ["initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"];

    /// <summary>
    /// Built once: building runs every configuration of the options, tool registration with its schemas included,
    /// which costs milliseconds; the server only reads them, so every request's server shares one instance.
    /// </summary>
    private readonly Lazy<McpServerOptions> _serverOptions = new(() =>
    {
        var options = serverOptionsFactory.Create(Options.DefaultName);

        // The request's own service scope serves the tools.
        options.ScopeRequests = false;
        return options;
    });

    private enum ResponseFormat
    {
        Json,
        EventStream,
    }

    public async Task HandlePostAsync(HttpContext context)
    {
        var (acceptsJson, acceptsEventStream) = ReadAccept(context.Request);
        if (!acceptsJson && !acceptsEventStream)
        {
            await JsonRpcErrors.WriteAsync(context, StatusCodes.Status406NotAcceptable, JsonRpcErrors.ServerError,
                "Not Acceptable: the Accept header must allow application/json or text/event-stream (MCP clients send both).");
            return;
        }

        if (!IsJsonContentType(context.Request.ContentType))
        {
            await JsonRpcErrors.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, JsonRpcErrors.ServerError,
                "Unsupported Media Type: send the JSON-RPC message with Content-Type: application/json.");
            return;
        }

        var body = await ReadBodyAsync(context);
        if (body is null)
        {
            return;
        }

        if (!IsWellFormedJson(body.Value.Span))
        {
            await JsonRpcErrors.WriteAsync(context, StatusCodes.Status400BadRequest, JsonRpcErrors.ParseError,
                "Parse error: the request body is not valid JSON.");
            return;
        }

        var message = TryReadMessage(body.Value.Span);
        if (message is null)
        {
            var detail = body.Value.Span.TrimStart(" \t\r\n"u8) is [(byte)'[', ..]
                ? "Invalid Request: JSON-RPC batches are not supported; send one message per request."
                : "Invalid Request: the body is JSON but not a JSON-RPC 2.0 request, notification or response.";
            await JsonRpcErrors.WriteAsync(context, StatusCodes.Status400BadRequest, JsonRpcErrors.InvalidRequest, detail);
            return;
        }

        var requestId = message is JsonRpcRequest request ? request.Id : default;
        var protocolVersion = context.Request.Headers[ProtocolVersionHeader].ToString();
        var rejection = ValidateProtocol(context, message, protocolVersion);
        if (rejection is not null)
        {
            await JsonRpcErrors.WriteAsync(context, rejection.Value.StatusCode, rejection.Value.Detail, requestId);
            return;
        }

        message.Context ??= new JsonRpcMessageContext();
        message.Context.User = context.User;
        if (protocolVersion.Length > 0)
        {
            message.Context.ProtocolVersion = protocolVersion;
        }

        if (message is JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled)
        {
            await CancelRequestAsync(context, cancelled);
            return;
        }

        // Tool calls may stream progress and log notifications, so they get an event stream whenever the
        // client accepts one; everything else is a single JSON response.
        var isToolCall = message is JsonRpcRequest { Method: RequestMethods.ToolsCall };
        var format = acceptsEventStream && (isToolCall || !acceptsJson) ? ResponseFormat.EventStream : ResponseFormat.Json;

        await ServeAsync(context, message, format, McpProtocolVersions.RequiresPerRequestMetadata(protocolVersion));
    }

    /// <summary>
    /// Each request has its own server here, so a cancel arriving in another request never reaches the SDK's own
    /// bookkeeping; it goes to the executions the caller's request started, on this instance or, through storage, another.
    /// </summary>
    private async Task CancelRequestAsync(HttpContext context, JsonRpcNotification notification)
    {
        var parameters = notification.Params?.Deserialize(GetTypeInfo<CancelledNotificationParams>());
        if (parameters is not null)
        {
            try
            {
                await executions.CancelRequestAsync(Callers.GetOwner(context.User), parameters.RequestId.ToString(), context.RequestAborted);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A notification has no response to carry an error; the execution ends at its timeout instead.
                LogCancelFailed(logger, parameters.RequestId.ToString(), ex.Message);
            }
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not pass on the cancellation of request {RequestId}: {Reason}")]
    private static partial void LogCancelFailed(ILogger logger, string requestId, string reason);

    public static Task HandleUnsupportedMethodAsync(HttpContext context)
    {
        context.Response.Headers.Allow = HttpMethods.Post;
        return JsonRpcErrors.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, JsonRpcErrors.ServerError,
            $"Method Not Allowed: this server is stateless and only accepts POST; {context.Request.Method} has nothing to open or close.");
    }

    private async Task ServeAsync(HttpContext context, JsonRpcMessage message, ResponseFormat format, bool perRequestRevision)
    {
        var serverOptions = _serverOptions.Value;
        var transport = new StreamableHttpServerTransport(loggerFactory) { Stateless = true };
        using var serverLifetime = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var server = McpServer.Create(transport, serverOptions, loggerFactory, context.RequestServices);
        var serverRun = server.RunAsync(serverLifetime.Token);
        try
        {
            if (format == ResponseFormat.EventStream)
            {
                await WriteEventStreamAsync(context, transport, message, perRequestRevision);
            }
            else
            {
                await WriteJsonAsync(context, transport, message, perRequestRevision);
            }
        }
        finally
        {
            await transport.DisposeAsync();
            await serverLifetime.CancelAsync();
            try
            {
                await serverRun;
            }
            catch (OperationCanceledException)
            {
            }

            await server.DisposeAsync();
        }
    }

    private static async Task WriteEventStreamAsync(HttpContext context, StreamableHttpServerTransport transport, JsonRpcMessage message, bool perRequestRevision)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache,no-store";
        response.Headers.ContentEncoding = "identity";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();

        var wrote = await transport.HandlePostRequestAsync(
            message,
            response.Body,
            first =>
            {
                if (perRequestRevision && first is JsonRpcError error && !response.HasStarted)
                {
                    response.StatusCode = StatusFor(error);
                }

                return default;
            },
            context.RequestAborted);

        if (!wrote)
        {
            response.Headers.ContentType = (string?)null;
            response.StatusCode = StatusCodes.Status202Accepted;
        }
    }

    private static async Task WriteJsonAsync(HttpContext context, StreamableHttpServerTransport transport, JsonRpcMessage message, bool perRequestRevision)
    {
        using var events = new MemoryStream();
        if (!await transport.HandlePostRequestAsync(message, events, context.RequestAborted))
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }

        events.Position = 0;
        JsonRpcMessage? final = null;
        var parser = SseParser.Create(events, static (_, data) => JsonSerializer.Deserialize(data, MessageTypeInfo));
        await foreach (var item in parser.EnumerateAsync(context.RequestAborted))
        {
            if (item.Data is JsonRpcResponse or JsonRpcError)
            {
                final = item.Data;
            }
        }

        if (final is null)
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }

        context.Response.StatusCode = perRequestRevision && final is JsonRpcError error ? StatusFor(error) : StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, final, MessageTypeInfo, context.RequestAborted);
    }

    private static int StatusFor(JsonRpcError error) => (McpErrorCode)error.Error.Code switch
    {
        McpErrorCode.MethodNotFound => StatusCodes.Status404NotFound,
        McpErrorCode.MissingRequiredClientCapability
            or McpErrorCode.UnsupportedProtocolVersion
            or McpErrorCode.HeaderMismatch => StatusCodes.Status400BadRequest,
        _ => StatusCodes.Status200OK,
    };

    private static (int StatusCode, JsonRpcErrorDetail Detail)? ValidateProtocol(HttpContext context, JsonRpcMessage message, string headerVersion)
    {
        if (headerVersion.Length > 0 && !McpProtocolVersions.IsSupported(headerVersion))
        {
            var data = new UnsupportedProtocolVersionErrorData { Supported = McpProtocolVersions.Supported, Requested = headerVersion };
            return (StatusCodes.Status400BadRequest, new JsonRpcErrorDetail
            {
                Code = (int)McpErrorCode.UnsupportedProtocolVersion,
                Message = $"Bad Request: MCP-Protocol-Version '{headerVersion}' is not supported; use one of {string.Join(", ", McpProtocolVersions.Supported)}.",
                Data = JsonSerializer.SerializeToNode(data, VersionErrorTypeInfo),
            });
        }

        if (context.Request.Headers.ContainsKey(SessionIdHeader))
        {
            return BadRequest(JsonRpcErrors.InvalidRequest,
                "Bad Request: this server is stateless and issues no Mcp-Session-Id; send requests without that header.");
        }

        var parameters = (message as JsonRpcRequest)?.Params ?? (message as JsonRpcNotification)?.Params;
        var meta = parameters is JsonObject paramsObject ? paramsObject["_meta"] as JsonObject : null;
        var metaVersion = meta?[MetaKeys.ProtocolVersion] is JsonValue value && value.TryGetValue(out string? text) ? text : null;

        if (message is JsonRpcRequest { Method: RequestMethods.Initialize } initialize
            && headerVersion.Length > 0
            && initialize.Params?["protocolVersion"] is JsonValue requested
            && requested.TryGetValue(out string? initializeVersion)
            && initializeVersion != headerVersion)
        {
            return BadRequest((int)McpErrorCode.HeaderMismatch,
                $"Bad Request: MCP-Protocol-Version '{headerVersion}' does not match params.protocolVersion '{initializeVersion}'.");
        }

        if (!McpProtocolVersions.RequiresPerRequestMetadata(headerVersion) && !McpProtocolVersions.RequiresPerRequestMetadata(metaVersion))
        {
            return null;
        }

        if (headerVersion.Length == 0)
        {
            return BadRequest((int)McpErrorCode.HeaderMismatch,
                $"Bad Request: the body declares protocol version '{metaVersion}', so the MCP-Protocol-Version header is required.");
        }

        if (message is not JsonRpcRequest perRequest)
        {
            return null;
        }

        if (metaVersion is null)
        {
            return BadRequest(JsonRpcErrors.InvalidParams,
                $"Requests using protocol version '{headerVersion}' must include params._meta[\"{MetaKeys.ProtocolVersion}\"].");
        }

        if (metaVersion != headerVersion)
        {
            return BadRequest((int)McpErrorCode.HeaderMismatch,
                $"Bad Request: MCP-Protocol-Version '{headerVersion}' does not match _meta protocol version '{metaVersion}'.");
        }

        if (MethodsRemovedInPerRequestRevisions.Contains(perRequest.Method, StringComparer.Ordinal))
        {
            return (StatusCodes.Status404NotFound, new JsonRpcErrorDetail
            {
                Code = JsonRpcErrors.MethodNotFound,
                Message = $"Method '{perRequest.Method}' does not exist in protocol version '{headerVersion}'.",
            });
        }

        if (meta![MetaKeys.ClientCapabilities] is not JsonObject)
        {
            return BadRequest(JsonRpcErrors.InvalidParams,
                $"Requests using protocol version '{headerVersion}' must include params._meta[\"{MetaKeys.ClientCapabilities}\"] as an object.");
        }

        return null;

        static (int, JsonRpcErrorDetail) BadRequest(int code, string text) =>
            (StatusCodes.Status400BadRequest, new JsonRpcErrorDetail { Code = code, Message = text });
    }

    private async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpContext context)
    {
        var limit = httpOptions.Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            await WriteTooLargeAsync(context, limit);
            return null;
        }

        // The limit is enforced here, with a JSON-RPC error, instead of by the server's generic one.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        var body = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                if (body.Length + read > limit)
                {
                    await WriteTooLargeAsync(context, limit);
                    return null;
                }

                body.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return body.GetBuffer().AsMemory(0, (int)body.Length);
    }

    private static Task WriteTooLargeAsync(HttpContext context, long limit) =>
        JsonRpcErrors.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, JsonRpcErrors.PayloadTooLarge,
            $"Payload Too Large: the request body exceeds the {limit}-byte limit (Mcp:MaxRequestBodyBytes). Send large content in smaller parts.");

    private static bool IsWellFormedJson(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        try
        {
            while (reader.Read())
            {
            }

            return reader.BytesConsumed > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static JsonRpcMessage? TryReadMessage(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, MessageTypeInfo);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static (bool Json, bool EventStream) ReadAccept(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        if (accept.Count == 0)
        {
            return (true, false);
        }

        return (accept.Any(JsonMediaType.IsSubsetOf), accept.Any(EventStreamMediaType.IsSubsetOf));
    }

    private static bool IsJsonContentType(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed) && parsed.IsSubsetOf(JsonMediaType);

    private static JsonTypeInfo<T> GetTypeInfo<T>() => (JsonTypeInfo<T>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T));
}

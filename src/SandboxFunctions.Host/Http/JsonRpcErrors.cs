using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace SandboxFunctions.Host.Http;

/// <summary>Writes HTTP-level failures as JSON-RPC error objects, which MCP clients know how to read.</summary>
internal static class JsonRpcErrors
{
    public const int ServerError = -32000;
    public const int Unauthorized = -32001;
    public const int Forbidden = -32003;
    public const int PayloadTooLarge = -32004;
    public const int ParseError = (int)McpErrorCode.ParseError;
    public const int InvalidRequest = (int)McpErrorCode.InvalidRequest;
    public const int MethodNotFound = (int)McpErrorCode.MethodNotFound;
    public const int InvalidParams = (int)McpErrorCode.InvalidParams;

    public static Task WriteAsync(HttpContext context, int statusCode, int code, string message, RequestId id = default, JsonNode? data = null) =>
        WriteAsync(context, statusCode, new JsonRpcErrorDetail { Code = code, Message = message, Data = data }, id);

    public static async Task WriteAsync(HttpContext context, int statusCode, JsonRpcErrorDetail detail, RequestId id = default)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        var error = new JsonRpcError { Id = id, Error = detail };
        await JsonSerializer.SerializeAsync(context.Response.Body, error, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcError)), context.RequestAborted).ConfigureAwait(false);
    }
}

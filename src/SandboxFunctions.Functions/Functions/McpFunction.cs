using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using SandboxFunctions.Host.Http;

namespace SandboxFunctions.Functions;

/// <summary>The MCP Streamable HTTP endpoint. The host checks the function key; the response streams progress as server-sent events.</summary>
public sealed class McpFunction(McpRequests requests)
{
    public const string Name = "mcp";

    [Function(Name)]
    public Task RunAsync([HttpTrigger(AuthorizationLevel.Function, "get", "post", "delete", Route = "mcp")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return requests.ServeAsync(request.HttpContext);
    }
}

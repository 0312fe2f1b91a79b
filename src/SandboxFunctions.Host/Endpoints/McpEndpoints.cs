using SandboxFunctions.Host.Http;

namespace SandboxFunctions.Host.Endpoints;

public static class McpEndpoints
{
    /// <summary>Maps the MCP Streamable HTTP endpoint.</summary>
    public static RouteHandlerBuilder MapMcp(this IEndpointRouteBuilder endpoints, string pattern = "/mcp")
    {
        if (endpoints.ServiceProvider.GetService<IServiceProviderIsService>()?.IsService(typeof(McpRequests)) != true)
        {
            throw new InvalidOperationException(
                "The MCP HTTP services are not registered. Call builder.AddSandboxHttpServer() before MapMcp().");
        }

        return endpoints.MapMethods(pattern, [HttpMethods.Get, HttpMethods.Post, HttpMethods.Delete], (HttpContext context, McpRequests requests) => requests.ServeAsync(context));
    }
}

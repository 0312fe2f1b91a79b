using SandboxFunctions.Host.Http;

namespace SandboxFunctions.Host.Endpoints;

public static class McpEndpoints
{
    /// <summary>Maps the MCP Streamable HTTP endpoint.</summary>
    public static RouteGroupBuilder MapMcp(this IEndpointRouteBuilder endpoints, string pattern = "/mcp")
    {
        if (endpoints.ServiceProvider.GetService<StatelessMcpHandler>() is null)
        {
            throw new InvalidOperationException(
                "The MCP HTTP services are not registered. Call builder.AddSandboxHttpServer() before MapMcp().");
        }

        var group = endpoints.MapGroup(pattern)
            .RequireAuthorization()
            .AddEndpointFilter<OriginFilter>();

        group.MapPost("", (HttpContext context, StatelessMcpHandler handler) => handler.HandlePostAsync(context));
        group.MapGet("", (HttpContext context) => StatelessMcpHandler.HandleUnsupportedMethodAsync(context));
        group.MapDelete("", (HttpContext context) => StatelessMcpHandler.HandleUnsupportedMethodAsync(context));
        return group;
    }
}

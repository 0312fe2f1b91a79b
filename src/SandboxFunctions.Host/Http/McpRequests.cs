namespace SandboxFunctions.Host.Http;

/// <summary>
/// Every request to the MCP endpoint, whoever hosts it (the standalone server's route, the Functions app's HTTP
/// trigger): the browser origin is checked, the caller is identified by function key, and the request goes to the
/// stateless MCP handler as that caller.
/// </summary>
public sealed class McpRequests
{
    private readonly OriginPolicy _origins;
    private readonly CallerIdentity _callers;
    private readonly StatelessMcpHandler _handler;

    internal McpRequests(OriginPolicy origins, CallerIdentity callers, StatelessMcpHandler handler)
    {
        _origins = origins;
        _callers = callers;
        _handler = handler;
    }

    public async Task ServeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var origin = context.Request.Headers.Origin.ToString();
        if (!_origins.IsAllowed(origin))
        {
            await JsonRpcErrors.WriteAsync(context, StatusCodes.Status403Forbidden, JsonRpcErrors.Forbidden,
                $"Forbidden: origin '{origin}' is not allowed. Add it to Mcp:AllowedOrigins to let browser clients from it connect.");
            return;
        }

        var caller = _callers.Identify(context.Request);
        if (caller.Principal is not { } principal)
        {
            context.Response.Headers.WWWAuthenticate = CallerIdentity.SchemeName;
            await JsonRpcErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, JsonRpcErrors.Unauthorized, $"Unauthorized: {caller.Refusal}");
            return;
        }

        context.User = principal;
        if (HttpMethods.IsPost(context.Request.Method))
        {
            await _handler.HandlePostAsync(context);
        }
        else
        {
            await StatelessMcpHandler.HandleUnsupportedMethodAsync(context);
        }
    }
}

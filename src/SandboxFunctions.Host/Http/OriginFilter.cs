namespace SandboxFunctions.Host.Http;

/// <summary>Refuses requests whose Origin the <see cref="OriginPolicy"/> does not allow.</summary>
internal sealed class OriginFilter(OriginPolicy policy) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var origin = context.HttpContext.Request.Headers.Origin.ToString();
        if (policy.IsAllowed(origin))
        {
            return await next(context);
        }

        await JsonRpcErrors.WriteAsync(context.HttpContext, StatusCodes.Status403Forbidden, JsonRpcErrors.Forbidden,
            $"Forbidden: origin '{origin}' is not allowed. Add it to Mcp:AllowedOrigins to let browser clients from it connect.");
        return Results.Empty;
    }
}

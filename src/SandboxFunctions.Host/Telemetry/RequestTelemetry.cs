using System.Diagnostics;

namespace SandboxFunctions.Host.Telemetry;

/// <summary>
/// Names each request's span after its method and path and records the address and status code, which exporters
/// need to show requests. The query string stays out: it may carry a function key.
/// </summary>
internal static class RequestTelemetry
{
    public static IApplicationBuilder UseRequestTelemetry(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var activity = Activity.Current;
        try
        {
            await next(context);
        }
        finally
        {
            if (activity is { Source.Name: "Microsoft.AspNetCore" })
            {
                var method = context.Request.Method;
                var path = context.Request.Path.Value ?? "/";
                activity.DisplayName = $"{method} {path}";
                activity.SetTag("http.request.method", method);
                activity.SetTag("url.scheme", context.Request.Scheme);
                activity.SetTag("server.address", context.Request.Host.Host);
                activity.SetTag("server.port", context.Request.Host.Port);
                activity.SetTag("url.path", path);
                activity.SetTag("http.response.status_code", context.Response.StatusCode);
            }
        }
    });
}

using SandboxFunctions.Sandbox;
using SandboxFunctions.Sessions;

namespace SandboxFunctions.Host.Endpoints;

public static class HealthEndpoints
{
    /// <summary>Maps <c>GET /health</c>: status, version, runtimes and storage reachability, never secrets.</summary>
    public static RouteHandlerBuilder MapHealth(this IEndpointRouteBuilder endpoints, string pattern = "/health") =>
        endpoints.MapGet(pattern, GetHealthAsync).AllowAnonymous();

    private static async Task<IResult> GetHealthAsync(RuntimeCatalog runtimes, IStorageHealthProbe storage, CancellationToken cancellationToken)
    {
        var storageStatus = await storage.CheckAsync(cancellationToken);
        var report = new HealthReport(
            storageStatus.Reachable ? "ok" : "degraded",
            ServerVersion.Current,
            [.. runtimes.Runtimes.Select(r => new HealthRuntime(r.Language, r.Version))],
            new HealthStorage(storageStatus.Kind, storageStatus.Reachable, storageStatus.Error));
        return TypedResults.Json(report, statusCode: storageStatus.Reachable ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    internal sealed record HealthReport(string Status, string Version, IReadOnlyList<HealthRuntime> Runtimes, HealthStorage Storage);

    internal sealed record HealthRuntime(string Language, string Version);

    internal sealed record HealthStorage(string Kind, bool Reachable, string? Error);
}

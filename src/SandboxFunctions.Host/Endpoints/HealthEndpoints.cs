using SandboxFunctions.Sandbox;
using SandboxFunctions.Sessions;

namespace SandboxFunctions.Host.Endpoints;

public static class HealthEndpoints
{
    /// <summary>Maps <c>GET /health</c>: status, version, runtimes and storage reachability, never secrets.</summary>
    public static RouteHandlerBuilder MapHealth(this IEndpointRouteBuilder endpoints, string pattern = "/health") =>
        endpoints.MapGet(pattern, (RuntimeCatalog runtimes, IStorageHealthProbe storage, CancellationToken cancellationToken) => CheckAsync(runtimes, storage, cancellationToken))
            .AllowAnonymous();

    /// <summary>The health report: 200 when storage answers, 503 when it does not.</summary>
    public static async Task<IResult> CheckAsync(RuntimeCatalog runtimes, IStorageHealthProbe storage, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtimes);
        ArgumentNullException.ThrowIfNull(storage);
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

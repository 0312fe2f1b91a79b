using SandboxFunctions.Sessions;

namespace SandboxFunctions.Host.Endpoints;

/// <summary>
/// Routes the Azure Functions host calls for the app's non-HTTP functions (folders under functions/): the host
/// POSTs each invocation to <c>/{function name}</c> and expects <c>{"Outputs", "Logs", "ReturnValue"}</c> back;
/// any other status fails the invocation. Mapped only under the Functions host, which alone can reach them.
/// </summary>
public static class FunctionTriggerEndpoints
{
    public static IEndpointRouteBuilder MapFunctionTriggers(this IEndpointRouteBuilder endpoints)
    {
        if (endpoints.ServiceProvider.GetRequiredService<ListenPlan>().BehindFunctionsHost)
        {
            endpoints.MapPost("/reaper", ReapAsync).AllowAnonymous();
        }

        return endpoints;
    }

    private static async Task<IResult> ReapAsync(SessionReaper reaper, CancellationToken cancellationToken)
    {
        var result = await reaper.ReapAsync(cancellationToken);
        return TypedResults.Json(new InvocationResponse(
            new Dictionary<string, object?>(),
            [$"Reaped {result.ExpiredSessions} expired sessions and {result.OrphanedSnapshots} unreferenced snapshots."],
            null));
    }

    internal sealed record InvocationResponse(
        [property: System.Text.Json.Serialization.JsonPropertyName("Outputs")] IReadOnlyDictionary<string, object?> Outputs,
        [property: System.Text.Json.Serialization.JsonPropertyName("Logs")] IReadOnlyList<string> Logs,
        [property: System.Text.Json.Serialization.JsonPropertyName("ReturnValue")] object? ReturnValue);
}

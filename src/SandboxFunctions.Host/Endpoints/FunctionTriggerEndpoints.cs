using System.Text.Json;
using SandboxFunctions.Sessions;
using SandboxFunctions.Tools.Jobs;

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
            endpoints.MapPost("/jobs", RunJobAsync).AllowAnonymous();
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

    /// <summary>
    /// A job's queue message: the host keeps it invisible while this runs and deletes it on success; a failure
    /// (only storage trouble gets here) makes the host deliver it again, and poison-queue it after repeated failures.
    /// </summary>
    private static async Task<IResult> RunJobAsync(HttpRequest request, JobRunner runner, CancellationToken cancellationToken)
    {
        using var invocation = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        if (!invocation.RootElement.TryGetProperty("Data", out var data) || !data.TryGetProperty("message", out var text))
        {
            return TypedResults.BadRequest(new InvocationResponse(new Dictionary<string, object?>(), ["The invocation carries no Data.message."], null));
        }

        JobMessage message;
        try
        {
            message = JobStore.ParseMessage(text.ValueKind == JsonValueKind.String ? text.GetString()! : text.GetRawText());
        }
        catch (JsonException ex)
        {
            // A message that is not a job can never succeed; answering success drops it instead of retrying it.
            return TypedResults.Json(new InvocationResponse(new Dictionary<string, object?>(), [$"Dropped a queue message that is not a job: {ex.Message}"], null));
        }

        await runner.ProcessAsync(message, cancellationToken);
        return TypedResults.Json(new InvocationResponse(new Dictionary<string, object?>(), [$"Handled job {message.JobId}."], null));
    }

    internal sealed record InvocationResponse(
        [property: System.Text.Json.Serialization.JsonPropertyName("Outputs")] IReadOnlyDictionary<string, object?> Outputs,
        [property: System.Text.Json.Serialization.JsonPropertyName("Logs")] IReadOnlyList<string> Logs,
        [property: System.Text.Json.Serialization.JsonPropertyName("ReturnValue")] object? ReturnValue);
}

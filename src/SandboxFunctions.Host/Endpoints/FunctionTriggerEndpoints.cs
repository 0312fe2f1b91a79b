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
            endpoints.MapPost("/jobs-poison", GiveUpJobAsync).AllowAnonymous();
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
    /// A job's queue message: the host keeps it invisible while this runs and deletes it on success; a failure makes
    /// the host deliver it again. The runner answers the last delivery by reporting the job failed.
    /// </summary>
    private static Task<IResult> RunJobAsync(HttpRequest request, JobRunner runner, CancellationToken cancellationToken) =>
        HandleJobMessageAsync(request, "Handled", (message, invocation) => runner.ProcessAsync(message, DeliveryOf(invocation), cancellationToken), cancellationToken);

    /// <summary>
    /// A job's message that the host moved to the poison queue, because even its last delivery could not report the
    /// job failed (storage was down throughout): reporting it now keeps it from holding back its session's later jobs.
    /// </summary>
    private static Task<IResult> GiveUpJobAsync(HttpRequest request, JobRunner runner, CancellationToken cancellationToken) =>
        HandleJobMessageAsync(request, "Gave up on", (message, _) => runner.GiveUpAsync(message, cancellationToken), cancellationToken);

    private static async Task<IResult> HandleJobMessageAsync(HttpRequest request, string outcome, Func<JobMessage, JsonElement, Task> handle, CancellationToken cancellationToken)
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

        await handle(message, invocation.RootElement);
        return TypedResults.Json(new InvocationResponse(new Dictionary<string, object?>(), [$"{outcome} job {message.JobId}."], null));
    }

    /// <summary>The host's count of deliveries of the message, in the invocation's metadata; 1 when it is missing.</summary>
    private static long DeliveryOf(JsonElement invocation) =>
        invocation.TryGetProperty("Metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object && metadata.TryGetProperty("DequeueCount", out var count)
            ? count.ValueKind switch
            {
                JsonValueKind.Number when count.TryGetInt64(out var number) => number,
                JsonValueKind.String when long.TryParse(count.GetString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) => number,
                _ => 1,
            }
            : 1;

    internal sealed record InvocationResponse(
        [property: System.Text.Json.Serialization.JsonPropertyName("Outputs")] IReadOnlyDictionary<string, object?> Outputs,
        [property: System.Text.Json.Serialization.JsonPropertyName("Logs")] IReadOnlyList<string> Logs,
        [property: System.Text.Json.Serialization.JsonPropertyName("ReturnValue")] object? ReturnValue);
}

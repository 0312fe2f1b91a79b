using System.Text.Json;

namespace SandboxFunctions.Sandbox.Execution;

/// <summary>What a runtime reports for a call that did not trap.</summary>
internal sealed record GuestOutcome(GuestValue? Result, GuestError? Error, bool OutOfMemory = false)
{
    /// <summary>
    /// Reads the response the guest-side runtimes write:
    /// <c>{"result": {"repr", "json"?, "type"} | null, "error": {"type", "message", "traceback"} | null}</c>.
    /// </summary>
    public static GuestOutcome FromJson(ReadOnlySpan<byte> json, Func<GuestError, bool> isOutOfMemory)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        GuestValue? value = null;
        if (root.TryGetProperty("result", out var result) && result.ValueKind == JsonValueKind.Object)
        {
            value = new GuestValue(
                result.GetProperty("repr").GetString() ?? string.Empty,
                result.TryGetProperty("json", out var jsonValue) ? jsonValue.Clone() : null,
                result.GetProperty("type").GetString() ?? "object");
        }

        GuestError? error = null;
        if (root.TryGetProperty("error", out var failure) && failure.ValueKind == JsonValueKind.Object)
        {
            error = new GuestError(
                failure.GetProperty("type").GetString() ?? "Error",
                failure.GetProperty("message").GetString() ?? string.Empty,
                failure.TryGetProperty("traceback", out var traceback) && traceback.ValueKind == JsonValueKind.String ? traceback.GetString() : null);
        }

        return new GuestOutcome(value, error, error is not null && isOutOfMemory(error));
    }
}

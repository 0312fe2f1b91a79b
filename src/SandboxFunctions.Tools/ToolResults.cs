using System.Text;
using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace SandboxFunctions.Tools;

/// <summary>
/// Builds tool results that carry both structured content and a text summary: many clients show models
/// only the text, so the summary holds what matters, and the structure holds everything.
/// </summary>
internal static class ToolResults
{
    public static CallToolResult Success<T>(T value, string summary, IEnumerable<ContentBlock>? extra = null) => new()
    {
        StructuredContent = JsonSerializer.SerializeToElement(value, ToolJson.Options),
        Content = [new TextContentBlock { Text = summary }, .. extra ?? []],
    };

    /// <summary>A result for a call that ran but failed (e.g. the code raised or timed out), with its full details.</summary>
    public static CallToolResult Failure<T>(T value, string summary, IEnumerable<ContentBlock>? extra = null)
    {
        var result = Success(value, summary, extra);
        result.IsError = true;
        return result;
    }

    /// <summary>A result for a call that could not run; the structure holds only the error.</summary>
    public static CallToolResult Failure(ToolError error) => new()
    {
        IsError = true,
        StructuredContent = JsonSerializer.SerializeToElement(new ErrorOnly(error), ToolJson.Options),
        Content = [new TextContentBlock { Text = Describe(error) }],
    };

    public static string Describe(ToolError error)
    {
        var text = new StringBuilder($"Error {error.Code}: {error.Message}");
        foreach (var suggestion in error.Suggestions)
        {
            text.Append($"\n- {suggestion}");
        }

        return text.ToString();
    }

    private sealed record ErrorOnly(ToolError Error);
}

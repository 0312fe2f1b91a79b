using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace SandboxFunctions.Tools;

/// <summary>Builds tool results that carry both structured content and a summary a model can read.</summary>
internal static class ToolResults
{
    public static CallToolResult Success<T>(T value, string summary) => new()
    {
        StructuredContent = JsonSerializer.SerializeToElement(value, ToolJson.Options),
        Content = [new TextContentBlock { Text = summary }],
    };
}

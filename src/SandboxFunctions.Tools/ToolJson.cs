using System.Text.Json;
using System.Text.Json.Serialization;

namespace SandboxFunctions.Tools;

/// <summary>The JSON conventions of every tool result: snake_case names that clients can rely on.</summary>
internal static class ToolJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>An enum value as results spell it.</summary>
    public static string Name<T>(T value)
        where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(ModelContextProtocol.McpJsonUtilities.DefaultOptions)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.MakeReadOnly();
        return options;
    }
}

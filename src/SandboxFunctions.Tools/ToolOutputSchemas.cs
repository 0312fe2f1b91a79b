using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Server;

namespace SandboxFunctions.Tools;

/// <summary>
/// Makes each tool's advertised output schema describe what its results really hold. Schemas generated from the
/// result types require every constructor parameter, but a failed call answers with only <c>error</c>, and
/// <see cref="ToolJson"/> leaves out members that are null. Clients that validate results against the schema (as
/// the official TypeScript client does after listing tools) would otherwise reject valid results.
/// </summary>
internal sealed class ToolOutputSchemas : IPostConfigureOptions<McpServerOptions>
{
    public void PostConfigure(string? name, McpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var tool in options.ToolCollection ?? [])
        {
            if (tool.ProtocolTool.OutputSchema is { } schema)
            {
                tool.ProtocolTool.OutputSchema = Describe(schema);
            }
        }
    }

    /// <summary>The schema with nothing required at its root (any result may be an error) and no member required that may be null.</summary>
    public static JsonElement Describe(JsonElement schema)
    {
        if (JsonNode.Parse(schema.GetRawText()) is not JsonObject root)
        {
            return schema;
        }

        root.Remove("required");
        RelaxNullableMembers(root);
        using var document = JsonDocument.Parse(root.ToJsonString());
        return document.RootElement.Clone();
    }

    private static void RelaxNullableMembers(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["properties"] is JsonObject properties && obj["required"] is JsonArray required)
                {
                    var kept = required
                        .Select(r => r?.GetValue<string>())
                        .Where(n => n is not null && !(properties[n] is { } member && MayBeNull(member)))
                        .Select(n => (JsonNode?)JsonValue.Create(n))
                        .ToArray();
                    obj["required"] = new JsonArray(kept);
                }

                foreach (var (_, child) in obj)
                {
                    RelaxNullableMembers(child);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    RelaxNullableMembers(child);
                }

                break;
        }
    }

    /// <summary>Whether a member's schema admits null: its type lists null, or it has no type at all (any JSON value).</summary>
    private static bool MayBeNull(JsonNode member) => member["type"] switch
    {
        null => member["anyOf"] is null && member["oneOf"] is null && member["$ref"] is null && member["enum"] is null && member["const"] is null,
        JsonArray types => types.Any(t => t?.GetValue<string>() == "null"),
        JsonValue type => type.GetValue<string>() == "null",
        _ => false,
    };
}

using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace SandboxFunctions.Tools;

/// <summary>
/// Checks a tool call's arguments against the tool's input schema before it runs. Missing, mistyped or
/// unknown arguments are protocol misuse and get a JSON-RPC invalid-params error naming the argument;
/// an unknown one is refused rather than ignored, so that a misspelt session_id cannot silently start a new session.
/// </summary>
internal static class ToolArguments
{
    public static void Validate(RequestContext<CallToolRequestParams> context)
    {
        if (context.MatchedPrimitive is not McpServerTool tool)
        {
            return;
        }

        var schema = tool.ProtocolTool.InputSchema;
        var arguments = context.Params?.Arguments ?? new Dictionary<string, JsonElement>();
        var properties = schema.TryGetProperty("properties", out var declared) ? declared : default;
        var name = tool.ProtocolTool.Name;

        if (schema.TryGetProperty("required", out var required))
        {
            foreach (var property in required.EnumerateArray().Select(p => p.GetString()!))
            {
                if (!arguments.TryGetValue(property, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
                {
                    throw Invalid($"{name} needs the argument '{property}'{Describe(properties, property)}.");
                }
            }
        }

        foreach (var (property, value) in arguments)
        {
            if (properties.ValueKind != JsonValueKind.Object || !properties.TryGetProperty(property, out var propertySchema))
            {
                var known = properties.ValueKind == JsonValueKind.Object ? string.Join(", ", properties.EnumerateObject().Select(p => p.Name)) : "none";
                throw Invalid($"{name} has no argument '{property}'. Its arguments are: {known}.");
            }

            if (!Matches(propertySchema, value))
            {
                throw Invalid($"{name}'s argument '{property}' must be {ExpectedType(propertySchema)}, not {Kind(value)}.");
            }
        }
    }

    private static bool Matches(JsonElement schema, JsonElement value)
    {
        if (!schema.TryGetProperty("type", out var type))
        {
            return true;
        }

        var allowed = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()) : [type.GetString()];
        return allowed.Any(t => t switch
        {
            "string" => value.ValueKind == JsonValueKind.String,
            "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
            "number" => value.ValueKind == JsonValueKind.Number,
            "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            "object" => value.ValueKind == JsonValueKind.Object,
            "array" => value.ValueKind == JsonValueKind.Array,
            "null" => value.ValueKind == JsonValueKind.Null,
            _ => true,
        });
    }

    private static string ExpectedType(JsonElement schema) =>
        schema.TryGetProperty("type", out var type)
            ? type.ValueKind == JsonValueKind.Array ? string.Join(" or ", type.EnumerateArray().Select(t => t.GetString()).Where(t => t != "null")) : type.GetString() ?? "valid"
            : "valid";

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.TryGetInt64(out _) ? "an integer" : "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.String => "a string",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    private static string Describe(JsonElement properties, string property) =>
        properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(property, out var schema) && schema.TryGetProperty("description", out var description)
            ? $" ({description.GetString()})"
            : string.Empty;

    private static McpProtocolException Invalid(string message) => new($"Invalid params: {message}", McpErrorCode.InvalidParams);
}

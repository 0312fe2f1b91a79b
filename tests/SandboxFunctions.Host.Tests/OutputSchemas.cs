using System.Collections.Concurrent;
using System.Text.Json;
using Json.Schema;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace SandboxFunctions.Host.Tests;

/// <summary>
/// The output schemas a server advertises, checked against every result a test receives, as clients that validate
/// results (the official TypeScript client, Claude Desktop, VS Code) check them.
/// </summary>
internal sealed class OutputSchemas
{
    private static readonly EvaluationOptions Evaluation = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };

    private readonly IReadOnlyDictionary<string, JsonSchema> _schemas;

    private OutputSchemas(IReadOnlyDictionary<string, JsonSchema> schemas)
    {
        _schemas = schemas;
    }

    public static async Task<OutputSchemas> ListAsync(McpClient client, CancellationToken cancellationToken = default)
    {
        var tools = await client.ListToolsAsync(cancellationToken: cancellationToken);
        var schemas = new ConcurrentDictionary<string, JsonSchema>();
        foreach (var tool in tools)
        {
            if (tool.ProtocolTool.OutputSchema is { } schema)
            {
                schemas[tool.Name] = JsonSchema.Build(schema, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
            }
        }

        return new OutputSchemas(schemas);
    }

    /// <summary>Fails the test when <paramref name="result"/> does not match what <paramref name="tool"/> advertises.</summary>
    public void AssertValid(string tool, CallToolResult result)
    {
        if (!_schemas.TryGetValue(tool, out var schema))
        {
            return;
        }

        Assert.True(result.StructuredContent is not null || result.IsError == true, $"{tool} has an output schema but returned no structured content.");
        if (result.StructuredContent is not { } content)
        {
            return;
        }

        var evaluation = schema.Evaluate(content, Evaluation);
        Assert.True(evaluation.IsValid, $"{tool}'s structured content does not match its output schema:\n{Describe(evaluation)}\n{content.GetRawText()}");
    }

    private static string Describe(EvaluationResults evaluation) => string.Join('\n',
        (evaluation.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));
}

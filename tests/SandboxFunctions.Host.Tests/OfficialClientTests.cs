using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

/// <summary>The official C# and TypeScript MCP clients against the real server over HTTP.</summary>
public sealed class OfficialClientTests(KeyedServerFixture fixture) : IClassFixture<KeyedServerFixture>
{
    [Theory]
    [InlineData("2025-06-18")]
    [InlineData("2026-07-28")]
    public async Task Csharp_client_negotiates_the_revision_it_asks_for(string protocolVersion)
    {
        await using var client = await ConnectAsync(protocolVersion);

        Assert.Equal(protocolVersion, client.NegotiatedProtocolVersion);
        Assert.Equal("SandboxFunctions", client.ServerInfo?.Name);
        Assert.NotNull(client.ServerCapabilities.Tools);
    }

    [Theory]
    [InlineData("2025-06-18")]
    [InlineData("2026-07-28")]
    public async Task Csharp_client_lists_tools_with_schemas_a_model_can_act_on(string protocolVersion)
    {
        await using var client = await ConnectAsync(protocolVersion);

        var tools = await client.ListToolsAsync();

        var listRuntimes = Assert.Single(tools, t => t.Name == "list_runtimes");
        Assert.Contains("language", listRuntimes.Description, StringComparison.Ordinal);
        Assert.Equal("object", listRuntimes.ProtocolTool.InputSchema.GetProperty("type").GetString());
        Assert.True(listRuntimes.ProtocolTool.Annotations?.ReadOnlyHint);
        var output = listRuntimes.ProtocolTool.OutputSchema!.Value;
        Assert.True(output.GetProperty("properties").TryGetProperty("runtimes", out _));
    }

    [Theory]
    [InlineData("2025-06-18")]
    [InlineData("2026-07-28")]
    public async Task Csharp_client_calls_list_runtimes(string protocolVersion)
    {
        await using var client = await ConnectAsync(protocolVersion);

        var result = await client.CallToolAsync("list_runtimes");

        Assert.NotEqual(true, result.IsError);
        var structured = result.StructuredContent!.Value;
        Assert.Equal(JsonValueKind.Array, structured.GetProperty("runtimes").ValueKind);
        var summary = Assert.IsType<TextContentBlock>(Assert.Single(result.Content));
        Assert.False(string.IsNullOrWhiteSpace(summary.Text));
    }

    [Fact]
    public async Task Typescript_client_connects_lists_tools_and_calls_one()
    {
        var output = await NodePeers.RunMcpClientAsync(fixture.Server.McpEndpoint, KeyedServerFixture.Key, new object[]
        {
            new { op = "listTools" },
            new { op = "callTool", name = "list_runtimes" },
        });

        Assert.False(output.TryGetProperty("error", out var error), error.ToString());
        Assert.Equal("SandboxFunctions", output.GetProperty("server").GetProperty("name").GetString());
        var steps = output.GetProperty("steps");
        var toolNames = steps[0].GetProperty("result").GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString());
        Assert.Contains("list_runtimes", toolNames);
        var call = steps[1];
        Assert.False(call.TryGetProperty("error", out var callError), callError.ToString());
        Assert.Equal(JsonValueKind.Array, call.GetProperty("result").GetProperty("structuredContent").GetProperty("runtimes").ValueKind);
    }

    [Fact]
    public async Task Typescript_client_without_a_key_is_refused()
    {
        var output = await NodePeers.RunMcpClientAsync(fixture.Server.McpEndpoint, functionKey: null, Array.Empty<object>());

        var error = output.GetProperty("error");
        Assert.Equal(401, error.GetProperty("code").GetInt32());
        Assert.Contains("function key", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private Task<McpClient> ConnectAsync(string protocolVersion) =>
        McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = fixture.Server.McpEndpoint,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["x-functions-key"] = KeyedServerFixture.Key },
            }),
            new McpClientOptions { ProtocolVersion = protocolVersion });
}

using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace SandboxFunctions.Host.Tests;

/// <summary>The official C# MCP client, connected to a test server with a function key.</summary>
internal sealed class ToolClient : IAsyncDisposable
{
    private ToolClient(McpClient client)
    {
        Client = client;
    }

    public McpClient Client { get; }

    public static async Task<ToolClient> ConnectAsync(Uri endpoint, string key, string protocolVersion = "2025-06-18") =>
        new(await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = endpoint,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["x-functions-key"] = key },
            }),
            new McpClientOptions { ProtocolVersion = protocolVersion }));

    public async Task<ToolCall> CallAsync(string tool, object? arguments = null, CancellationToken cancellationToken = default)
    {
        var args = arguments is null
            ? new Dictionary<string, object?>()
            : JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(arguments))!;
        var result = await Client.CallToolAsync(tool, args, cancellationToken: cancellationToken);
        return new ToolCall(result);
    }

    /// <summary>Calls a tool that must succeed and returns its structured content.</summary>
    public async Task<JsonElement> OkAsync(string tool, object? arguments = null)
    {
        var call = await CallAsync(tool, arguments);
        Assert.False(call.IsError, $"{tool} failed: {call.Text}");
        return call.Structured;
    }

    /// <summary>Calls a tool that must fail with the given error code and returns the error.</summary>
    public async Task<JsonElement> FailsAsync(string tool, object? arguments, string code)
    {
        var call = await CallAsync(tool, arguments);
        Assert.True(call.IsError, $"{tool} should have failed with {code} but returned: {call.Text}");
        var error = call.Structured.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.True(error.GetProperty("suggestions").GetArrayLength() > 0, $"{code} has no suggestions");
        Assert.Contains(code, call.Text, StringComparison.Ordinal);
        return error;
    }

    public ValueTask DisposeAsync() => Client.DisposeAsync();
}

internal sealed record ToolCall(CallToolResult Result)
{
    public bool IsError => Result.IsError == true;

    public JsonElement Structured => Result.StructuredContent ?? throw new InvalidOperationException("The result has no structured content.");

    public string Text => string.Join("\n", Result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    public IReadOnlyList<ResourceLinkBlock> Links => [.. Result.Content.OfType<ResourceLinkBlock>()];
}

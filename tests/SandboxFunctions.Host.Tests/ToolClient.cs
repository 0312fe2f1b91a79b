using System.Diagnostics;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace SandboxFunctions.Host.Tests;

/// <summary>The official C# MCP client, connected to a test server with a function key.</summary>
internal sealed class ToolClient : IAsyncDisposable
{
    private readonly OutputSchemas _schemas;

    private ToolClient(McpClient client, OutputSchemas schemas)
    {
        Client = client;
        _schemas = schemas;
    }

    public McpClient Client { get; }

    /// <summary>Connects and lists the tools, so that every result this client receives is checked against its tool's output schema.</summary>
    public static async Task<ToolClient> ConnectAsync(Uri endpoint, string key, string protocolVersion = "2025-06-18")
    {
        var client = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = endpoint,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["x-functions-key"] = key },
            }),
            new McpClientOptions { ProtocolVersion = protocolVersion });
        return new ToolClient(client, await OutputSchemas.ListAsync(client));
    }

    public async Task<ToolCall> CallAsync(string tool, object? arguments = null, CancellationToken cancellationToken = default)
    {
        var result = await Client.CallToolAsync(tool, Arguments(arguments), cancellationToken: cancellationToken);
        _schemas.AssertValid(tool, result);
        return new ToolCall(result);
    }

    /// <summary>
    /// Starts a call whose code prints before it does its long work, and returns once that output has streamed back:
    /// from then on the call is known to be running, however slow the machine, so tests need not guess with delays.
    /// </summary>
    public async Task<Task<ToolCall>> StartAsync(string tool, object arguments, CancellationToken cancellationToken = default)
    {
        var printed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = Client.CallToolAsync(
            tool,
            Arguments(arguments),
            new Progress<ProgressNotificationValue>(_ => printed.TrySetResult()),
            cancellationToken: cancellationToken).AsTask();
        await Task.WhenAny(printed.Task, call).WaitAsync(TimeSpan.FromSeconds(90), cancellationToken);
        Assert.True(printed.Task.IsCompleted, $"{tool} ended before it printed anything: {(call.IsCompletedSuccessfully ? new ToolCall(call.Result).Text : call.Exception?.Message)}");
        return Completion(call);

        async Task<ToolCall> Completion(Task<CallToolResult> running)
        {
            var result = await running;
            _schemas.AssertValid(tool, result);
            return new ToolCall(result);
        }
    }

    /// <summary>
    /// Calls a tool on a session that a call which was just stopped may hold for a moment longer, while it records
    /// how it ended: the call is repeated while it answers SESSION_BUSY, for at most a minute.
    /// </summary>
    public async Task<ToolCall> CallOnceFreeAsync(string tool, object arguments)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var call = await CallAsync(tool, arguments);
            if (!call.IsError || call.Structured.GetProperty("error").GetProperty("code").GetString() != "SESSION_BUSY" || deadline.Elapsed > TimeSpan.FromMinutes(1))
            {
                return call;
            }

            await Task.Delay(200);
        }
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

    private static Dictionary<string, object?> Arguments(object? arguments) => arguments is null
        ? []
        : JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(arguments))!;
}

internal sealed record ToolCall(CallToolResult Result)
{
    public bool IsError => Result.IsError == true;

    public JsonElement Structured => Result.StructuredContent ?? throw new InvalidOperationException("The result has no structured content.");

    public string Text => string.Join("\n", Result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    public IReadOnlyList<ResourceLinkBlock> Links => [.. Result.Content.OfType<ResourceLinkBlock>()];
}

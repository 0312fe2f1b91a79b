using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

/// <summary>The official C# and TypeScript MCP clients against the real server over HTTP.</summary>
[Collection(KeyedServers.Name)]
public sealed class OfficialClientTests(KeyedServerFixture fixture)
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

    /// <summary>
    /// The TypeScript client checks every result against its tool's output schema once it has listed the tools, as
    /// Claude Desktop and VS Code do; a result that does not match is an error on its side. Every tool is called, with
    /// results of each kind: values with and without JSON, failures, every way a job ends, and each history entry.
    /// </summary>
    [Fact]
    public async Task Typescript_client_accepts_every_result_of_every_tool()
    {
        var wait = new { job_id = "$job", wait_seconds = 60 };
        var output = await NodePeers.RunMcpClientAsync(fixture.Server.McpEndpoint, KeyedServerFixture.Key, new object[]
        {
            new { op = "listTools" },
            Call("list_runtimes"),
            Call("create_session", new { language = "python" }),
            Call("get_session", new { session_id = "$session" }),
            Call("list_sessions"),
            Call("execute_code", new { session_id = "$session", code = "import time\nx = 41\nx + 1" }),
            Call("execute_code", new { session_id = "$session", code = "object()" }),
            Call("execute_code", new { session_id = "$session", code = "print('out')" }),
            Call("execute_code", new { session_id = "$session", code = "raise ValueError('no')" }),
            Call("execute_code", new { session_id = "$session", code = "while True: pass", timeout_seconds = 1 }),
            Call("execute_code", new { session_id = "$session", code = "def broken(:" }),
            Call("execute_command", new { session_id = "$session", command = "echo hi > a.txt && ls" }),
            Call("execute_command", new { session_id = "$session", command = "cat missing.txt" }),
            Call("execute_command", new { session_id = "$session", command = "echo $(date)" }),
            Call("write_file", new { session_id = "$session", path = "b.bin", content = "AAEC", encoding = "base64" }),
            Call("read_file", new { session_id = "$session", path = "b.bin" }),
            Call("read_file", new { session_id = "$session", path = "missing.txt" }),
            Call("list_files", new { session_id = "$session" }),
            Call("delete_file", new { session_id = "$session", path = "b.bin" }),
            Call("install_package", new { session_id = "$session", package = "six" }),
            Call("cancel_execution", new { session_id = "$session" }),
            Call("submit_job", new { session_id = "$session", code = "print('done')\n6 * 7" }),
            Call("get_job", wait),
            Call("submit_job", new { session_id = "$session", code = "raise RuntimeError('job failed')" }),
            Call("get_job", wait),
            Call("submit_job", new { session_id = "$session", code = "while True: pass", timeout_seconds = 1 }),
            Call("get_job", wait),
            Call("submit_job", new { session_id = "$session", code = "time.sleep(30)" }),
            Call("cancel_job", new { job_id = "$job" }),
            Call("get_job", wait),
            Call("get_job", new { job_id = "j-missing" }),
            Call("list_jobs", new { session_id = "$session" }),
            Call("list_executions", new { session_id = "$session" }),
            Call("get_session", new { session_id = "s-missing" }),
            Call("fork_session", new { session_id = "$session" }),
            Call("reset_session", new { session_id = "$session" }),
            Call("destroy_session", new { session_id = "$session" }),
            Call("destroy_session", new { session_id = "$session" }),
        });

        Assert.False(output.TryGetProperty("error", out var error), error.ToString());
        var steps = output.GetProperty("steps").EnumerateArray().ToList();
        foreach (var step in steps)
        {
            Assert.False(step.TryGetProperty("error", out var stepError), $"{step}: {stepError}");
        }

        var listed = steps[0].GetProperty("result").GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToHashSet();
        var called = steps.Skip(1).Select(s => s.GetProperty("tool").GetString()).ToHashSet();
        Assert.Empty(listed.Except(called));

        var results = steps.Skip(1).Select(s => (Tool: s.GetProperty("tool").GetString(), Content: s.GetProperty("result").GetProperty("structuredContent"))).ToList();
        Assert.Equal(
            ["cancelled", "failed", "succeeded", "timed_out"],
            results.Where(r => r.Tool == "get_job" && r.Content.TryGetProperty("status", out _)).Select(r => r.Content.GetProperty("status").GetString()).Order());
        var history = results.Single(r => r.Tool == "list_executions").Content.GetProperty("executions").EnumerateArray();
        Assert.Equal(["command", "execution", "job"], history.Select(e => e.GetProperty("kind").GetString()).Distinct().Order());
        Assert.Contains(results, r => r.Tool == "execute_code" && r.Content.GetProperty("result") is var value && value.ValueKind == JsonValueKind.Object && !value.TryGetProperty("json", out _));
        Assert.Equal(
            ["FILE_NOT_FOUND", "JOB_NOT_FOUND", "PACKAGE_INDEX_NOT_CONFIGURED", "SESSION_NOT_FOUND", "SESSION_NOT_FOUND"],
            results.Where(r => r.Content.TryGetProperty("error", out var e) && r.Content.EnumerateObject().Count() == 1).Select(r => r.Content.GetProperty("error").GetProperty("code").GetString()).Order());
    }

    private static object Call(string tool, object? arguments = null) => new { op = "callTool", name = tool, arguments = arguments ?? new { } };

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

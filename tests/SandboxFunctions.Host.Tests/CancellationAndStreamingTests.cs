using System.Diagnostics;
using System.Text.Json;
using ModelContextProtocol;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

/// <summary>Stopping running code and watching its output, across clients and server instances sharing Azurite.</summary>
[Collection(AzuriteServers.Name)]
public sealed class CancellationAndStreamingTests(AzuriteServerFixture fixture)
{
    private const string Key = AzuriteServerFixture.Key;

    [Fact]
    public async Task Cancel_execution_from_a_second_client_on_another_instance_stops_a_busy_loop()
    {
        await using var first = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, Key);
        await using var second = await ToolClient.ConnectAsync(fixture.SecondServer.McpEndpoint, Key);
        var session = (await first.OkAsync("execute_code", new { code = "kept = 'saved before'" })).GetProperty("session_id").GetString()!;

        var clock = Stopwatch.StartNew();
        var loop = await first.StartAsync("execute_code", new { session_id = session, timeout_seconds = 100, code = "lost = 'set by the cancelled call'\nprint('running', flush=True)\nwhile True:\n    pass" });

        var cancel = await second.OkAsync("cancel_execution", new { session_id = session });
        var result = await loop.WaitAsync(TimeSpan.FromSeconds(60));
        clock.Stop();

        Assert.False(cancel.GetProperty("stopped_here").GetBoolean());
        Assert.True(result.IsError);
        var structured = result.Structured;
        Assert.Equal("cancelled", structured.GetProperty("status").GetString());
        Assert.Equal("CANCELLED", structured.GetProperty("error").GetProperty("code").GetString());
        Assert.False(structured.GetProperty("state_saved").GetBoolean());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), $"The loop ran to its timeout ({clock.Elapsed}) instead of being cancelled.");

        var after = await second.OkAsync("execute_code", new { session_id = session, code = "kept, 'lost' in globals()" });
        Assert.Equal("('saved before', False)", after.GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task The_cancelled_notification_of_the_client_stops_the_execution_it_started()
    {
        await using var client = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, Key);
        var session = (await client.OkAsync("execute_code", new { language = "javascript", code = "var kept = 41;" })).GetProperty("session_id").GetString()!;

        using var abort = new CancellationTokenSource();
        var loop = await client.StartAsync("execute_code", new { session_id = session, timeout_seconds = 100, code = "kept = 0; console.log('running'); for (;;) {}" }, abort.Token);

        // Cancelling the token makes the official client send notifications/cancelled for the request.
        await abort.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop);

        // The session frees up once the execution stopped; the loop would hold it for 100 s otherwise.
        var next = await client.CallOnceFreeAsync("execute_code", new { session_id = session, code = "kept + 1" });

        Assert.False(next.IsError, next.Text);
        Assert.Equal(42, next.Structured.GetProperty("result").GetProperty("json").GetInt32());
        var history = await client.OkAsync("list_executions", new { session_id = session });
        Assert.Contains(history.GetProperty("executions").EnumerateArray(), e => e.GetProperty("status").GetString() == "cancelled");
    }

    [Fact]
    public async Task A_cancelled_notification_sent_to_another_instance_reaches_the_request_through_storage()
    {
        await using var client = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, Key);
        var session = (await client.OkAsync("execute_code", new { code = "kept = 'saved'" })).GetProperty("session_id").GetString()!;
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(3) };
        var requestId = Random.Shared.Next(1_000_000, int.MaxValue);

        using var call = McpHttp.Post(fixture.Server.McpEndpoint, McpHttp.Request("tools/call", new
        {
            name = "execute_code",
            arguments = new { session_id = session, timeout_seconds = 100, code = "print('running', flush=True)\nwhile True:\n    pass" },
            _meta = new { progressToken = "watch" },
        }, requestId), Key);
        using var response = await http.SendAsync(call, HttpCompletionOption.ResponseHeadersRead);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync());
        await McpHttp.ReadUntilProgressAsync(events);
        using var cancel = McpHttp.Post(fixture.SecondServer.McpEndpoint, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":" + requestId + ",\"reason\":\"test\"}}", Key);
        using var accepted = await http.SendAsync(cancel);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);

        var rest = await events.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var final = JsonDocument.Parse(rest.Split('\n').Last(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..]).RootElement;
        Assert.Equal(requestId, final.GetProperty("id").GetInt32());
        Assert.Equal("cancelled", final.GetProperty("result").GetProperty("structuredContent").GetProperty("status").GetString());
        var after = await client.OkAsync("execute_code", new { session_id = session, code = "kept" });
        Assert.Equal("'saved'", after.GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task Cancel_execution_stops_a_shell_command_and_history_shows_it()
    {
        await using var client = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, Key);
        var session = (await client.OkAsync("execute_code", new { code = "open('spin.py', 'w').write('print(\\'spinning\\', flush=True)\\nwhile True:\\n    pass\\n')" })).GetProperty("session_id").GetString()!;

        var command = client.CallAsync("execute_command", new { session_id = session, command = "echo start > started.txt && python spin.py", timeout_seconds = 100 });
        var clock = Stopwatch.StartNew();
        JsonElement history;
        do
        {
            await Task.Delay(300);
            await client.OkAsync("cancel_execution", new { session_id = session });
            history = await client.OkAsync("list_executions", new { session_id = session });
        }
        while (!command.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(60));

        var result = await command.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.IsError);
        Assert.Equal("CANCELLED", result.Structured.GetProperty("error").GetProperty("code").GetString());
        history = await client.OkAsync("list_executions", new { session_id = session });
        var entries = history.GetProperty("executions").EnumerateArray().ToList();
        Assert.Contains(entries, e => e.GetProperty("kind").GetString() == "command" && e.GetProperty("status").GetString() == "cancelled" && e.GetProperty("code").GetString()!.Contains("python spin.py", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.GetProperty("kind").GetString() == "execution" && e.GetProperty("status").GetString() == "ok");

        // The cancelled line's file write went with it: the session kept its last saved state.
        var files = await client.OkAsync("execute_command", new { session_id = session, command = "ls" });
        Assert.DoesNotContain("started.txt", files.GetProperty("stdout").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_session_with_nothing_running_changes_nothing()
    {
        await using var client = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, Key);
        var session = (await client.OkAsync("execute_code", new { code = "n = 1" })).GetProperty("session_id").GetString()!;

        var cancel = await client.OkAsync("cancel_execution", new { session_id = session });
        var after = await client.OkAsync("execute_code", new { session_id = session, code = "n + 1" });

        Assert.False(cancel.GetProperty("stopped_here").GetBoolean());
        Assert.Equal("ok", after.GetProperty("status").GetString());
        Assert.Equal(2, after.GetProperty("result").GetProperty("json").GetInt32());
        await client.FailsAsync("cancel_execution", new { session_id = "s-does-not-exist" }, "SESSION_NOT_FOUND");
    }

    [Fact]
    public async Task The_typescript_client_receives_output_as_progress_while_the_code_runs()
    {
        var output = await NodePeers.RunMcpClientAsync(fixture.Server.McpEndpoint, Key, new object[]
        {
            new
            {
                op = "callTool",
                name = "execute_code",
                progress = true,
                arguments = new { code = "import time\nfor i in range(6):\n    print(f'line {i}', flush=True)\n    time.sleep(0.4)\n'done'" },
            },
        });

        Assert.False(output.TryGetProperty("error", out var error), error.ToString());
        var step = output.GetProperty("steps")[0];
        Assert.False(step.TryGetProperty("error", out var stepError), stepError.ToString());
        var progress = step.GetProperty("progress").EnumerateArray().ToList();
        Assert.True(progress.Count >= 2, $"Expected several progress notifications, got {progress.Count}.");
        var streamed = string.Concat(progress.Select(p => p.GetProperty("message").GetString()));
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"line {i}"), streamed.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // Live, not replayed at the end: the first line arrived while the code still had seconds to run.
        var firstAt = progress[0].GetProperty("receivedAt").GetInt64();
        var completedAt = step.GetProperty("completedAt").GetInt64();
        Assert.True(completedAt - firstAt >= 1000, $"The first output arrived only {completedAt - firstAt} ms before the result.");
        Assert.Equal("'done'", step.GetProperty("result").GetProperty("structuredContent").GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task A_command_line_streams_its_output_as_progress_while_it_runs()
    {
        await using var client = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, Key);
        var session = (await client.OkAsync("create_session", new { language = "python" })).GetProperty("session_id").GetString()!;
        var heard = new HeardProgress();

        var result = await client.Client.CallToolAsync(
            "execute_command",
            new Dictionary<string, object?> { ["session_id"] = session, ["command"] = "echo first; python -c 'import sys, time\ntime.sleep(1.5)\nsys.stdout.buffer.write(b\"second \\xc3\")\nsys.stdout.flush()\ntime.sleep(0.3)\nsys.stdout.buffer.write(b\"\\xa9\\n\")\nsys.stdout.flush()\ntime.sleep(1.5)\nprint(\"third\")'" },
            heard);
        var completedAt = heard.Clock.Elapsed;

        Assert.NotEqual(true, result.IsError);
        // The é arrives split across two writes; it is streamed whole, not as two replacement characters. The C#
        // client may drop a notification it handles after the result, so the streamed text is checked up to the
        // output that came 1.5 s before the end: a busy machine may delay a notification, but not by that much.
        Assert.Equal("first\nsecond é\nthird\n", result.StructuredContent!.Value.GetProperty("stdout").GetString());
        var streamed = await heard.TextOnceSettledAsync("first\nsecond é\n".Length);
        Assert.True(
            streamed.StartsWith("first\nsecond é\n", StringComparison.Ordinal),
            $"Streamed {string.Join(", ", heard.Messages.Select(m => $"{JsonSerializer.Serialize(m.Text)} at {m.At.TotalMilliseconds:F0} ms"))}; the result came at {completedAt.TotalMilliseconds:F0} ms.");
        var first = heard.Messages.First(m => m.Text.Contains("first", StringComparison.Ordinal)).At;
        Assert.True(completedAt - first >= TimeSpan.FromSeconds(1), $"The first line arrived only {(completedAt - first).TotalMilliseconds} ms before the result.");
    }

    /// <summary>
    /// Progress notifications with when each arrived, recorded on the spot, in the server's order: the client may
    /// hand notifications over concurrently, and the rising progress value is what orders them.
    /// </summary>
    private sealed class HeardProgress : IProgress<ProgressNotificationValue>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(float Progress, string Text, TimeSpan At)> _messages = new();

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public IReadOnlyList<(string Text, TimeSpan At)> Messages => [.. _messages.OrderBy(m => m.Progress).Select(m => (m.Text, m.At))];

        public void Report(ProgressNotificationValue value) => _messages.Enqueue((value.Progress, value.Message ?? string.Empty, Clock.Elapsed));

        /// <summary>
        /// The text of all messages once it is <paramref name="length"/> long, or after a few seconds: the server sends
        /// every notification before the result, but the client may hand the last ones over after the call returned.
        /// </summary>
        public async Task<string> TextOnceSettledAsync(int length)
        {
            var deadline = Stopwatch.StartNew();
            string text;
            while ((text = string.Concat(Messages.Select(m => m.Text))).Length < length && deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50);
            }

            return text;
        }
    }
}

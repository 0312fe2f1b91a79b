using System.Diagnostics;
using System.Globalization;
using System.Net.Http;

namespace SandboxFunctions.Host.Tests;

/// <summary>
/// Work a caller makes the server do outside the guest (here a backtracking regular expression) ends at the call's
/// deadline or when the caller goes away, after which the server's processor time stops growing.
/// </summary>
[Collection(KeyedServers.Name)]
public sealed class HostWorkTests(KeyedServerFixture fixture)
{
    private const string Backtracking = "grep -P '^(a+)+\\1$' lines.txt";

    [Fact]
    public async Task Work_past_the_deadline_ends_in_a_timeout_and_frees_the_processor()
    {
        await using var client = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, KeyedServerFixture.Key);
        var session = await CreateSessionWithLinesAsync(client);

        var call = await client.CallAsync("execute_command", new { session_id = session, command = $"echo begun; {Backtracking}; echo never", timeout_seconds = 1 });

        Assert.True(call.IsError, call.Text);
        Assert.Equal("TIMEOUT", call.Structured.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal((124, "begun\n"), (call.Structured.GetProperty("exit_code").GetInt32(), call.Structured.GetProperty("stdout").GetString()));
        await WaitUntilIdleAsync(fixture.Server.ProcessId);
        var after = await client.OkAsync("execute_command", new { session_id = session, command = "wc -l lines.txt" });
        Assert.Equal("50 lines.txt\n", after.GetProperty("stdout").GetString());
    }

    [Fact]
    public async Task A_caller_that_goes_away_stops_the_work_it_started()
    {
        await using var client = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, KeyedServerFixture.Key);
        var session = await CreateSessionWithLinesAsync(client);

        using (var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan })
        using (var call = McpHttp.Post(fixture.Server.McpEndpoint, McpHttp.Request("tools/call", new
        {
            name = "execute_command",
            arguments = new { session_id = session, command = $"echo begun; {Backtracking}", timeout_seconds = 100 },
            _meta = new { progressToken = "watch" },
        })))
        using (var response = await http.SendAsync(call, HttpCompletionOption.ResponseHeadersRead))
        using (var events = new StreamReader(await response.Content.ReadAsStreamAsync()))
        {
            await McpHttp.ReadUntilProgressAsync(events);
        }

        await WaitUntilIdleAsync(fixture.Server.ProcessId);
        var after = await client.CallOnceFreeAsync("execute_command", new { session_id = session, command = "echo served" });
        Assert.False(after.IsError, after.Text);
        Assert.Equal("served\n", after.Structured.GetProperty("stdout").GetString());
    }

    private static async Task<string> CreateSessionWithLinesAsync(ToolClient client)
    {
        var session = (await client.OkAsync("create_session", new { language = "python" })).GetProperty("session_id").GetString()!;
        await client.OkAsync("write_file", new { session_id = session, path = "lines.txt", content = string.Concat(Enumerable.Repeat(new string('a', 40) + "b\n", 50)) });
        return session;
    }

    /// <summary>
    /// Waits for a window in which the server used well under half a processor. Work left running would keep a
    /// processor busy for good, so the wait would end in failure rather than in a slow pass.
    /// </summary>
    private static async Task WaitUntilIdleAsync(int processId)
    {
        var window = TimeSpan.FromMilliseconds(500);
        var deadline = Stopwatch.StartNew();
        var busy = TimeSpan.Zero;
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            var before = ProcessorTime(processId);
            await Task.Delay(window);
            busy = ProcessorTime(processId) - before;
            if (busy < window * 0.4)
            {
                return;
            }
        }

        Assert.Fail($"The server still used {busy.TotalMilliseconds:0} ms of processor time per {window.TotalMilliseconds:0} ms after 30 s.");
    }

    /// <summary>User and system time from /proc, which counts every thread of the process.</summary>
    private static TimeSpan ProcessorTime(int processId)
    {
        var stat = File.ReadAllText($"/proc/{processId}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }
}

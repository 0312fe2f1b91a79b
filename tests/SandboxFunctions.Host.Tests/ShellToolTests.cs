using System.Text.Json;

namespace SandboxFunctions.Host.Tests;

/// <summary>execute_command end to end: the official client, the server process, and session state in Azurite.</summary>
[Collection(AzuriteServers.Name)]
public sealed class ShellToolTests(AzuriteServerFixture fixture)
{
    [Fact]
    public async Task A_pipeline_over_a_written_file_counts_matching_lines()
    {
        await using var client = await fixture.ConnectAsync();
        var session = await CreateSessionAsync(client, "python");
        await client.OkAsync("write_file", new { session_id = session, path = "data.csv", content = "id,tag\n1,x\n2,y\n3,x\n4,xx\n" });

        var result = await client.OkAsync("execute_command", new { session_id = session, command = "cat data.csv | grep x | wc -l" });

        Assert.Equal(session, result.GetProperty("session_id").GetString());
        Assert.Equal("cat data.csv | grep x | wc -l", result.GetProperty("command").GetString());
        Assert.Equal("3\n", result.GetProperty("stdout").GetString());
        Assert.Equal(string.Empty, result.GetProperty("stderr").GetString());
        Assert.Equal(0, result.GetProperty("exit_code").GetInt32());
        Assert.False(result.GetProperty("stdout_truncated").GetBoolean());
        Assert.False(result.GetProperty("stderr_truncated").GetBoolean());
        Assert.True(result.GetProperty("duration_ms").GetInt64() >= 0);
        Assert.Equal(0, result.GetProperty("files_changed").GetArrayLength());
        Assert.False(result.TryGetProperty("error", out _));
    }

    [Fact]
    public async Task Python_reads_piped_stdin_in_the_session_interpreter()
    {
        await using var client = await fixture.ConnectAsync();
        var session = await CreateSessionAsync(client, "python");

        var call = await client.CallAsync("execute_command", new
        {
            session_id = session,
            command = "printf 'b 2\\na 1\\n' | python -c \"import sys; rows = sorted(sys.stdin.read().split('\\n')); print(','.join(r for r in rows if r), sys.argv[1:])\" one two",
        });

        Assert.False(call.IsError, call.Text);
        Assert.Equal("a 1,b 2 ['one', 'two']\n", call.Structured.GetProperty("stdout").GetString());
        Assert.Equal(0, call.Structured.GetProperty("exit_code").GetInt32());
        Assert.Contains("exit code 0", call.Text, StringComparison.Ordinal);
        Assert.Contains("a 1,b 2", call.Text, StringComparison.Ordinal);
        var info = await client.OkAsync("get_session", new { session_id = session });
        Assert.Equal(1, info.GetProperty("executions").GetInt32());
    }

    [Fact]
    public async Task A_file_written_by_node_is_read_back_with_read_file()
    {
        await using var client = await fixture.ConnectAsync();
        var session = await CreateSessionAsync(client, "javascript");
        await client.OkAsync("write_file", new
        {
            session_id = session,
            path = "app.js",
            content = "const [name, count] = process.argv.slice(2);\nfs.writeFileSync('out/report.json', JSON.stringify({ name, count: Number(count) }));\nconsole.log('wrote report for', name);\n",
        });

        var call = await client.CallAsync("execute_command", new { session_id = session, command = "mkdir -p out && node app.js widgets 3" });
        var read = await client.OkAsync("read_file", new { session_id = session, path = "out/report.json" });

        Assert.False(call.IsError, call.Text);
        Assert.Equal("wrote report for widgets\n", call.Structured.GetProperty("stdout").GetString());
        var changed = Assert.Single(call.Structured.GetProperty("files_changed").EnumerateArray());
        Assert.Equal("/workspace/out/report.json", changed.GetProperty("path").GetString());
        Assert.Equal($"sandbox://sessions/{session}/workspace/out/report.json", changed.GetProperty("uri").GetString());
        Assert.Equal("/workspace/out/report.json", Assert.Single(call.Links).Name);
        using var report = JsonDocument.Parse(read.GetProperty("content").GetString()!);
        Assert.Equal("widgets", report.RootElement.GetProperty("name").GetString());
        Assert.Equal(3, report.RootElement.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task An_unknown_command_is_a_normal_result_with_status_127()
    {
        await using var client = await fixture.ConnectAsync();
        var session = await CreateSessionAsync(client, "python");

        var call = await client.CallAsync("execute_command", new { session_id = session, command = "curl https://example.com" });

        Assert.False(call.IsError, call.Text);
        Assert.Equal(127, call.Structured.GetProperty("exit_code").GetInt32());
        var stderr = call.Structured.GetProperty("stderr").GetString()!;
        Assert.StartsWith("sh: curl: command not found", stderr, StringComparison.Ordinal);
        Assert.Contains("Available commands:", stderr, StringComparison.Ordinal);
        Assert.Contains("grep", stderr, StringComparison.Ordinal);
        Assert.False(call.Structured.TryGetProperty("error", out _));
        Assert.Contains("exit code 127", call.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_syntax_error_is_a_failure_with_its_own_code()
    {
        await using var client = await fixture.ConnectAsync();
        var session = await CreateSessionAsync(client, "python");

        var error = await client.FailsAsync("execute_command", new { session_id = session, command = "for f in *.csv; do wc -l $f; done" }, "COMMAND_SYNTAX_ERROR");
        var call = await client.CallAsync("execute_command", new { session_id = session, command = "echo 'unclosed" });
        var tooLong = await client.FailsAsync("execute_command", new { session_id = session, command = "echo " + new string('x', 70_000) }, "COMMAND_TOO_LONG");

        Assert.Contains("`for` loops are not supported", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(call.IsError);
        Assert.Equal(session, call.Structured.GetProperty("session_id").GetString());
        Assert.Equal("echo 'unclosed", call.Structured.GetProperty("command").GetString());
        Assert.Equal(2, call.Structured.GetProperty("exit_code").GetInt32());
        Assert.Contains("never closed", call.Structured.GetProperty("stderr").GetString(), StringComparison.Ordinal);
        Assert.Equal("COMMAND_SYNTAX_ERROR", call.Structured.GetProperty("error").GetProperty("code").GetString());
        Assert.True(call.Structured.GetProperty("error").GetProperty("suggestions").GetArrayLength() > 0);
        Assert.Contains("65536", tooLong.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_command_line_that_runs_out_of_time_is_a_timeout_and_keeps_its_output()
    {
        await using var client = await fixture.ConnectAsync();
        var session = await CreateSessionAsync(client, "python");

        var error = await client.FailsAsync("execute_command", new { session_id = session, command = "echo begun; python -c 'while True: pass'", timeout_seconds = 1 }, "TIMEOUT");
        var timedOut = await client.CallAsync("execute_command", new { session_id = session, command = "echo again; python -c 'while True: pass'", timeout_seconds = 1 });
        var after = await client.OkAsync("execute_command", new { session_id = session, command = "echo still usable" });

        Assert.Contains("timeout", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(timedOut.IsError);
        Assert.Equal("again\n", timedOut.Structured.GetProperty("stdout").GetString());
        Assert.Equal(124, timedOut.Structured.GetProperty("exit_code").GetInt32());
        Assert.Equal("still usable\n", after.GetProperty("stdout").GetString());
    }

    private static async Task<string> CreateSessionAsync(ToolClient client, string language) =>
        (await client.OkAsync("create_session", new { language })).GetProperty("session_id").GetString()!;
}

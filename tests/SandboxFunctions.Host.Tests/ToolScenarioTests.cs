using System.Text.Json;
using ModelContextProtocol.Protocol;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

/// <summary>What an agent does with the tools, end to end over HTTP with session state in Azurite.</summary>
[Collection(AzuriteServers.Name)]
public sealed class ToolScenarioTests(AzuriteServerFixture fixture)
{
    [Fact]
    public async Task A_python_analysis_keeps_functions_data_and_files_across_calls()
    {
        await using var client = await fixture.ConnectAsync();

        var first = await client.OkAsync("execute_code", new
        {
            code = "import statistics\n\ndef summarize(rows):\n    return {k: statistics.mean(r[k] for r in rows) for k in rows[0]}\n\nrows = [{'n': i, 'square': i * i} for i in range(10)]\nlen(rows)",
        });
        var session = first.GetProperty("session_id").GetString()!;
        Assert.Equal("python", first.GetProperty("language").GetString());
        Assert.Equal(10, first.GetProperty("result").GetProperty("json").GetInt32());

        var summary = await client.OkAsync("execute_code", new { session_id = session, code = "summarize(rows)" });
        Assert.Equal(4.5, summary.GetProperty("result").GetProperty("json").GetProperty("n").GetDouble());
        Assert.Equal(28.5, summary.GetProperty("result").GetProperty("json").GetProperty("square").GetDouble());

        var write = await client.CallAsync("execute_code", new
        {
            session_id = session,
            code = "import csv, os\nos.makedirs('out', exist_ok=True)\nwith open('out/summary.csv', 'w', newline='') as f:\n    w = csv.writer(f)\n    w.writerow(['column', 'mean'])\n    for k, v in summarize(rows).items():\n        w.writerow([k, v])\nprint('written')",
        });
        Assert.False(write.IsError, write.Text);
        Assert.Equal("written\n", write.Structured.GetProperty("stdout").GetString());
        var link = Assert.Single(write.Links);
        Assert.Equal("/workspace/out/summary.csv", link.Name);
        Assert.Equal("text/csv", link.MimeType);

        var resource = await client.Client.ReadResourceAsync(link.Uri);
        var text = Assert.IsType<TextResourceContents>(Assert.Single(resource.Contents)).Text;
        Assert.Equal("column,mean\r\nn,4.5\r\nsquare,28.5\r\n", text);

        var read = await client.OkAsync("read_file", new { session_id = session, path = "out/summary.csv" });
        Assert.Equal(text, read.GetProperty("content").GetString());
        var listed = await client.Client.ListResourcesAsync();
        Assert.Contains(listed, r => r.Uri == link.Uri);
        var templates = await client.Client.ListResourceTemplatesAsync();
        Assert.Contains(templates, t => t.UriTemplate.Contains("{session_id}", StringComparison.Ordinal));

        var info = await client.OkAsync("get_session", new { session_id = session });
        Assert.Equal(3, info.GetProperty("executions").GetInt32());
        Assert.Contains(info.GetProperty("files").EnumerateArray(), f => f.GetProperty("path").GetString() == "/workspace/out/summary.csv");
    }

    [Fact]
    public async Task Files_written_by_the_client_are_read_by_code_and_back()
    {
        await using var client = await fixture.ConnectAsync();
        var session = (await client.OkAsync("create_session", new { language = "python", flavor = "medium" })).GetProperty("session_id").GetString()!;

        await client.OkAsync("write_file", new { session_id = session, path = "in/data.csv", content = "x,y\n1,2\n3,4\n" });
        await client.OkAsync("write_file", new { session_id = session, path = "in/blob.bin", content = Convert.ToBase64String([0, 1, 2, 255]), encoding = "base64" });
        var sum = await client.OkAsync("execute_code", new { session_id = session, code = "import csv\nsum(int(r['y']) for r in csv.DictReader(open('in/data.csv')))" });
        var binary = await client.OkAsync("read_file", new { session_id = session, path = "in/blob.bin" });
        var ranged = await client.OkAsync("read_file", new { session_id = session, path = "in/data.csv", offset = 4, length = 3 });
        var files = await client.OkAsync("list_files", new { session_id = session });
        await client.OkAsync("delete_file", new { session_id = session, path = "in/blob.bin" });
        var after = await client.OkAsync("execute_code", new { session_id = session, code = "import os\nsorted(os.listdir('in'))" });

        Assert.Equal(6, sum.GetProperty("result").GetProperty("json").GetInt32());
        Assert.Equal("base64", binary.GetProperty("encoding").GetString());
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, Convert.FromBase64String(binary.GetProperty("content").GetString()!));
        Assert.Equal("1,2", ranged.GetProperty("content").GetString());
        Assert.True(ranged.GetProperty("more").GetBoolean());
        Assert.Equal(3, files.GetProperty("files").GetArrayLength());
        Assert.Equal("['data.csv']", after.GetProperty("result").GetProperty("repr").GetString());
    }

    [Theory]
    [InlineData("python", "def handler(event, context):\n    return {'total': sum(event['values']), 'request': bool(context.aws_request_id)}")]
    [InlineData("javascript", "exports.handler = async (event, context) => ({ total: event.values.reduce((a, b) => a + b, 0), request: !!context.awsRequestId })")]
    public async Task Handler_mode_returns_the_handlers_json(string language, string code)
    {
        await using var client = await fixture.ConnectAsync();
        using var @event = JsonDocument.Parse("""{"values": [1, 2, 3]}""");

        var result = await client.OkAsync("execute_code", new { language, code, @event = @event.RootElement });

        var json = result.GetProperty("result").GetProperty("json");
        Assert.Equal(6, json.GetProperty("total").GetInt32());
        Assert.True(json.GetProperty("request").GetBoolean());
    }

    [Fact]
    public async Task Forks_diverge_from_their_origin()
    {
        await using var client = await fixture.ConnectAsync();
        var origin = (await client.OkAsync("execute_code", new { language = "javascript", code = "var items = ['base']; fs.writeFileSync('log.txt', 'base')" })).GetProperty("session_id").GetString()!;

        var fork = await client.OkAsync("fork_session", new { session_id = origin, new_session_id = $"fork-of-{origin}" });
        var forkId = fork.GetProperty("session_id").GetString()!;
        await client.OkAsync("execute_code", new { session_id = forkId, code = "items.push('fork'); fs.appendFileSync('log.txt', '+fork')" });
        await client.OkAsync("execute_code", new { session_id = origin, code = "items.push('origin')" });

        Assert.Equal($"fork-of-{origin}", forkId);
        Assert.Equal("[ 'base', 'fork' ]", (await client.OkAsync("execute_code", new { session_id = forkId, code = "items" })).GetProperty("result").GetProperty("repr").GetString());
        Assert.Equal("[ 'base', 'origin' ]", (await client.OkAsync("execute_code", new { session_id = origin, code = "items" })).GetProperty("result").GetProperty("repr").GetString());
        Assert.Equal("base+fork", (await client.OkAsync("read_file", new { session_id = forkId, path = "log.txt" })).GetProperty("content").GetString());
        Assert.Equal("base", (await client.OkAsync("read_file", new { session_id = origin, path = "log.txt" })).GetProperty("content").GetString());
    }

    [Fact]
    public async Task Reset_clears_memory_and_files_but_keeps_the_id()
    {
        await using var client = await fixture.ConnectAsync();
        var session = (await client.OkAsync("execute_code", new { code = "secret = 42\nopen('a.txt', 'w').write('x')" })).GetProperty("session_id").GetString()!;

        var reset = await client.OkAsync("reset_session", new { session_id = session });
        var probe = await client.OkAsync("execute_code", new { session_id = session, code = "import os\n('secret' in globals(), os.listdir('.'))" });

        Assert.Equal(session, reset.GetProperty("session_id").GetString());
        Assert.Equal("(False, [])", probe.GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task A_destroyed_session_cannot_be_used()
    {
        await using var client = await fixture.ConnectAsync();
        var session = (await client.OkAsync("execute_code", new { code = "1" })).GetProperty("session_id").GetString()!;

        var destroyed = await client.OkAsync("destroy_session", new { session_id = session });
        var error = await client.FailsAsync("execute_code", new { session_id = session, code = "1" }, "SESSION_NOT_FOUND");

        Assert.True(destroyed.GetProperty("destroyed").GetBoolean());
        Assert.Contains(session, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        var sessions = await client.OkAsync("list_sessions");
        Assert.DoesNotContain(sessions.GetProperty("sessions").EnumerateArray(), s => s.GetProperty("session_id").GetString() == session);
    }

    [Fact]
    public async Task Another_keys_sessions_are_invisible()
    {
        await using var alice = await fixture.ConnectAsync(AzuriteServerFixture.Key);
        await using var bob = await fixture.ConnectAsync(AzuriteServerFixture.OtherKey);
        var session = (await alice.OkAsync("execute_code", new { code = "private = 'alice'" })).GetProperty("session_id").GetString()!;
        await alice.OkAsync("write_file", new { session_id = session, path = "mine.txt", content = "alice" });

        await bob.FailsAsync("execute_code", new { session_id = session, code = "private" }, "SESSION_NOT_FOUND");
        await bob.FailsAsync("read_file", new { session_id = session, path = "mine.txt" }, "SESSION_NOT_FOUND");
        await bob.FailsAsync("destroy_session", new { session_id = session }, "SESSION_NOT_FOUND");
        var bobs = await bob.OkAsync("list_sessions");
        var uri = $"sandbox://sessions/{session}/workspace/mine.txt";
        await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(async () => await bob.Client.ReadResourceAsync(uri));
        Assert.DoesNotContain(await bob.Client.ListResourcesAsync(), r => r.Uri == uri);

        Assert.DoesNotContain(bobs.GetProperty("sessions").EnumerateArray(), s => s.GetProperty("session_id").GetString() == session);
        Assert.Equal("'alice'", (await alice.OkAsync("execute_code", new { session_id = session, code = "private" })).GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task A_session_created_on_one_instance_continues_on_another()
    {
        await using var first = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, AzuriteServerFixture.Key);
        await using var second = await ToolClient.ConnectAsync(fixture.SecondServer.McpEndpoint, AzuriteServerFixture.Key);

        var session = (await first.OkAsync("execute_code", new { code = "counter = 1" })).GetProperty("session_id").GetString()!;
        await second.OkAsync("execute_code", new { session_id = session, code = "counter += 10" });
        var back = await first.OkAsync("execute_code", new { session_id = session, code = "counter += 100\ncounter" });

        Assert.Equal(111, back.GetProperty("result").GetProperty("json").GetInt32());
    }

    [Fact]
    public async Task The_typescript_client_runs_a_javascript_session()
    {
        var output = await NodePeers.RunMcpClientAsync(fixture.Server.McpEndpoint, AzuriteServerFixture.Key, new object[]
        {
            new { op = "callTool", name = "execute_code", arguments = new { language = "javascript", code = "const people = [{ name: 'Ada', born: 1815 }, { name: 'Alan', born: 1912 }];\nfunction oldest(list) { return list.reduce((a, b) => (a.born < b.born ? a : b)).name }\npeople.length" } },
            new { op = "callTool", name = "execute_code", arguments = new { session_id = "$session", code = "oldest(people)" } },
            new { op = "callTool", name = "execute_code", arguments = new { session_id = "$session", code = "fs.writeFileSync('people.json', JSON.stringify(people)); console.log('saved', people.length)" } },
            new { op = "callTool", name = "read_file", arguments = new { session_id = "$session", path = "people.json" } },
            new { op = "listResources" },
        });

        Assert.False(output.TryGetProperty("error", out var error), error.ToString());
        var steps = output.GetProperty("steps");
        foreach (var step in steps.EnumerateArray())
        {
            Assert.False(step.TryGetProperty("error", out var stepError), stepError.ToString());
        }

        Assert.Equal(2, steps[0].GetProperty("result").GetProperty("structuredContent").GetProperty("result").GetProperty("json").GetInt32());
        Assert.Equal("Ada", steps[1].GetProperty("result").GetProperty("structuredContent").GetProperty("result").GetProperty("json").GetString());
        Assert.Equal("saved 2\n", steps[2].GetProperty("result").GetProperty("structuredContent").GetProperty("stdout").GetString());
        Assert.Contains("\"Ada\"", steps[3].GetProperty("result").GetProperty("structuredContent").GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.Contains(steps[4].GetProperty("result").GetProperty("resources").EnumerateArray(), r => r.GetProperty("uri").GetString()!.EndsWith("/workspace/people.json", StringComparison.Ordinal));
    }
}

using Azure;
using Microsoft.Extensions.Configuration;
using ModelContextProtocol;
using SandboxFunctions.Sessions;
using SandboxFunctions.Sessions.Storage;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

/// <summary>Every error the tools report, reached on purpose: each has its code, a message and suggestions.</summary>
[Collection(AzuriteServers.Name)]
public sealed class ErrorCodeTests(AzuriteServerFixture fixture)
{
    [Fact]
    public async Task Bad_arguments_each_get_their_own_code()
    {
        await using var client = await fixture.ConnectAsync();
        var session = (await client.OkAsync("create_session", new { language = "python", session_id = $"named-{Guid.NewGuid():N}" })).GetProperty("session_id").GetString()!;

        await client.FailsAsync("create_session", new { language = "python", session_id = session }, "SESSION_EXISTS");
        await client.FailsAsync("create_session", new { language = "python", session_id = "has space" }, "INVALID_SESSION_ID");
        await client.FailsAsync("create_session", new { language = "ruby" }, "UNSUPPORTED_LANGUAGE");
        await client.FailsAsync("create_session", new { language = "python", flavor = "gigantic" }, "UNKNOWN_FLAVOR");
        await client.FailsAsync("create_session", new { language = "python", ttl_seconds = 5 }, "INVALID_TTL");
        await client.FailsAsync("execute_code", new { session_id = session, code = "1", language = "javascript" }, "LANGUAGE_MISMATCH");
        var timeout = await client.FailsAsync("execute_code", new { session_id = session, code = "1", timeout_seconds = 1000 }, "INVALID_TIMEOUT");
        await client.FailsAsync("execute_code", new { session_id = "no-such-session", code = "1" }, "SESSION_NOT_FOUND");

        Assert.Contains("120", timeout.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workspace_misuse_each_gets_its_own_code()
    {
        await using var client = await fixture.ConnectAsync();
        var session = (await client.OkAsync("execute_code", new { code = "import os\nos.makedirs('folder')\nopen('small.txt', 'w').write('abc')" })).GetProperty("session_id").GetString()!;

        await client.FailsAsync("read_file", new { session_id = session, path = "missing.txt" }, "FILE_NOT_FOUND");
        await client.FailsAsync("read_file", new { session_id = session, path = "../../etc/passwd" }, "PATH_OUTSIDE_WORKSPACE");
        await client.FailsAsync("read_file", new { session_id = session, path = "/etc/passwd" }, "PATH_OUTSIDE_WORKSPACE");
        await client.FailsAsync("write_file", new { session_id = session, path = "bad\\name.txt", content = "x" }, "INVALID_PATH");
        await client.FailsAsync("read_file", new { session_id = session, path = "folder" }, "IS_A_DIRECTORY");
        await client.FailsAsync("read_file", new { session_id = session, path = "small.txt", offset = 100 }, "INVALID_RANGE");
        await client.FailsAsync("write_file", new { session_id = session, path = "x.bin", content = "not base64!!", encoding = "base64" }, "INVALID_CONTENT");

        var files = await client.OkAsync("list_files", new { session_id = session });
        Assert.DoesNotContain(files.GetProperty("files").EnumerateArray(), f => f.GetProperty("path").GetString() == "/workspace/x.bin");
    }

    [Theory]
    [InlineData("CODE_ERROR", "def f():\n    raise ValueError('bad input')\nf()", 10)]
    [InlineData("TIMEOUT", "while True:\n    pass", 0.5)]
    [InlineData("MEMORY_LIMIT", "chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))", 30)]
    [InlineData("OUTPUT_LIMIT", "print('x' * (40 * 1024 * 1024))", 30)]
    [InlineData("INTERPRETER_CRASHED", "import sys\nsys.setrecursionlimit(10**7)\nclass Loop:\n    def __repr__(self):\n        return repr(self)\nrepr(Loop())", 30)]
    public async Task Executions_that_fail_report_why_and_keep_the_session_usable(string code, string source, double timeout)
    {
        await using var client = await fixture.ConnectAsync();
        var session = (await client.OkAsync("execute_code", new { code = "kept = 'yes'" })).GetProperty("session_id").GetString()!;

        var error = await client.FailsAsync("execute_code", new { session_id = session, code = source, timeout_seconds = timeout }, code);
        var after = await client.OkAsync("execute_code", new { session_id = session, code = "kept" });

        Assert.Equal("'yes'", after.GetProperty("result").GetProperty("repr").GetString());
        if (code == "CODE_ERROR")
        {
            Assert.Equal("ValueError", error.GetProperty("type").GetString());
            Assert.Contains("raise ValueError('bad input')", error.GetProperty("traceback").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Code_larger_than_the_limit_is_refused()
    {
        await using var client = await fixture.ConnectAsync();

        var error = await client.FailsAsync("execute_code", new { code = "x = 1\n#" + new string('a', 1_200_000) }, "CODE_TOO_LARGE");

        Assert.Contains("1048576", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_or_mistyped_arguments_are_invalid_params()
    {
        await using var client = await fixture.ConnectAsync();

        var missing = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallAsync("execute_code", new { language = "python" }));
        var mistyped = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallAsync("execute_code", new { code = "1", timeout_seconds = "soon" }));
        var misspelt = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallAsync("execute_code", new { code = "1", sessionId = "abc" }));

        Assert.All(new[] { missing, mistyped, misspelt }, e => Assert.Equal(McpErrorCode.InvalidParams, e.ErrorCode));
        Assert.Contains("'code'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("timeout_seconds", mistyped.Message, StringComparison.Ordinal);
        Assert.Contains("session_id", misspelt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_call_while_one_runs_is_busy_on_the_same_instance()
    {
        await using var client = await fixture.ConnectAsync();
        var session = (await client.OkAsync("execute_code", new { code = "import time" })).GetProperty("session_id").GetString()!;

        var slow = await client.StartAsync("execute_code", new { session_id = session, code = "print('started', flush=True)\ntime.sleep(6)\n'slow done'" });
        await client.FailsAsync("execute_code", new { session_id = session, code = "1" }, "SESSION_BUSY");

        Assert.False((await slow).IsError);
    }

    [Fact]
    public async Task Racing_calls_on_two_instances_lose_no_update_and_the_loser_is_told()
    {
        await using var first = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, AzuriteServerFixture.Key);
        await using var second = await ToolClient.ConnectAsync(fixture.SecondServer.McpEndpoint, AzuriteServerFixture.Key);
        var session = (await first.OkAsync("execute_code", new { code = "import time\nwinner = None" })).GetProperty("session_id").GetString()!;
        await second.OkAsync("execute_code", new { session_id = session, code = "warm = True" });

        var slow = await first.StartAsync("execute_code", new { session_id = session, code = "print('started', flush=True)\ntime.sleep(6)\nwinner = 'first'" });
        await second.OkAsync("execute_code", new { session_id = session, code = "winner = 'second'" });
        var lost = await slow;

        Assert.True(lost.IsError);
        Assert.Equal("SESSION_CONFLICT", lost.Structured.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("retry", lost.Text, StringComparison.OrdinalIgnoreCase);
        var state = await first.OkAsync("execute_code", new { session_id = session, code = "(winner, warm)" });
        Assert.Equal("('second', True)", state.GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task Stored_state_that_was_tampered_with_or_is_from_another_build_is_refused()
    {
        await using var writer = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, AzuriteServerFixture.Key);
        await using var reader = await ToolClient.ConnectAsync(fixture.SecondServer.McpEndpoint, AzuriteServerFixture.Key);
        var tampered = (await writer.OkAsync("execute_code", new { code = "value = 1" })).GetProperty("session_id").GetString()!;
        var foreign = (await writer.OkAsync("execute_code", new { code = "value = 2" })).GetProperty("session_id").GetString()!;
        var storage = StorageProviderFactory.Create(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["SessionStorage"] = fixture.Azurite.ConnectionString }).Build(),
            Path.GetTempPath(),
            TimeProvider.System);

        var records = storage.GetTable(SessionStore.TableName);
        var snapshots = storage.GetContainer(SessionStore.ContainerName);
        await foreach (var entity in records.QueryAsync(EntityFilter.Equal("SessionId", tampered)))
        {
            var blobName = entity.GetString("SnapshotBlob")!;
            var stored = (await snapshots.DownloadAsync(blobName))!;
            stored.Content[stored.Content.Length / 2] ^= 0x5A;
            await snapshots.UploadAsync(blobName, stored.Content, stored.Metadata);
        }

        await foreach (var entity in records.QueryAsync(EntityFilter.Equal("SessionId", foreign)))
        {
            var changed = new Dictionary<string, object?>(entity.Properties) { ["RuntimeBuildId"] = "python-0000000000000000" };
            await records.UpdateAsync(entity with { Properties = changed }, ETag.All);
        }

        var corrupted = await reader.FailsAsync("execute_code", new { session_id = tampered, code = "value" }, "SESSION_CORRUPTED");
        await reader.FailsAsync("execute_code", new { session_id = foreign, code = "value" }, "RUNTIME_CHANGED");
        Assert.Contains("integrity", corrupted.GetProperty("message").GetString(), StringComparison.Ordinal);

        await reader.OkAsync("reset_session", new { session_id = foreign });
        Assert.Equal("3", (await reader.OkAsync("execute_code", new { session_id = foreign, code = "1 + 2" })).GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task Quotas_of_the_server_each_get_their_own_code()
    {
        const string quotaKey = "key-for-quota-tests-000000";
        await using var server = await fixture.StartServerAsync(new Dictionary<string, string?>
        {
            ["Auth__FunctionKeys"] = quotaKey,
            ["Sessions__MaxSessionsPerOwner"] = "2",
            ["Flavors__small__WorkspaceMiB"] = "1",
            ["Sandbox__MaxConcurrentExecutions"] = "1",
            ["Sandbox__MaxQueuedExecutions"] = "0",
        });
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, quotaKey);

        var first = (await client.OkAsync("execute_code", new { code = "import time" })).GetProperty("session_id").GetString()!;
        var second = (await client.OkAsync("create_session", new { language = "python" })).GetProperty("session_id").GetString()!;
        await client.FailsAsync("create_session", new { language = "python" }, "SESSION_LIMIT_REACHED");
        var full = await client.FailsAsync("write_file", new { session_id = first, path = "big.txt", content = new string('x', 1_500_000) }, "WORKSPACE_LIMIT");

        var slow = await client.StartAsync("execute_code", new { session_id = first, code = "print('started', flush=True)\ntime.sleep(6)" });
        await client.FailsAsync("execute_code", new { session_id = second, code = "1" }, "SERVER_BUSY");
        await slow;

        Assert.Contains("bytes", full.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_storage_is_reported_and_nothing_is_lost()
    {
        var azurite = await AzuriteProcess.StartAsync();
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string?>
        {
            ["Auth__FunctionKeys"] = AzuriteServerFixture.Key,
            ["SessionStorage"] = azurite.ConnectionString,
        });
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, AzuriteServerFixture.Key);
        var session = (await client.OkAsync("execute_code", new { code = "x = 1" })).GetProperty("session_id").GetString()!;

        await azurite.DisposeAsync();

        var error = await client.FailsAsync("execute_code", new { session_id = session, code = "x" }, "STORAGE_UNAVAILABLE");
        Assert.DoesNotContain("devstoreaccount1", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}

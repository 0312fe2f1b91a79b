using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

/// <summary>Sessions outlive the server process, with either store.</summary>
[Collection(AzuriteServers.Name)]
public sealed class SessionDurabilityTests(AzuriteServerFixture fixture)
{
    private const string Key = AzuriteServerFixture.Key;

    [Fact]
    public async Task A_session_survives_a_restart_with_the_embedded_file_store()
    {
        var dataPath = Directory.CreateTempSubdirectory("sandbox-data-").FullName;
        var settings = new Dictionary<string, string?> { ["Auth__FunctionKeys"] = Key };

        string session;
        await using (var server = await ServerProcess.StartAsync(settings, dataPath: dataPath))
        await using (var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key))
        {
            session = (await client.OkAsync("execute_code", new { code = "def greet(name):\n    return f'hello {name}'\nopen('kept.txt', 'w').write('on disk')" })).GetProperty("session_id").GetString()!;
        }

        await using var restarted = await ServerProcess.StartAsync(settings, dataPath: dataPath);
        await using var again = await ToolClient.ConnectAsync(restarted.McpEndpoint, Key);
        var result = await again.OkAsync("execute_code", new { session_id = session, code = "greet('again'), open('kept.txt').read()" });

        Assert.Equal("('hello again', 'on disk')", result.GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task A_session_survives_a_restart_with_azure_storage()
    {
        string session;
        await using (var server = await fixture.StartServerAsync())
        await using (var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key))
        {
            session = (await client.OkAsync("execute_code", new { language = "javascript", code = "const memo = new Map([['answer', 42]]);" })).GetProperty("session_id").GetString()!;
        }

        await using var restarted = await fixture.StartServerAsync();
        await using var again = await ToolClient.ConnectAsync(restarted.McpEndpoint, Key);
        var result = await again.OkAsync("execute_code", new { session_id = session, code = "memo.get('answer')" });

        Assert.Equal(42, result.GetProperty("result").GetProperty("json").GetInt32());
    }
}

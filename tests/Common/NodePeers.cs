using System.Text.Json;

namespace SandboxFunctions.Testing;

/// <summary>
/// The npm packages the tests talk to (the official MCP TypeScript client and the storage emulator),
/// installed once from the lock file into tests/node.
/// </summary>
internal static class NodePeers
{
    public static Task EnsureInstalledAsync() => NodePackages.EnsureInstalledAsync(TestPaths.NodePeers);

    /// <summary>Runs the TypeScript MCP client script with the given steps and returns what it printed.</summary>
    public static async Task<JsonElement> RunMcpClientAsync(Uri endpoint, string? functionKey, object steps, TimeSpan? timeout = null)
    {
        await EnsureInstalledAsync();
        var environment = new Dictionary<string, string?> { ["MCP_FUNCTION_KEY"] = functionKey };
        await using var node = ChildProcess.Start(
            "node",
            [Path.Combine(TestPaths.NodePeers, "mcp-client.mjs"), endpoint.ToString(), JsonSerializer.Serialize(steps)],
            environment,
            TestPaths.NodePeers);
        var exitCode = await node.WaitForExitAsync(timeout ?? TimeSpan.FromMinutes(3));
        Assert.True(exitCode == 0, $"The TypeScript client exited with {exitCode}:\n{node.Output}");
        var json = node.Output.Split('\n').Last(line => line.StartsWith('{'));
        return JsonDocument.Parse(json).RootElement.Clone();
    }
}

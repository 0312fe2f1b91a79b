using System.Text.Json;

namespace SandboxFunctions.Testing;

/// <summary>
/// The npm packages the tests talk to (the official MCP TypeScript client and the storage emulator),
/// installed once from the lock file into tests/node.
/// </summary>
internal static class NodePeers
{
    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static bool s_installed;

    public static async Task EnsureInstalledAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            if (s_installed)
            {
                return;
            }

            // Test assemblies run in separate processes, so a lock file keeps them from installing at once.
            var lockPath = Path.Combine(TestPaths.NodePeers, ".install.lock");
            await using var installLock = await AcquireFileLockAsync(lockPath);
            var marker = Path.Combine(TestPaths.NodePeers, "node_modules", ".installed-from");
            var lockFileStamp = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
                await File.ReadAllBytesAsync(Path.Combine(TestPaths.NodePeers, "package-lock.json"))));
            if (!File.Exists(marker) || File.ReadAllText(marker) != lockFileStamp)
            {
                await using var npm = ChildProcess.Start("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], new Dictionary<string, string?>(), TestPaths.NodePeers);
                var exitCode = await npm.WaitForExitAsync(TimeSpan.FromMinutes(10));
                if (exitCode != 0)
                {
                    throw new InvalidOperationException($"npm ci failed with exit code {exitCode}:\n{npm.Output}");
                }

                await File.WriteAllTextAsync(marker, lockFileStamp);
            }

            s_installed = true;
        }
        finally
        {
            InstallGate.Release();
        }
    }

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

    private static async Task<FileStream> AcquireFileLockAsync(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}

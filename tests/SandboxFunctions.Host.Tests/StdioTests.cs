using System.Text.Json;
using ModelContextProtocol.Client;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

public sealed class StdioTests
{
    [Fact]
    public async Task Stdio_mode_serves_the_same_tools_and_keeps_logs_off_stdout()
    {
        var stderr = new List<string>();
        var dataPath = Directory.CreateTempSubdirectory("sandbox-data-").FullName;
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = "dotnet",
            Arguments = [TestPaths.HostAssembly, "--stdio"],
            WorkingDirectory = TestPaths.RepositoryRoot,
            EnvironmentVariables = new Dictionary<string, string?>
            {
                ["Storage__DataPath"] = dataPath,
                ["Logging__LogLevel__Default"] = "Information",
            },
            StandardErrorLines = line => { lock (stderr) { stderr.Add(line); } },
        });

        await using (var client = await McpClient.CreateAsync(transport))
        {
            var tools = await client.ListToolsAsync();
            Assert.Contains(tools, t => t.Name == "list_runtimes");

            var result = await client.CallToolAsync("list_runtimes");
            Assert.Equal(JsonValueKind.Array, result.StructuredContent!.Value.GetProperty("runtimes").ValueKind);
        }

        lock (stderr)
        {
            Assert.Contains(stderr, line => line.Contains("Application started", StringComparison.Ordinal));
        }
    }
}

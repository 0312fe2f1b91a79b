using System.Net.Http;

namespace SandboxFunctions.Testing;

/// <summary>The real server, built by the solution, running in its own process on a loopback port.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly ChildProcess _process;

    private ServerProcess(ChildProcess process, Uri baseAddress, string dataPath)
    {
        _process = process;
        BaseAddress = baseAddress;
        DataPath = dataPath;
    }

    public Uri BaseAddress { get; }

    public Uri McpEndpoint => new(BaseAddress, "/mcp");

    public string DataPath { get; }

    public string Output => _process.Output;

    public int ProcessId => _process.Id;

    /// <summary>Starts the server and waits until <c>/health</c> answers.</summary>
    /// <param name="environment">Settings for the server, e.g. <c>Auth__FunctionKeys</c>.</param>
    /// <param name="urls">Passed as <c>--urls</c>; when null a free loopback port is used.</param>
    /// <param name="dataPath">The session store folder; a new temporary folder when null.</param>
    /// <param name="requireHealthy">When false, any answer from <c>/health</c> counts as started.</param>
    /// <param name="hostAssembly">The server to run; the solution's build of it when null.</param>
    public static async Task<ServerProcess> StartAsync(
        IReadOnlyDictionary<string, string?>? environment = null,
        string? urls = null,
        string? dataPath = null,
        bool requireHealthy = true,
        string? hostAssembly = null)
    {
        var settings = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>());
        dataPath ??= Directory.CreateTempSubdirectory("sandbox-data-").FullName;
        settings.TryAdd("Storage__DataPath", dataPath);
        settings.TryAdd("DOTNET_NOLOGO", "1");

        var port = FreePort.Next();
        if (urls is null)
        {
            urls = $"http://127.0.0.1:{port}";
        }
        else
        {
            port = new Uri(urls.Split(';')[0].Replace("://*", "://wildcard", StringComparison.Ordinal)).Port;
        }

        var process = ChildProcess.Start("dotnet", [hostAssembly ?? TestPaths.HostAssembly, "--urls", urls], settings, TestPaths.RepositoryRoot);
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}"), dataPath);
        await server.WaitUntilAnsweringAsync(requireHealthy);
        return server;
    }

    private async Task WaitUntilAnsweringAsync(bool requireHealthy)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                // Waiting for the exit also waits until the last of its output has been read.
                await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
                throw new InvalidOperationException($"The server exited during startup. Output:\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "/health"));
                if (response.IsSuccessStatusCode || !requireHealthy)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            // Often enough that the start-up benchmark measures start-up, not this interval.
            await Task.Delay(10);
        }

        throw new TimeoutException($"The server did not answer /health within {StartTimeout}. Output:\n{Output}");
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}

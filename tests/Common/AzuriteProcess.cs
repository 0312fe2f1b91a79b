using System.Net.Http;

namespace SandboxFunctions.Testing;

/// <summary>
/// The Azure Storage emulator from tests/node, serving Blob, Queue and Table on free loopback ports with
/// in-memory persistence. Each instance has its own ports, so test assemblies running at once do not meet.
/// </summary>
internal sealed class AzuriteProcess : IAsyncDisposable
{
    public const string AccountName = "devstoreaccount1";

    /// <summary>The emulator's fixed, publicly documented key.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly ChildProcess _process;
    private readonly DirectoryInfo _workspace;

    private AzuriteProcess(ChildProcess process, DirectoryInfo workspace, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        _workspace = workspace;
        BlobEndpoint = new Uri($"http://127.0.0.1:{blobPort}/{AccountName}");
        QueueEndpoint = new Uri($"http://127.0.0.1:{queuePort}/{AccountName}");
        TableEndpoint = new Uri($"http://127.0.0.1:{tablePort}/{AccountName}");
    }

    public Uri BlobEndpoint { get; }

    public Uri QueueEndpoint { get; }

    public Uri TableEndpoint { get; }

    /// <summary>A connection string naming this instance's endpoints explicitly.</summary>
    public string ConnectionString => ConnectionStringWithKey(AccountKey);

    public string Output => _process.Output;

    public string ConnectionStringWithKey(string accountKey) =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={accountKey};" +
        $"BlobEndpoint={BlobEndpoint};QueueEndpoint={QueueEndpoint};TableEndpoint={TableEndpoint};";

    public static async Task<AzuriteProcess> StartAsync()
    {
        await NodePackages.EnsureInstalledAsync(TestPaths.NodePeers);
        var script = Path.Combine(TestPaths.NodePeers, "node_modules", "azurite", "dist", "src", "azurite.js");

        // A port found free can be taken by another process before the emulator binds it; then try new ones.
        for (var attempt = 1; ; attempt++)
        {
            var ports = DistinctFreePorts(3);
            var workspace = Directory.CreateTempSubdirectory("azurite-");
            var process = ChildProcess.Start(
                "node",
                [
                    script,
                    "--blobHost", "127.0.0.1", "--blobPort", ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--queueHost", "127.0.0.1", "--queuePort", ports[1].ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--tableHost", "127.0.0.1", "--tablePort", ports[2].ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--inMemoryPersistence", "--silent", "--disableTelemetry",
                ],
                new Dictionary<string, string?>(),
                workspace.FullName);
            var azurite = new AzuriteProcess(process, workspace, ports[0], ports[1], ports[2]);
            if (await azurite.WaitUntilAnsweringAsync())
            {
                return azurite;
            }

            var output = azurite.Output;
            await azurite.DisposeAsync();
            if (attempt == 3 || !output.Contains("EADDRINUSE", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The storage emulator did not start. Output:\n{output}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        try
        {
            _workspace.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>True once every service answers HTTP; false when the process exits first.</summary>
    private async Task<bool> WaitUntilAnsweringAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + StartTimeout;
        var pending = new List<Uri> { BlobEndpoint, QueueEndpoint, TableEndpoint };
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                return false;
            }

            foreach (var endpoint in pending.ToList())
            {
                try
                {
                    // Any answer, even a refusal of the unsigned request, means the service is listening.
                    using var response = await http.GetAsync(endpoint);
                    pending.Remove(endpoint);
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }
            }

            if (pending.Count == 0)
            {
                return true;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"The storage emulator did not answer within {StartTimeout}. Output:\n{Output}");
    }

    private static int[] DistinctFreePorts(int count)
    {
        var ports = new HashSet<int>();
        while (ports.Count < count)
        {
            ports.Add(FreePort.Next());
        }

        return [.. ports];
    }
}

using System.Net.Http;

namespace SandboxFunctions.Testing;

/// <summary>
/// The Azure Storage emulator from tests/node, serving Blob, Queue and Table on free loopback ports, keeping its
/// data in memory, or on disk when it must survive a stop and a new start on the same ports. Each instance has its
/// own ports, so test assemblies running at once do not meet.
/// </summary>
internal sealed class AzuriteProcess : IAsyncDisposable
{
    public const string AccountName = "devstoreaccount1";

    /// <summary>The emulator's fixed, publicly documented key.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly DirectoryInfo _workspace;
    private readonly int[] _ports;
    private readonly bool _onDisk;
    private ChildProcess? _process;

    private AzuriteProcess(DirectoryInfo workspace, int blobPort, int queuePort, int tablePort, bool onDisk)
    {
        _workspace = workspace;
        _ports = [blobPort, queuePort, tablePort];
        _onDisk = onDisk;
        BlobEndpoint = new Uri($"http://127.0.0.1:{blobPort}/{AccountName}");
        QueueEndpoint = new Uri($"http://127.0.0.1:{queuePort}/{AccountName}");
        TableEndpoint = new Uri($"http://127.0.0.1:{tablePort}/{AccountName}");
    }

    public Uri BlobEndpoint { get; }

    public Uri QueueEndpoint { get; }

    public Uri TableEndpoint { get; }

    /// <summary>A connection string naming this instance's endpoints explicitly.</summary>
    public string ConnectionString => ConnectionStringWithKey(AccountKey);

    public string Output => _process?.Output ?? string.Empty;

    public string ConnectionStringWithKey(string accountKey) =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={accountKey};" +
        $"BlobEndpoint={BlobEndpoint};QueueEndpoint={QueueEndpoint};TableEndpoint={TableEndpoint};";

    /// <param name="onDisk">Keep the data in the instance's folder, so that it survives <see cref="StopAsync"/>.</param>
    public static async Task<AzuriteProcess> StartAsync(bool onDisk = false)
    {
        // A port found free can be taken by another process before the emulator binds it; then try new ones.
        for (var attempt = 1; ; attempt++)
        {
            var azurite = Prepare(onDisk);
            try
            {
                await azurite.StartAgainAsync();
                return azurite;
            }
            catch (InvalidOperationException) when (attempt < 3 && azurite.Output.Contains("EADDRINUSE", StringComparison.Ordinal))
            {
                await azurite.DisposeAsync();
            }
        }
    }

    /// <summary>An emulator with its ports and data folder chosen but not started, for callers that must meet it down.</summary>
    public static AzuriteProcess Prepare(bool onDisk = true)
    {
        var ports = DistinctFreePorts(3);
        return new AzuriteProcess(Directory.CreateTempSubdirectory("azurite-"), ports[0], ports[1], ports[2], onDisk);
    }

    /// <summary>Starts the emulator on its ports (again, after <see cref="StopAsync"/>), and waits until every service answers.</summary>
    public async Task StartAgainAsync()
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("The storage emulator is already running.");
        }

        await NodePackages.EnsureInstalledAsync(TestPaths.NodePeers);
        var script = Path.Combine(TestPaths.NodePeers, "node_modules", "azurite", "dist", "src", "azurite.js");
        string[] persistence = _onDisk ? ["--location", Path.Combine(_workspace.FullName, "data")] : ["--inMemoryPersistence"];
        _process = ChildProcess.Start(
            "node",
            [
                script,
                "--blobHost", "127.0.0.1", "--blobPort", Port(0),
                "--queueHost", "127.0.0.1", "--queuePort", Port(1),
                "--tableHost", "127.0.0.1", "--tablePort", Port(2),
                .. persistence, "--silent", "--disableTelemetry",
            ],
            new Dictionary<string, string?>(),
            _workspace.FullName);
        if (!await WaitUntilAnsweringAsync())
        {
            throw new InvalidOperationException($"The storage emulator did not start. Output:\n{Output}");
        }
    }

    /// <summary>Stops the emulator, as an outage would; with on-disk data, <see cref="StartAgainAsync"/> brings it back as it was.</summary>
    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.StopAsync(TimeSpan.FromSeconds(10));
            await _process.DisposeAsync();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
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
            if (_process is null || _process.HasExited)
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

    private string Port(int service) => _ports[service].ToString(System.Globalization.CultureInfo.InvariantCulture);

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

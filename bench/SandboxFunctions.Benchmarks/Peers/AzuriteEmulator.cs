using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SandboxFunctions.Benchmarks.Peers;

/// <summary>The Azure Storage emulator from the test suite's Node packages, on free loopback ports, keeping everything in memory.</summary>
internal sealed class AzuriteEmulator : IAsyncDisposable
{
    private const string AccountName = "devstoreaccount1";

    /// <summary>The emulator's fixed, publicly documented key.</summary>
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly DirectoryInfo _workspace;
    private readonly Uri[] _endpoints;

    private AzuriteEmulator(Process process, DirectoryInfo workspace, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        _workspace = workspace;
        _endpoints = [Endpoint(blobPort), Endpoint(queuePort), Endpoint(tablePort)];
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
            $"BlobEndpoint={_endpoints[0]};QueueEndpoint={_endpoints[1]};TableEndpoint={_endpoints[2]};";
    }

    public string ConnectionString { get; }

    public static async Task<AzuriteEmulator> StartAsync()
    {
        await NodePackages.EnsureInstalledAsync(RepositoryPaths.TestNodePeers);

        // A port found free can be taken by another process before the emulator binds it; then try new ones.
        for (var attempt = 1; ; attempt++)
        {
            var emulator = Launch();
            try
            {
                await emulator.WaitUntilAnsweringAsync();
                return emulator;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                await emulator.DisposeAsync();
            }
            catch
            {
                await emulator.DisposeAsync();
                throw;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            _workspace.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    private static AzuriteEmulator Launch()
    {
        var script = Path.Combine(RepositoryPaths.TestNodePeers, "node_modules", "azurite", "dist", "src", "azurite.js");
        var ports = FreePorts(3);
        var workspace = Directory.CreateTempSubdirectory("bench-azurite-");
        var info = new ProcessStartInfo("node") { WorkingDirectory = workspace.FullName, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            script,
            "--blobHost", "127.0.0.1", "--blobPort", Port(ports[0]),
            "--queueHost", "127.0.0.1", "--queuePort", Port(ports[1]),
            "--tableHost", "127.0.0.1", "--tablePort", Port(ports[2]),
            "--inMemoryPersistence", "--silent", "--disableTelemetry",
        })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("node could not be started.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new AzuriteEmulator(process, workspace, ports[0], ports[1], ports[2]);
    }

    private async Task WaitUntilAnsweringAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + StartTimeout;
        var pending = new List<Uri>(_endpoints);
        while (pending.Count > 0)
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"The storage emulator did not start (exited: {_process.HasExited}).");
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

            await Task.Delay(50);
        }
    }

    private static Uri Endpoint(int port) => new($"http://127.0.0.1:{port}/{AccountName}");

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static int[] FreePorts(int count)
    {
        var ports = new HashSet<int>();
        while (ports.Count < count)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            ports.Add(((IPEndPoint)listener.LocalEndpoint).Port);
        }

        return [.. ports];
    }
}

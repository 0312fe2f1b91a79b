using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

/// <summary>
/// Azurite plus two server processes sharing it (as two Functions instances would), each accepting two
/// function keys, shared by every class of the <see cref="AzuriteServers"/> collection. Tests that need other
/// settings start their own server against the same Azurite.
/// </summary>
public sealed class AzuriteServerFixture : IAsyncLifetime
{
    public const string Key = "key-for-alice-0123456789";
    public const string OtherKey = "key-for-bob-9876543210";

    private AzuriteProcess? _azurite;
    private ServerProcess? _server;
    private ServerProcess? _secondServer;

    internal AzuriteProcess Azurite => _azurite ?? throw new InvalidOperationException("Azurite has not started.");

    internal ServerProcess Server => _server ?? throw new InvalidOperationException("The server has not started.");

    internal ServerProcess SecondServer => _secondServer ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteProcess.StartAsync();
        var servers = await Task.WhenAll(StartServerAsync(), StartServerAsync());
        (_server, _secondServer) = (servers[0], servers[1]);
    }

    /// <summary>A server over this fixture's Azurite, with extra settings.</summary>
    internal Task<ServerProcess> StartServerAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["Auth__FunctionKeys"] = $"{Key},{OtherKey}",
            ["SessionStorage"] = Azurite.ConnectionString,
            ["Snapshots__SigningKey"] = Convert.ToBase64String("signing-key-for-tests-32-bytes!!"u8),

            // Every class of the collection creates sessions with the same keys.
            ["Sessions__MaxSessionsPerOwner"] = "1000",
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            environment[name] = value;
        }

        return ServerProcess.StartAsync(environment);
    }

    internal Task<ToolClient> ConnectAsync(string key = Key) => ToolClient.ConnectAsync(Server.McpEndpoint, key);

    public async Task DisposeAsync()
    {
        foreach (var server in new[] { _server, _secondServer })
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }

        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteServers : ICollectionFixture<AzuriteServerFixture>
{
    public const string Name = "azurite servers";
}

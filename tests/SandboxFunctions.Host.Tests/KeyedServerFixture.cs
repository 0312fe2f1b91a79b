using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

/// <summary>One server with two function keys, shared by every class of the <see cref="KeyedServers"/> collection.</summary>
public sealed class KeyedServerFixture : IAsyncLifetime
{
    public const string Key = "test-key-alpha-0123456789";
    public const string OtherKey = "test-key-beta-9876543210";

    private ServerProcess? _server;

    internal ServerProcess Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync()
    {
        _server = await ServerProcess.StartAsync(new Dictionary<string, string?>
        {
            ["Auth__FunctionKeys"] = $"{Key}, {OtherKey}",
            ["Mcp__MaxRequestBodyBytes"] = "65536",
            ["Mcp__AllowedOrigins"] = "https://allowed.example",
        });
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class KeyedServers : ICollectionFixture<KeyedServerFixture>
{
    public const string Name = "keyed server";
}

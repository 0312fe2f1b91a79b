using SandboxFunctions.Testing;

namespace SandboxFunctions.Sessions.Tests.Storage;

/// <summary>One storage emulator per test class that asks for it.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? _azurite;

    internal AzuriteProcess Azurite => _azurite ?? throw new InvalidOperationException("The emulator has not started.");

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}

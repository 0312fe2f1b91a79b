using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Host;

/// <summary>Boots the guest interpreters in the background at startup, so the first call does not pay for it.</summary>
internal sealed partial class RuntimeWarmUp(RuntimeCatalog runtimes, ILogger<RuntimeWarmUp> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await runtimes.WarmUpAsync().WaitAsync(stoppingToken).ConfigureAwait(false);
            LogReady(logger, runtimes.Runtimes.Count);
        }
        catch (SandboxException ex)
        {
            LogFailed(logger, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} guest runtimes are ready.")]
    private static partial void LogReady(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "A guest runtime failed to start: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}

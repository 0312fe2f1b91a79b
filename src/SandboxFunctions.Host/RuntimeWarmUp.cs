using SandboxFunctions.Sandbox;
using SandboxFunctions.Tools.Data;

namespace SandboxFunctions.Host;

/// <summary>
/// Boots the guest interpreters in the background at startup, so the first call does not pay for it, and lists the
/// data volumes once, so that a volume whose source is missing is reported at start rather than first found by a caller.
/// </summary>
internal sealed partial class RuntimeWarmUp(RuntimeCatalog runtimes, DataVolumes volumes, ILogger<RuntimeWarmUp> logger) : BackgroundService
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

        foreach (var volume in await volumes.DescribeAsync(stoppingToken).ConfigureAwait(false))
        {
            if (volume.Error is { } error)
            {
                LogVolumeUnavailable(logger, error);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} guest runtimes are ready.")]
    private static partial void LogReady(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Reason} Sessions see it empty until that is fixed.")]
    private static partial void LogVolumeUnavailable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "A guest runtime failed to start: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}

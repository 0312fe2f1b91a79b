using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Sessions;

/// <summary>Runs the reaper on a timer inside the process, for when no Functions timer trigger does.</summary>
public sealed partial class SessionReaperService(SessionReaper reaper, IOptions<SessionStoreOptions> options, TimeProvider time, ILogger<SessionReaperService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReapInterval, time);
        do
        {
            try
            {
                await reaper.ReapAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (StorageException ex)
            {
                LogReapFailed(logger, ex.Kind.ToString(), ex.Message);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The reaper is housekeeping: a failed round must never take the server down.
                LogReapFailed(logger, ex.GetType().Name, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reaping sessions failed ({Kind}): {Reason}; it will be retried.")]
    private static partial void LogReapFailed(ILogger logger, string kind, string reason);
}

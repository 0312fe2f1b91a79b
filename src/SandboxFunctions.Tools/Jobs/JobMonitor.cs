using Microsoft.Extensions.Logging;
using SandboxFunctions.Sessions;

namespace SandboxFunctions.Tools.Jobs;

/// <summary>
/// Watches a running job: saves its output so far, stops it when a cancel arrives, and renews its hold on the
/// session so the hold lapses only if this worker dies.
/// </summary>
internal sealed partial class JobMonitor(JobRunner runner, JobRecord job, JobOutput output, CancellationTokenSource execution) : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private bool _cancelRequested;

    public void Start(JobHold hold) => _loop = Task.Run(() => WatchAsync(hold));

    /// <summary>Stops watching; true when the job's caller cancelled it.</summary>
    public async Task<bool> StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        return _cancelRequested;
    }

    public void Dispose() => _stop.Dispose();

    private async Task WatchAsync(JobHold hold)
    {
        var settings = runner.Settings;
        var savedVersion = output.Version;
        var lastRenewal = DateTimeOffset.UtcNow;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(settings.ProgressInterval, _stop.Token).ConfigureAwait(false);
                var latest = await runner.Store.GetAsync(job.Owner, job.Id, _stop.Token).ConfigureAwait(false);
                if (latest is null || latest.CancelRequested)
                {
                    _cancelRequested = true;
                    await execution.CancelAsync().ConfigureAwait(false);
                    return;
                }

                var version = output.Version;
                if (version != savedVersion && await runner.Store.TryUpdateAsync(latest with { Stdout = output.Stdout, Stderr = output.Stderr }, _stop.Token).ConfigureAwait(false) is not null)
                {
                    savedVersion = version;
                }

                if (DateTimeOffset.UtcNow - lastRenewal >= hold.Duration / 4)
                {
                    if (!await runner.Sessions.RenewHoldAsync(job.Owner, job.SessionId, hold).ConfigureAwait(false))
                    {
                        // The session was destroyed or taken over; nothing this run does could be saved.
                        LogHoldLost(runner.Logger, job.Id);
                        await execution.CancelAsync().ConfigureAwait(false);
                        return;
                    }

                    lastRenewal = DateTimeOffset.UtcNow;
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is Sessions.Storage.StorageException or ToolFailureException)
            {
                // Storage trouble delays progress and cancels; the hold has time to spare before it lapses.
                LogWatchFailed(runner.Logger, job.Id, ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} lost its hold on its session and was stopped.")]
    private static partial void LogHoldLost(ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watching job {JobId} failed for a moment: {Reason}")]
    private static partial void LogWatchFailed(ILogger logger, string jobId, string reason);
}

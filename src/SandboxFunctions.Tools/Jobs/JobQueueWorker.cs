using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sessions;
using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Tools.Jobs;

/// <summary>
/// Takes jobs from the queue when no Functions host delivers them (standalone and stdio servers). A message stays
/// invisible while its job runs and is deleted once the job is handled; if this process dies, it reappears and
/// another worker takes the job.
/// </summary>
public sealed partial class JobQueueWorker(JobStore jobs, JobRunner runner, IOptions<JobOptions> options, TimeProvider time, ILogger<JobQueueWorker> logger) : BackgroundService
{
    private static readonly TimeSpan Invisibility = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan IdleDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StorageRetryDelay = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var slots = new SemaphoreSlim(options.Value.Concurrency);
        var running = new List<Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                IReadOnlyList<QueueMessage> received;
                try
                {
                    received = await jobs.ReceiveAsync(1, Invisibility, stoppingToken).ConfigureAwait(false);
                }
                catch (StorageException ex)
                {
                    slots.Release();
                    LogReceiveFailed(logger, ex.Message);
                    await Task.Delay(StorageRetryDelay, time, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                if (received.Count == 0)
                {
                    slots.Release();
                    await Task.Delay(IdleDelay, time, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                running.RemoveAll(t => t.IsCompleted);
                running.Add(HandleAsync(received[0], slots, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Running jobs see the stop too: they queue themselves again and end quickly.
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    private async Task HandleAsync(QueueMessage message, SemaphoreSlim slots, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            var latest = message;
            bool handled;
            using (var stopKeeping = new CancellationTokenSource())
            {
                var keeper = KeepInvisibleAsync(() => latest, m => latest = m, stopKeeping.Token);
                handled = await TryProcessAsync(message, stoppingToken).ConfigureAwait(false);
                await stopKeeping.CancelAsync().ConfigureAwait(false);
                await keeper.ConfigureAwait(false);
            }

            if (handled)
            {
                await jobs.Queue.DeleteAsync(latest, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (StorageException ex)
        {
            // The message reappears and is handled again; the job's own state says whether anything is left to do.
            LogHandleFailed(logger, message.Id, ex.Message);
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>False when the delivery should be retried (left in the queue to reappear).</summary>
    private async Task<bool> TryProcessAsync(QueueMessage message, CancellationToken stoppingToken)
    {
        JobMessage job;
        try
        {
            job = JobStore.ParseMessage(message.Text);
        }
        catch (JsonException ex)
        {
            LogNotAJob(logger, message.Id, ex.Message);
            return true;
        }

        try
        {
            await runner.ProcessAsync(job, message.DequeueCount, stoppingToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            LogHandleFailed(logger, message.Id, ex.Message);
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task KeepInvisibleAsync(Func<QueueMessage> current, Action<QueueMessage> renewed, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Invisibility / 3, time, cancellationToken).ConfigureAwait(false);
                try
                {
                    renewed(await jobs.Queue.ExtendVisibilityAsync(current(), Invisibility, cancellationToken).ConfigureAwait(false));
                }
                catch (StorageException ex)
                {
                    LogExtendFailed(logger, current().Id, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receiving jobs failed: {Reason}; retrying shortly.")]
    private static partial void LogReceiveFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped queue message {MessageId}, which is not a job: {Reason}")]
    private static partial void LogNotAJob(ILogger logger, string messageId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handling queue message {MessageId} failed: {Reason}; it will be delivered again.")]
    private static partial void LogHandleFailed(ILogger logger, string messageId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not keep queue message {MessageId} invisible: {Reason}")]
    private static partial void LogExtendFailed(ILogger logger, string messageId, string reason);
}

using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using SandboxFunctions.Sessions;
using SandboxFunctions.Sessions.Storage;
using SandboxFunctions.Tools.Jobs;

namespace SandboxFunctions.Functions;

/// <summary>
/// Background jobs, delivered by the Functions host from the session storage account's queue. The host keeps a
/// message invisible while its job runs and deletes it when the function returns; a failure makes it deliver the
/// message again, and after the last delivery it moves the message to the poison queue.
/// </summary>
public sealed partial class JobFunctions(JobRunner runner, ILogger<JobFunctions> logger)
{
    public const string JobsName = "jobs";
    public const string PoisonName = "jobs-poison";

    /// <summary>The connection the queue triggers use: the same account and identity as session storage.</summary>
    public const string Connection = StorageProviderFactory.ConnectionName;

    /// <summary>Runs a job. <paramref name="dequeueCount"/> counts the deliveries; the runner answers the last one by reporting the job failed.</summary>
    [Function(JobsName)]
    public Task RunAsync([QueueTrigger(JobStore.QueueName, Connection = Connection)] string message, long dequeueCount, CancellationToken cancellationToken) =>
        HandleAsync(message, job => runner.ProcessAsync(job, dequeueCount, cancellationToken));

    /// <summary>
    /// A job's message the host gave up on, because even its last delivery could not report the job failed (storage was
    /// down throughout): reporting it now keeps it from holding back its session's later jobs.
    /// </summary>
    [Function(PoisonName)]
    public Task GiveUpAsync([QueueTrigger(JobStore.PoisonQueueName, Connection = Connection)] string message, CancellationToken cancellationToken) =>
        HandleAsync(message, job => runner.GiveUpAsync(job, cancellationToken));

    private async Task HandleAsync(string text, Func<JobMessage, Task> handle)
    {
        JobMessage message;
        try
        {
            message = JobStore.ParseMessage(text);
        }
        catch (JsonException ex)
        {
            // A message that is not a job can never succeed; returning normally drops it instead of retrying it.
            LogDropped(logger, ex.Message);
            return;
        }

        await handle(message).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a queue message that is not a job: {Reason}")]
    private static partial void LogDropped(ILogger logger, string reason);
}

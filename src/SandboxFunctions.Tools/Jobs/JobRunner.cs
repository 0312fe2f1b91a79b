using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sessions;
using SandboxFunctions.Tools.Diagnostics;
using SandboxFunctions.Tools.History;

namespace SandboxFunctions.Tools.Jobs;

/// <summary>
/// Runs one delivery of a job's queue message, on whichever instance received it. A delivery either runs the job to
/// its end, or finds it cannot run yet (its session is held, an earlier job of the session is unfinished, this
/// instance is full) and queues a fresh message for later, so the caller always completes the delivery it got.
/// A job whose worker stopped mid-run is started again: nothing it did was saved, so running it again is safe.
/// </summary>
public sealed partial class JobRunner(
    JobStore jobs,
    SandboxSessions sessions,
    SessionHistory history,
    ToolDiagnostics diagnostics,
    IOptions<JobOptions> options,
    TimeProvider time,
    ILogger<JobRunner> logger)
{
    private static readonly TimeSpan RetryBusyAfter = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Deliveries of one queue message, the first being 1, after which its job is reported failed rather than left
    /// queued, where it would hold back every later job of its session. host.json's queues.maxDequeueCount matches it.
    /// </summary>
    public const int MaxDeliveries = 5;

    private JobOptions Options => options.Value;

    /// <summary>
    /// Handles one delivery of a message. Throws when the delivery should be made again: the job could not be
    /// handled (storage trouble, say) and this was not yet the last delivery.
    /// </summary>
    public async Task ProcessAsync(JobMessage message, long delivery, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (delivery <= MaxDeliveries)
        {
            try
            {
                await ProcessDeliveryAsync(message, stopping).ConfigureAwait(false);
                return;
            }
            catch (JobGoneException)
            {
                LogGone(logger, message.JobId);
                return;
            }
            catch (Exception ex) when (delivery == MaxDeliveries && !(ex is OperationCanceledException && stopping.IsCancellationRequested))
            {
                LogLastDeliveryFailed(logger, message.JobId, delivery, ex);
            }
        }

        await GiveUpAsync(message, stopping).ConfigureAwait(false);
    }

    /// <summary>
    /// Reports a job failed without running it, if it has not finished: for a message the Functions host moved to
    /// the poison queue because even its last delivery could not record the failure.
    /// </summary>
    public async Task GiveUpAsync(JobMessage message, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(message);
        var job = await jobs.GetAsync(message.Owner, message.JobId, stopping).ConfigureAwait(false);
        if (job is null || job.IsFinished)
        {
            return;
        }

        await ReleaseAsync(job).ConfigureAwait(false);
        await FinishAsync(job, JobStatus.Failed, ToolErrors.JobNotHandled(job.Id, MaxDeliveries), info: null, output: null).ConfigureAwait(false);
    }

    private async Task ProcessDeliveryAsync(JobMessage message, CancellationToken stopping)
    {
        var job = await jobs.GetAsync(message.Owner, message.JobId, stopping).ConfigureAwait(false);
        if (job is null || job.IsFinished)
        {
            // Deleted with its session, or a late duplicate of a delivery that already finished it.
            return;
        }

        if (job.CancelRequested)
        {
            await FinishWithoutRunningAsync(job, JobStatus.Cancelled, "CANCELLED", "The job was cancelled before it ran.").ConfigureAwait(false);
            return;
        }

        SessionRecord? session;
        try
        {
            session = await sessions.GetAsync(job.Owner, job.SessionId, stopping).ConfigureAwait(false);
        }
        catch (ToolFailureException failure) when (failure.Error.Code == "SESSION_NOT_FOUND")
        {
            await FinishWithoutRunningAsync(job, JobStatus.Failed, failure.Error.Code, failure.Error.Message).ConfigureAwait(false);
            return;
        }

        var now = time.GetUtcNow();
        if (session.LeasedTo(now) is { } holder)
        {
            // This job runs on another worker (a duplicate delivery): look again once that worker's hold would lapse.
            // Another job runs on the session: look again soon, then less often the longer this one waits.
            await PostponeAsync(message, holder == job.Id ? session.JobLeaseUntil!.Value - now + TimeSpan.FromSeconds(1) : WaitingDelay(job, now)).ConfigureAwait(false);
            return;
        }

        if (await HasUnfinishedPredecessorAsync(job, stopping).ConfigureAwait(false))
        {
            await PostponeAsync(message, WaitingDelay(job, now)).ConfigureAwait(false);
            return;
        }

        if (job.Attempts >= Options.MaxAttempts)
        {
            await FinishWithoutRunningAsync(job, JobStatus.Failed, "WORKER_LOST",
                $"The job was started {job.Attempts} times and each time the server running it stopped before it finished (a restart, a crash or lack of memory). The session kept its state from before the job.").ConfigureAwait(false);
            return;
        }

        var outcome = await RunAsync(job, stopping).ConfigureAwait(false);
        if (outcome == RunOutcome.NotStarted)
        {
            await PostponeAsync(message, RetryBusyAfter).ConfigureAwait(false);
        }
        else if (outcome == RunOutcome.Interrupted)
        {
            await PostponeAsync(message, TimeSpan.Zero).ConfigureAwait(false);
        }
    }

    private async Task<RunOutcome> RunAsync(JobRecord job, CancellationToken stopping)
    {
        var input = await jobs.GetInputAsync(job, stopping).ConfigureAwait(false);
        var hold = new JobHold(job.Id, Options.LeaseDuration);
        var output = new JobOutput();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var cancelledByCaller = false;
        JobRecord? running = null;
        using var monitor = new JobMonitor(this, job, output, cancel);

        SessionOutcome<JobReport?> outcome;
        try
        {
            outcome = await sessions.UseAsync(job.Owner, job.SessionId, async (current, sandbox) =>
            {
                running = await jobs.UpdateAsync(job, j => j.IsFinished || j.CancelRequested ? null : j with
                {
                    Status = JobStatus.Running,
                    StartedAt = time.GetUtcNow(),
                    Attempts = j.Attempts + 1,
                }).ConfigureAwait(false);
                if (running is null)
                {
                    return new SessionStep<JobReport?>(null, Commit: false, Discard: true);
                }

                var request = new ExecutionRequest(input.Code)
                {
                    Timeout = running.Timeout,
                    Event = input.Event,
                    Name = $"<job {job.Id}>",
                    OnOutput = output.Write,
                };

                var changes = await WorkspaceChanges.StartAsync(sandbox).ConfigureAwait(false);
                ExecutionResult result;
                monitor.Start(hold);
                using (var activity = diagnostics.StartExecution(ExecutionKind.Job, current.Id, current.Language, current.Flavor, input.Code))
                {
                    try
                    {
                        result = await sandbox.ExecuteAsync(request, cancel.Token).ConfigureAwait(false);
                    }
                    finally
                    {
                        // The hold must stop changing the session record before the commit reads it.
                        cancelledByCaller = await monitor.StopAsync().ConfigureAwait(false);
                    }

                    activity?.SetTag("sandbox.job.id", job.Id);
                    ToolDiagnostics.RecordExecution(activity, ExecutionKind.Job, current.Language, current.Flavor, ExecutionReports.StatusOf(result.Status), result.Duration, result.MemoryBytes);
                }

                if (result.Status == ExecutionStatus.Cancelled)
                {
                    return new SessionStep<JobReport?>(new JobReport(result, [], new ExecutionReports.KeptOutput(null, null)), Commit: false, Discard: true);
                }

                var kept = await ExecutionReports.KeepFullOutputAsync(sandbox, result, current.ExecutionCount + 1).ConfigureAwait(false);
                return new SessionStep<JobReport?>(new JobReport(result, await changes.ListChangedAsync().ConfigureAwait(false), kept), Commit: true, Executions: 1);
            }, stopping, hold).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsBusy(ex))
        {
            await ReleaseAsync(job).ConfigureAwait(false);
            if (running is not null)
            {
                await jobs.UpdateAsync(job, j => j with { Status = JobStatus.Queued, Attempts = Math.Max(0, j.Attempts - 1) }, CancellationToken.None).ConfigureAwait(false);
            }

            return RunOutcome.NotStarted;
        }
        catch (ToolFailureException failure)
        {
            await ReleaseAsync(job).ConfigureAwait(false);
            await FinishAsync(running ?? job, JobStatus.Failed, failure.Error, info: null, output).ConfigureAwait(false);
            return RunOutcome.Finished;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            await ReleaseAsync(job).ConfigureAwait(false);
            return RunOutcome.Interrupted;
        }

        if (outcome.Value is not { } report)
        {
            // Cancelled between being queued and starting.
            await ReleaseAsync(job).ConfigureAwait(false);
            await FinishWithoutRunningAsync(job, JobStatus.Cancelled, "CANCELLED", "The job was cancelled before it ran.").ConfigureAwait(false);
            return RunOutcome.Finished;
        }

        if (report.Result.Status == ExecutionStatus.Cancelled)
        {
            await ReleaseAsync(job).ConfigureAwait(false);
            if (!cancelledByCaller && stopping.IsCancellationRequested)
            {
                // This instance is shutting down; the job starts again elsewhere and this start does not count.
                await jobs.UpdateAsync(job, j => j with { Status = JobStatus.Queued, Attempts = Math.Max(0, j.Attempts - 1) }, CancellationToken.None).ConfigureAwait(false);
                return RunOutcome.Interrupted;
            }
        }

        var info = ExecutionReports.Describe(outcome.Record, report.Result, report.Changed, report.Kept, outcome.SaveError);
        var status = report.Result.Status switch
        {
            _ when outcome.SaveError is not null => JobStatus.Failed,
            ExecutionStatus.Ok => JobStatus.Succeeded,
            ExecutionStatus.Timeout => JobStatus.TimedOut,
            ExecutionStatus.Cancelled => JobStatus.Cancelled,
            _ => JobStatus.Failed,
        };
        await FinishAsync(running!, status, info.Error, info, output).ConfigureAwait(false);
        return RunOutcome.Finished;
    }

    /// <summary>A tenth of the time the job has waited so far, from 1 to 30 s: quick starts, and few queue operations behind a long job.</summary>
    private static TimeSpan WaitingDelay(JobRecord job, DateTimeOffset now) =>
        TimeSpan.FromSeconds(Math.Clamp((now - job.CreatedAt).TotalSeconds / 10, 1, 30));

    private async Task<bool> HasUnfinishedPredecessorAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var siblings = await jobs.ListAsync(job.Owner, job.SessionId, cancellationToken).ConfigureAwait(false);
        return siblings.Any(s => !s.IsFinished && s.Id != job.Id && (s.CreatedAt < job.CreatedAt || (s.CreatedAt == job.CreatedAt && string.CompareOrdinal(s.Id, job.Id) < 0)));
    }

    private async Task PostponeAsync(JobMessage message, TimeSpan delay)
    {
        await jobs.RequeueAsync(message, delay, CancellationToken.None).ConfigureAwait(false);
        LogPostponed(logger, message.JobId, delay.TotalSeconds);
    }

    private async Task ReleaseAsync(JobRecord job)
    {
        try
        {
            await sessions.ReleaseHoldAsync(job.Owner, job.SessionId, job.Id).ConfigureAwait(false);
        }
        catch (ToolFailureException failure)
        {
            // The hold lapses by itself; releasing early only lets other calls in sooner.
            LogReleaseFailed(logger, job.Id, failure.Error.Message);
        }
    }

    private Task FinishWithoutRunningAsync(JobRecord job, JobStatus status, string code, string message) =>
        FinishAsync(job, status, new ToolError(code, message, status == JobStatus.Cancelled ? [] : ["Submit the job again."]), info: null, output: null);

    private async Task FinishAsync(JobRecord job, JobStatus status, ToolError? error, ExecutionResultInfo? info, JobOutput? output)
    {
        var finishedAt = time.GetUtcNow();
        var report = new JobReportDocument(info, info is null ? error : null);
        await jobs.SaveReportAsync(job, JsonSerializer.SerializeToUtf8Bytes(report, ToolJson.Options)).ConfigureAwait(false);
        var finished = await jobs.UpdateAsync(job, j => j with
        {
            Status = status,
            FinishedAt = finishedAt,
            ErrorCode = error?.Code,
            Stdout = info?.Stdout is { } stdout ? JobStore.Tail(stdout) : output?.Stdout ?? j.Stdout,
            Stderr = info?.Stderr is { } stderr ? JobStore.Tail(stderr) : output?.Stderr ?? j.Stderr,
        }).ConfigureAwait(false);

        var duration = finished?.StartedAt is { } started ? finishedAt - started : TimeSpan.Zero;
        await history.RecordAsync(job.Owner, job.SessionId, ExecutionKind.Job, job.Language, ToolJson.Name(status), duration, job.CodePreview, info?.Stdout + info?.Stderr, job.Id).ConfigureAwait(false);
        LogFinished(logger, job.Id, status, duration.TotalMilliseconds);
    }

    internal JobStore Store => jobs;

    internal JobOptions Settings => Options;

    internal SandboxSessions Sessions => sessions;

    internal ILogger Logger => logger;

    private static bool IsBusy(Exception ex) => ex switch
    {
        ToolFailureException failure => failure.Error.Code is "SESSION_BUSY" or "SERVER_BUSY" or "SESSION_CONFLICT",
        SandboxException sandbox => sandbox.Kind == SandboxErrorKind.Busy,
        _ => false,
    };

    private enum RunOutcome
    {
        Finished,
        NotStarted,
        Interrupted,
    }

    private sealed record JobReport(ExecutionResult Result, IReadOnlyList<WorkspaceEntry> Changed, ExecutionReports.KeptOutput Kept);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} could not be handled on delivery {Delivery}, the last; it is reported failed.")]
    private static partial void LogLastDeliveryFailed(ILogger logger, string jobId, long delivery, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} was deleted with its session while it was being handled.")]
    private static partial void LogGone(ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} cannot run yet; it is queued again to run in {Seconds} s.")]
    private static partial void LogPostponed(ILogger logger, string jobId, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release the session hold of job {JobId}: {Reason}")]
    private static partial void LogReleaseFailed(ILogger logger, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} finished: {Status} after {DurationMs} ms.")]
    private static partial void LogFinished(ILogger logger, string jobId, JobStatus status, double durationMs);
}

/// <summary>What <c>get_job</c> shows once a job finished: the execution's full report, or why it never ran.</summary>
internal sealed record JobReportDocument(ExecutionResultInfo? Execution, ToolError? Error);


using System.ComponentModel;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SandboxFunctions.Sessions;

namespace SandboxFunctions.Tools.Jobs;

[McpServerToolType]
public sealed class JobTools(SandboxSessions sessions, JobStore jobs, IOptions<JobOptions> options, TimeProvider time)
{
    private const int MaxWaitSeconds = 120;
    private static readonly TimeSpan WaitPollInterval = TimeSpan.FromMilliseconds(500);

    [McpServerTool(Name = "submit_job", Title = "Submit background job", Destructive = false, Idempotent = false, OpenWorld = false, UseStructuredContent = true, OutputSchemaType = typeof(JobInfo))]
    [Description("""
        Runs code in the background, for work longer than one call may take (up to an hour). Returns a job_id at once; follow it with get_job (use wait_seconds to wait for the end).
        The job runs in a session like execute_code does and, when it ends, saves the state it leaves (variables, files) in that session. Jobs on one session run one after another, in the order submitted; while a job runs, other calls on its session are refused as busy.
        Omit session_id to run in a new session (its id is returned).
        """)]
    public async Task<CallToolResult> SubmitJobAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The source code to run. The value of the final expression becomes the job's result.")] string code,
        [Description("'python' or 'javascript'. Defaults to the session's language, or 'python' for a new session.")] string? language = null,
        [Description("The session to run in. Omit to create a new session (its id is returned).")] string? session_id = null,
        [Description("Seconds the job may run before it is stopped. list_runtimes shows the default and maximum (an hour unless configured otherwise).")] double? timeout_seconds = null,
        [Description("Run in handler mode: this JSON value is passed as `event` to the handler the code defines.")] JsonElement? @event = null,
        [Description("Resources for a new session: 'small' (default), 'medium' or 'large'. Ignored for an existing session.")] string? flavor = null,
        CancellationToken cancellationToken = default)
    {
        var owner = Callers.GetOwner(context.User);
        var settings = options.Value;
        var timeout = timeout_seconds is { } seconds
            ? (seconds > 0 && seconds <= settings.MaxTimeoutSeconds ? TimeSpan.FromSeconds(seconds) : throw ToolErrors.InvalidJobTimeout(seconds, settings.MaxTimeoutSeconds))
            : TimeSpan.FromSeconds(settings.DefaultTimeoutSeconds);

        var record = session_id is null
            ? await sessions.CreateAsync(owner, language ?? "python", null, flavor, null, cancellationToken).ConfigureAwait(false)
            : await sessions.GetAsync(owner, session_id, cancellationToken).ConfigureAwait(false);
        if (language is not null && !string.Equals(language, record.Language, StringComparison.OrdinalIgnoreCase))
        {
            throw ToolErrors.LanguageMismatch(record.Id, record.Language, language);
        }

        var limit = sessions.LimitsOf(record.Flavor).CodeBytes;
        var codeBytes = Encoding.UTF8.GetByteCount(code);
        if (codeBytes > limit)
        {
            throw ToolErrors.CodeTooLarge($"The code is {codeBytes} bytes; the limit is {limit} bytes. Put large data in a workspace file and read it from the code.");
        }

        var job = new JobRecord
        {
            Owner = owner,
            Id = "j-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            SessionId = record.Id,
            Language = record.Language,
            Status = JobStatus.Queued,
            Timeout = timeout,
            CreatedAt = time.GetUtcNow(),
            CodePreview = Sessions.ExecutionHistory.Preview(code),
        };
        job = await sessions.Guard(() => jobs.SubmitAsync(job, new JobInput(code, @event), cancellationToken)).ConfigureAwait(false);

        var info = JobInfo.From(job, report: null);
        return ToolResults.Success(info,
            $"Job {job.Id} is queued in {record.Language} session {record.Id} (timeout {(int)timeout.TotalSeconds} s). Call get_job with job_id=\"{job.Id}\" and wait_seconds to follow it.");
    }

    [McpServerTool(Name = "get_job", Title = "Get background job", ReadOnly = true, Idempotent = true, UseStructuredContent = true, OutputSchemaType = typeof(JobInfo))]
    [Description("Shows a background job: status (queued, running, succeeded, failed, timed_out, cancelled), timings, the end of its output so far, and once it ended its full result like execute_code returns. With wait_seconds, waits up to that long for the job to end before answering.")]
    public async Task<CallToolResult> GetJobAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The job's id, from submit_job or list_jobs.")] string job_id,
        [Description("Seconds to wait for the job to end before answering (0 to 120; default 0 answers at once).")] double? wait_seconds = null,
        CancellationToken cancellationToken = default)
    {
        var owner = Callers.GetOwner(context.User);
        var wait = wait_seconds is { } seconds
            ? (seconds is >= 0 and <= MaxWaitSeconds ? TimeSpan.FromSeconds(seconds) : throw ToolErrors.InvalidWait(seconds, MaxWaitSeconds))
            : TimeSpan.Zero;

        var deadline = time.GetUtcNow() + wait;
        var job = await GetAsync(owner, job_id, cancellationToken).ConfigureAwait(false);
        while (!job.IsFinished && time.GetUtcNow() < deadline)
        {
            await Task.Delay(WaitPollInterval, time, cancellationToken).ConfigureAwait(false);
            job = await GetAsync(owner, job_id, cancellationToken).ConfigureAwait(false);
        }

        JobReportDocument? report = null;
        if (job.IsFinished && await sessions.Guard(() => jobs.GetReportAsync(job, cancellationToken)).ConfigureAwait(false) is { } bytes)
        {
            report = JsonSerializer.Deserialize<JobReportDocument>(bytes, ToolJson.Options);
        }

        var info = JobInfo.From(job, report);
        return ToolResults.Success(info, Describe(info));
    }

    [McpServerTool(Name = "list_jobs", Title = "List background jobs", ReadOnly = true, Idempotent = true, UseStructuredContent = true, OutputSchemaType = typeof(JobList))]
    [Description("Lists your background jobs, newest first, optionally only those of one session.")]
    public async Task<CallToolResult> ListJobsAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Only jobs of this session.")] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var owner = Callers.GetOwner(context.User);
        var list = await sessions.Guard(() => jobs.ListAsync(owner, session_id, cancellationToken)).ConfigureAwait(false);
        var result = new JobList([.. list.Select(j => JobSummary.From(j))]);
        var text = new StringBuilder(list.Count == 0 ? "No jobs." : $"{list.Count} job(s):");
        foreach (var job in list)
        {
            text.Append($"\n- {job.Id}: {ToolJson.Name(job.Status)} in session {job.SessionId}, submitted {job.CreatedAt:u}: {job.CodePreview.Split('\n')[0]}");
        }

        return ToolResults.Success(result, text.ToString());
    }

    [McpServerTool(Name = "cancel_job", Title = "Cancel background job", Destructive = true, Idempotent = true, UseStructuredContent = true, OutputSchemaType = typeof(JobInfo))]
    [Description("Cancels a background job. A queued job never runs; a running one stops within a few seconds and its session keeps the state it had before the job. Cancelling a job that already ended changes nothing.")]
    public async Task<CallToolResult> CancelJobAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The job to cancel.")] string job_id,
        CancellationToken cancellationToken = default)
    {
        var owner = Callers.GetOwner(context.User);
        var job = await GetAsync(owner, job_id, cancellationToken).ConfigureAwait(false);
        try
        {
            // A queued job ends here; a running one is stopped by its worker, which sees the request.
            job = await sessions.Guard(() => jobs.UpdateAsync(job, j => j.IsFinished || j.CancelRequested
                ? null
                : j.Status == JobStatus.Queued
                    ? j with { CancelRequested = true, Status = JobStatus.Cancelled, FinishedAt = time.GetUtcNow(), ErrorCode = "CANCELLED" }
                    : j with { CancelRequested = true }, cancellationToken)).ConfigureAwait(false)
                ?? await GetAsync(owner, job_id, cancellationToken).ConfigureAwait(false);
        }
        catch (JobGoneException)
        {
            throw ToolErrors.JobNotFound(job_id);
        }

        var info = JobInfo.From(job, report: null);
        var text = job.Status switch
        {
            JobStatus.Cancelled => $"Job {job.Id} is cancelled.",
            JobStatus.Running => $"Job {job.Id} is being cancelled; it stops within a few seconds and its session keeps the state it had before the job.",
            _ => $"Job {job.Id} had already ended ({ToolJson.Name(job.Status)}); nothing changed.",
        };
        return ToolResults.Success(info, text);
    }

    private async Task<JobRecord> GetAsync(string owner, string jobId, CancellationToken cancellationToken) =>
        await sessions.Guard(() => jobs.GetAsync(owner, jobId, cancellationToken)).ConfigureAwait(false) ?? throw ToolErrors.JobNotFound(jobId);

    private static string Describe(JobInfo info)
    {
        var text = new StringBuilder($"Job {info.JobId}: {info.Status} (session {info.SessionId}, {info.Language})");
        if (info.DurationMs is { } duration)
        {
            text.Append($", ran {duration} ms");
        }

        if (info.Execution is { } execution)
        {
            return text.Append('\n').Append(ExecutionReports.Summarize(execution)).ToString();
        }

        if (info.Error is { } error)
        {
            text.Append('\n').Append(ToolResults.Describe(error));
        }

        if (info.Stdout is { Length: > 0 } stdout)
        {
            text.Append($"\nstdout so far:\n{stdout}");
        }

        if (info.Stderr is { Length: > 0 } stderr)
        {
            text.Append($"\nstderr so far:\n{stderr}");
        }

        if (info.Status is "queued" or "running")
        {
            text.Append($"\nThe job has not ended; call get_job again (with wait_seconds) to follow it.");
        }

        return text.ToString();
    }
}

public sealed record JobInfo
{
    [Description("The job's id.")]
    public required string JobId { get; init; }

    [Description("The session the job runs in.")]
    public required string SessionId { get; init; }

    public required string Language { get; init; }

    [Description("queued, running, succeeded, failed, timed_out or cancelled.")]
    public required string Status { get; init; }

    public required DateTimeOffset SubmittedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    [Description("How long the job ran, once it ended.")]
    public long? DurationMs { get; init; }

    [Description("The longest the job may run, in seconds.")]
    public required long TimeoutSeconds { get; init; }

    [Description("How many times a worker started the job (more than 1 when a server stopped while running it).")]
    public long Attempts { get; init; }

    public bool CancelRequested { get; init; }

    [Description("While the job runs: the end of its standard output so far.")]
    public string? Stdout { get; init; }

    [Description("While the job runs: the end of its standard error so far.")]
    public string? Stderr { get; init; }

    [Description("Once the job ran to its end: the full execution report, as execute_code returns it.")]
    public ExecutionResultInfo? Execution { get; init; }

    [Description("Why the job did not succeed, when it did not.")]
    public ToolError? Error { get; init; }

    internal static JobInfo From(JobRecord job, JobReportDocument? report) => new()
    {
        JobId = job.Id,
        SessionId = job.SessionId,
        Language = job.Language,
        Status = ToolJson.Name(job.Status),
        SubmittedAt = job.CreatedAt,
        StartedAt = job.StartedAt,
        FinishedAt = job.FinishedAt,
        DurationMs = job is { StartedAt: { } started, FinishedAt: { } finished } ? (long)(finished - started).TotalMilliseconds : null,
        TimeoutSeconds = (long)job.Timeout.TotalSeconds,
        Attempts = job.Attempts,
        CancelRequested = job.CancelRequested,
        Stdout = report?.Execution is null ? job.Stdout : null,
        Stderr = report?.Execution is null ? job.Stderr : null,
        Execution = report?.Execution,
        Error = report?.Execution?.Error ?? report?.Error ?? (job.ErrorCode is { } code && report is null ? new ToolError(code, $"The job ended with {code}.", []) : null),
    };
}

public sealed record JobSummary(
    string JobId,
    string SessionId,
    string Language,
    [property: Description("queued, running, succeeded, failed, timed_out or cancelled.")] string Status,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? FinishedAt,
    [property: Description("The first lines of the job's code.")] string Code,
    string? ErrorCode)
{
    internal static JobSummary From(JobRecord job) =>
        new(job.Id, job.SessionId, job.Language, ToolJson.Name(job.Status), job.CreatedAt, job.FinishedAt, job.CodePreview, job.ErrorCode);
}

public sealed record JobList(IReadOnlyList<JobSummary> Jobs);

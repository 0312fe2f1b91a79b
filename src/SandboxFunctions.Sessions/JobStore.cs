using System.Text.Json;
using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Sessions;

/// <summary>
/// Background jobs: a record per job (status, timings, output so far), its input and final report in blobs (both
/// can be larger than a table property), and a queue message per job that a worker picks up on any instance.
/// </summary>
public sealed class JobStore
{
    public const string TableName = "jobs";
    public const string ContainerName = "jobinputs";
    public const string QueueName = "jobs";

    /// <summary>Where the Functions host moves a message whose every delivery failed; the app drains it too.</summary>
    public const string PoisonQueueName = QueueName + "-poison";

    /// <summary>Output kept in the job record while and after it runs, per stream.</summary>
    public const int MaxStoredOutputChars = 16 * 1024;

    private readonly IEntityTable _jobs;
    private readonly IBlobContainer _inputs;
    private readonly IMessageQueue _queue;
    private readonly TimeProvider _time;
    private readonly StorageResources _resources;

    public JobStore(IStorageProvider storage, TimeProvider time, ILogger<JobStore>? logger = null)
        : this(storage, time, (ILogger?)logger)
    {
    }

    internal JobStore(IStorageProvider storage, TimeProvider time, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _jobs = storage.GetTable(TableName);
        _inputs = storage.GetContainer(ContainerName);
        _queue = storage.GetQueue(QueueName);
        _time = time;
        _resources = new StorageResources(
            logger ?? NullLogger.Instance,
            ($"table '{TableName}'", _jobs.CreateIfNotExistsAsync),
            ($"container '{ContainerName}'", _inputs.CreateIfNotExistsAsync),
            ($"queue '{QueueName}'", _queue.CreateIfNotExistsAsync));
    }

    public IMessageQueue Queue => _queue;

    /// <summary>Takes up to <paramref name="maxMessages"/> job messages from the queue, creating it first if need be.</summary>
    public async Task<IReadOnlyList<QueueMessage>> ReceiveAsync(int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return await _queue.ReceiveAsync(maxMessages, visibilityTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores a new job and queues it.</summary>
    public async Task<JobRecord> SubmitAsync(JobRecord job, JobInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(input);
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await _inputs.UploadAsync(InputName(job.Owner, job.Id), JsonSerializer.SerializeToUtf8Bytes(input, JobJson.Default.JobInput), cancellationToken: cancellationToken).ConfigureAwait(false);
        var etag = await _jobs.AddAsync(ToEntity(job), cancellationToken).ConfigureAwait(false);
        await _queue.SendAsync(JsonSerializer.Serialize(new JobMessage(job.Owner, job.Id), JobJson.Default.JobMessage), cancellationToken: cancellationToken).ConfigureAwait(false);
        return job with { ETag = etag };
    }

    /// <summary>Queues another message for a job, to be delivered after <paramref name="delay"/>.</summary>
    public async Task RequeueAsync(JobMessage message, TimeSpan delay, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await _queue.SendAsync(JsonSerializer.Serialize(message, JobJson.Default.JobMessage), delay > TimeSpan.Zero ? delay : null, cancellationToken).ConfigureAwait(false);
    }

    public async Task<JobRecord?> GetAsync(string owner, string jobId, CancellationToken cancellationToken = default)
    {
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var entity = await _jobs.GetAsync(owner, jobId, cancellationToken).ConfigureAwait(false);
        return entity is null ? null : ToRecord(entity);
    }

    public async Task<JobInput> GetInputAsync(JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var blob = await _inputs.DownloadAsync(InputName(job.Owner, job.Id), cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The input of job {job.Id} is missing.");
        return JsonSerializer.Deserialize(blob.Content, JobJson.Default.JobInput) ?? throw new InvalidOperationException($"The input of job {job.Id} is empty.");
    }

    /// <summary>Stores the final report of a job (what its caller reads once it finished), before the record says it finished.</summary>
    public async Task SaveReportAsync(JobRecord job, ReadOnlyMemory<byte> report, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await _inputs.UploadAsync(ReportName(job.Owner, job.Id), report, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]?> GetReportAsync(JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return (await _inputs.DownloadAsync(ReportName(job.Owner, job.Id), cancellationToken).ConfigureAwait(false))?.Content;
    }

    /// <summary>The owner's jobs, optionally of one session, newest first.</summary>
    public async Task<IReadOnlyList<JobRecord>> ListAsync(string owner, string? sessionId = null, CancellationToken cancellationToken = default)
    {
        await _resources.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var filter = EntityFilter.Equal("PartitionKey", owner);
        if (sessionId is not null)
        {
            filter = filter.And(EntityFilter.Equal("SessionId", sessionId));
        }

        var jobs = new List<JobRecord>();
        await foreach (var entity in _jobs.QueryAsync(filter, cancellationToken).ConfigureAwait(false))
        {
            jobs.Add(ToRecord(entity));
        }

        return [.. jobs.OrderByDescending(j => j.CreatedAt)];
    }

    /// <summary>Saves a change to the job if nobody else changed it since it was read; null when somebody did.</summary>
    public async Task<JobRecord?> TryUpdateAsync(JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        try
        {
            var etag = await _jobs.UpdateAsync(ToEntity(job), job.ETag, cancellationToken).ConfigureAwait(false);
            return job with { ETag = etag };
        }
        catch (StorageException ex) when (ex.Kind is StorageErrorKind.PreconditionFailed or StorageErrorKind.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the job's latest stored state, reading it again and retrying when somebody
    /// changed it meanwhile (a cancel, the worker's progress). Null when <paramref name="change"/> declines;
    /// <see cref="JobGoneException"/> when the job was deleted with its session.
    /// </summary>
    public async Task<JobRecord?> UpdateAsync(JobRecord job, Func<JobRecord, JobRecord?> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(change);
        var current = job;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (change(current) is not { } next)
            {
                return null;
            }

            if (await TryUpdateAsync(next, cancellationToken).ConfigureAwait(false) is { } saved)
            {
                return saved;
            }

            current = await GetAsync(job.Owner, job.Id, cancellationToken).ConfigureAwait(false) ?? throw new JobGoneException(job.Id);
        }

        throw new InvalidOperationException($"Job {job.Id} kept changing while it was being updated.");
    }

    /// <summary>Removes a session's jobs and their inputs.</summary>
    public async Task DeleteForSessionAsync(string owner, string sessionId, CancellationToken cancellationToken = default)
    {
        foreach (var job in await ListAsync(owner, sessionId, cancellationToken).ConfigureAwait(false))
        {
            await _jobs.DeleteAsync(owner, job.Id, ETag.All, cancellationToken).ConfigureAwait(false);
            await _inputs.DeleteAsync(InputName(owner, job.Id), cancellationToken: cancellationToken).ConfigureAwait(false);
            await _inputs.DeleteAsync(ReportName(owner, job.Id), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    public static JobMessage ParseMessage(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        // Functions hosts may hand queue text to the handler JSON-encoded a second time.
        var json = text.TrimStart().StartsWith('"') ? JsonSerializer.Deserialize(text, JobJson.Default.String) ?? string.Empty : text;
        return JsonSerializer.Deserialize(json, JobJson.Default.JobMessage) ?? throw new JsonException("The job message is empty.");
    }

    /// <summary>Keeps the last <see cref="MaxStoredOutputChars"/> characters, which hold the output that matters most while a job runs.</summary>
    public static string Tail(string text) =>
        text.Length <= MaxStoredOutputChars ? text : "[... earlier output omitted ...]\n" + text[^MaxStoredOutputChars..];

    private static string InputName(string owner, string jobId) => $"{owner}/{jobId}.json";

    private static string ReportName(string owner, string jobId) => $"{owner}/{jobId}.report.json";

    private static StorageEntity ToEntity(JobRecord job) => new(job.Owner, job.Id)
    {
        ETag = job.ETag,
        Properties = new Dictionary<string, object?>
        {
            ["SessionId"] = job.SessionId,
            ["Language"] = job.Language,
            ["Status"] = job.Status.ToString(),
            ["TimeoutSeconds"] = (long)job.Timeout.TotalSeconds,
            ["CreatedAt"] = job.CreatedAt,
            ["StartedAt"] = job.StartedAt,
            ["FinishedAt"] = job.FinishedAt,
            ["Attempts"] = job.Attempts,
            ["CancelRequested"] = job.CancelRequested,
            ["CodePreview"] = job.CodePreview,
            ["Stdout"] = job.Stdout,
            ["Stderr"] = job.Stderr,
            ["ErrorCode"] = job.ErrorCode,
        },
    };

    private static JobRecord ToRecord(StorageEntity entity) => new()
    {
        Owner = entity.PartitionKey,
        Id = entity.RowKey,
        SessionId = entity.GetString("SessionId") ?? string.Empty,
        Language = entity.GetString("Language") ?? string.Empty,
        Status = Enum.TryParse<JobStatus>(entity.GetString("Status"), out var status) ? status : JobStatus.Queued,
        Timeout = TimeSpan.FromSeconds(entity.GetInt64("TimeoutSeconds") ?? 0),
        CreatedAt = entity.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        StartedAt = entity.GetDateTimeOffset("StartedAt"),
        FinishedAt = entity.GetDateTimeOffset("FinishedAt"),
        Attempts = entity.GetInt64("Attempts") ?? 0,
        CancelRequested = entity.GetBoolean("CancelRequested") ?? false,
        CodePreview = entity.GetString("CodePreview") ?? string.Empty,
        Stdout = entity.GetString("Stdout") ?? string.Empty,
        Stderr = entity.GetString("Stderr") ?? string.Empty,
        ErrorCode = entity.GetString("ErrorCode"),
        ETag = entity.ETag,
    };
}

public enum JobStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
}

/// <summary>A background job as stored.</summary>
public sealed record JobRecord
{
    public required string Owner { get; init; }

    public required string Id { get; init; }

    public required string SessionId { get; init; }

    public required string Language { get; init; }

    public JobStatus Status { get; init; }

    public TimeSpan Timeout { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public long Attempts { get; init; }

    public bool CancelRequested { get; init; }

    public string CodePreview { get; init; } = string.Empty;

    public string Stdout { get; init; } = string.Empty;

    public string Stderr { get; init; } = string.Empty;

    /// <summary>The error code of a job that did not succeed.</summary>
    public string? ErrorCode { get; init; }

    public ETag ETag { get; init; }

    public bool IsFinished => Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.TimedOut or JobStatus.Cancelled;
}

/// <summary>The job's record disappeared: its session was destroyed.</summary>
public sealed class JobGoneException(string jobId) : Exception($"Job {jobId} no longer exists; its session was destroyed.");

/// <summary>What a job runs: kept apart from the record because code may be larger than a table property.</summary>
public sealed record JobInput(string Code, JsonElement? Event);

/// <summary>The queue message of a job: just enough to find it.</summary>
public sealed record JobMessage(string Owner, string JobId);

[System.Text.Json.Serialization.JsonSerializable(typeof(JobInput))]
[System.Text.Json.Serialization.JsonSerializable(typeof(JobMessage))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class JobJson : System.Text.Json.Serialization.JsonSerializerContext;

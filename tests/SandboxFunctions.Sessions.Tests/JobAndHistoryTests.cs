using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sessions.Storage;
using SandboxFunctions.Sessions.Tests.Storage;

namespace SandboxFunctions.Sessions.Tests;

/// <summary>Jobs, job leases on sessions, cancel signals and history: the same against Azurite and the file store.</summary>
public abstract class JobAndHistoryTests
{
    protected ManualTime Time { get; } = new(DateTimeOffset.UtcNow);

    protected string Owner { get; } = $"owner-{Guid.NewGuid():N}";

    protected abstract IStorageProvider OpenProvider();

    [Fact]
    public async Task A_submitted_job_is_stored_queued_and_readable_after_a_restart()
    {
        var job = NewJob("s-1");
        await new JobStore(OpenProvider(), Time).SubmitAsync(job, new JobInput("print('hi')", JsonDocument.Parse("{\"n\":1}").RootElement));

        var restarted = new JobStore(OpenProvider(), Time);
        var stored = await restarted.GetAsync(Owner, job.Id);
        var input = await restarted.GetInputAsync(stored!);
        var messages = await restarted.Queue.ReceiveAsync(32, TimeSpan.FromSeconds(30));

        Assert.Equal(JobStatus.Queued, stored!.Status);
        Assert.Equal(TimeSpan.FromMinutes(10), stored.Timeout);
        Assert.Equal("print('hi')", input.Code);
        Assert.Equal(1, input.Event!.Value.GetProperty("n").GetInt32());
        Assert.Single(messages, m => JobStore.ParseMessage(m.Text) == new JobMessage(Owner, job.Id));
    }

    [Fact]
    public void Queue_text_encoded_twice_by_a_host_still_parses()
    {
        var inner = JsonSerializer.Serialize(new { owner = Owner, jobId = "j-1" });

        Assert.Equal(new JobMessage(Owner, "j-1"), JobStore.ParseMessage(JsonSerializer.Serialize(inner)));
        Assert.ThrowsAny<JsonException>(() => JobStore.ParseMessage("not json"));
    }

    [Fact]
    public async Task An_update_from_a_stale_read_loses_and_the_newer_one_stays()
    {
        var store = new JobStore(OpenProvider(), Time);
        var job = await store.SubmitAsync(NewJob("s-1"), new JobInput("1", null));

        var running = await store.TryUpdateAsync(job with { Status = JobStatus.Running, Attempts = 1 });
        var stale = await store.TryUpdateAsync(job with { CancelRequested = true });

        Assert.NotNull(running);
        Assert.Null(stale);
        var stored = await store.GetAsync(Owner, job.Id);
        Assert.Equal(JobStatus.Running, stored!.Status);
        Assert.False(stored.CancelRequested);
    }

    [Fact]
    public async Task Jobs_list_newest_first_and_filter_by_session()
    {
        var store = new JobStore(OpenProvider(), Time);
        var first = await store.SubmitAsync(NewJob("s-a"), new JobInput("1", null));
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await store.SubmitAsync(NewJob("s-b"), new JobInput("2", null));
        Time.Advance(TimeSpan.FromSeconds(1));
        var third = await store.SubmitAsync(NewJob("s-a"), new JobInput("3", null));

        Assert.Equal([third.Id, second.Id, first.Id], (await store.ListAsync(Owner)).Select(j => j.Id));
        Assert.Equal([third.Id, first.Id], (await store.ListAsync(Owner, "s-a")).Select(j => j.Id));
        Assert.Empty(await store.ListAsync($"someone-else-{Guid.NewGuid():N}"));
    }

    [Fact]
    public void The_stored_output_keeps_its_end()
    {
        var text = new string('a', JobStore.MaxStoredOutputChars) + "the end";

        var tail = JobStore.Tail(text);

        Assert.EndsWith("the end", tail, StringComparison.Ordinal);
        Assert.StartsWith("[... earlier output omitted ...]", tail, StringComparison.Ordinal);
        Assert.Equal("short", JobStore.Tail("short"));
    }

    [Fact]
    public async Task A_job_lease_holds_the_session_until_it_lapses_or_a_commit_ends_it()
    {
        var sessions = OpenSessions();
        var record = await sessions.CreateAsync(NewSession());
        var leased = await sessions.LeaseToJobAsync(record, "job-1", Time.GetUtcNow() + TimeSpan.FromMinutes(2));

        Assert.Equal("job-1", (await sessions.GetAsync(Owner, record.Id))!.LeasedTo(Time.GetUtcNow()));
        await Assert.ThrowsAsync<SessionConflictException>(() => sessions.LeaseToJobAsync(record, "job-2", Time.GetUtcNow() + TimeSpan.FromMinutes(2)));

        Time.Advance(TimeSpan.FromMinutes(3));
        Assert.Null((await sessions.GetAsync(Owner, record.Id))!.LeasedTo(Time.GetUtcNow()));

        var renewed = await sessions.LeaseToJobAsync(leased, "job-1", Time.GetUtcNow() + TimeSpan.FromMinutes(2));
        var committed = await sessions.CommitAsync(renewed, "state"u8.ToArray(), new SessionChange(1, 1, []));
        Assert.Null(committed.ActiveJobId);
        Assert.Null((await sessions.GetAsync(Owner, record.Id))!.LeasedTo(Time.GetUtcNow()));
    }

    [Fact]
    public async Task A_lease_longer_than_the_session_life_keeps_the_session_from_expiring()
    {
        var sessions = OpenSessions();
        var record = await sessions.CreateAsync(NewSession());

        await sessions.LeaseToJobAsync(record, "long-job", Time.GetUtcNow() + TimeSpan.FromHours(2));
        Time.Advance(TimeSpan.FromMinutes(90));

        Assert.NotNull(await sessions.GetAsync(Owner, record.Id));
        await new SessionReaper(sessions, new SignalStore(OpenProvider(), Time), Time, NullLogger<SessionReaper>.Instance).ReapAsync();
        Assert.NotNull(await sessions.GetAsync(Owner, record.Id));
    }

    [Fact]
    public async Task Cancel_requests_are_seen_by_other_instances_and_each_one_is_distinct()
    {
        var key = SignalStore.SessionKey("with/odd#id");
        var before = await new SignalStore(OpenProvider(), Time).GetLastRequestAsync(Owner, key);

        await new SignalStore(OpenProvider(), Time).RequestCancelAsync(Owner, key);
        var first = await new SignalStore(OpenProvider(), Time).GetLastRequestAsync(Owner, key);
        await new SignalStore(OpenProvider(), Time).RequestCancelAsync(Owner, key);
        var second = await new SignalStore(OpenProvider(), Time).GetLastRequestAsync(Owner, key);

        Assert.Null(before);
        Assert.NotNull(first);
        Assert.NotEqual(first, second);
        Assert.Null(await new SignalStore(OpenProvider(), Time).GetLastRequestAsync(Owner, SignalStore.RequestKey("7")));
    }

    [Fact]
    public async Task The_reaper_drops_signals_older_than_a_day()
    {
        var signals = new SignalStore(OpenProvider(), Time);
        await signals.RequestCancelAsync(Owner, SignalStore.RequestKey("old"));
        Time.Advance(TimeSpan.FromDays(2));
        await signals.RequestCancelAsync(Owner, SignalStore.RequestKey("new"));

        await new SessionReaper(OpenSessions(), signals, Time, NullLogger<SessionReaper>.Instance).ReapAsync();

        Assert.Null(await signals.GetLastRequestAsync(Owner, SignalStore.RequestKey("old")));
        Assert.NotNull(await signals.GetLastRequestAsync(Owner, SignalStore.RequestKey("new")));
    }

    [Fact]
    public async Task History_lists_newest_first_and_keeps_the_latest_entries_only()
    {
        var history = new ExecutionHistory(OpenProvider());
        var start = Time.GetUtcNow();
        for (var i = 0; i < ExecutionHistory.MaxEntriesPerSession + 3; i++)
        {
            await history.RecordAsync(Owner, "s-h", new HistoryEntry(start.AddSeconds(i), "execution", "python", "ok", i, $"print({i})", $"{i}"));
        }

        var all = await new ExecutionHistory(OpenProvider()).ListAsync(Owner, "s-h", 1000);
        var latest = await history.ListAsync(Owner, "s-h", 2);

        Assert.Equal(ExecutionHistory.MaxEntriesPerSession, all.Count);
        Assert.Equal($"print({ExecutionHistory.MaxEntriesPerSession + 2})", all[0].CodePreview);
        Assert.Equal("print(3)", all[^1].CodePreview);
        Assert.Equal(["print(102)", "print(101)"], latest.Select(e => e.CodePreview));
        Assert.Empty(await history.ListAsync(Owner, "s-other", 10));
    }

    [Fact]
    public async Task Entries_beyond_the_maximum_are_removed_from_storage_after_the_writes_that_passed_it()
    {
        var history = new ExecutionHistory(OpenProvider());
        var start = Time.GetUtcNow();
        for (var i = 0; i < ExecutionHistory.MaxEntriesPerSession * 2; i++)
        {
            await history.RecordAsync(Owner, "s-trim", new HistoryEntry(start.AddSeconds(i), "execution", "python", "ok", i, $"print({i})", $"{i}"));
        }

        // Trimming runs in the background after every few writes, so storage holds a few more than the maximum at most.
        var table = OpenProvider().GetTable(ExecutionHistory.TableName);
        var stored = int.MaxValue;
        for (var attempt = 0; attempt < 100 && stored > ExecutionHistory.MaxEntriesPerSession + 16; attempt++)
        {
            await Task.Delay(100);
            stored = 0;
            await foreach (var _ in table.QueryAsync(EntityFilter.Equal("PartitionKey", ExecutionHistory.Partition(Owner, "s-trim"))))
            {
                stored++;
            }
        }

        Assert.InRange(stored, ExecutionHistory.MaxEntriesPerSession, ExecutionHistory.MaxEntriesPerSession + 16);
        var kept = await history.ListAsync(Owner, "s-trim", 1000);
        Assert.Equal($"print({(ExecutionHistory.MaxEntriesPerSession * 2) - 1})", kept[0].CodePreview);
    }

    [Fact]
    public void Previews_keep_the_first_lines()
    {
        Assert.Equal("a\nb\nc", ExecutionHistory.Preview("a\nb\nc\nd\ne"));
        Assert.Equal(new string('x', 300) + "…", ExecutionHistory.Preview(new string('x', 1000)));
    }

    [Fact]
    public async Task Deleting_a_session_deletes_its_history_and_jobs_but_not_others()
    {
        var sessions = OpenSessions();
        var doomed = await sessions.CreateAsync(NewSession());
        var kept = await sessions.CreateAsync(NewSession());
        var history = new ExecutionHistory(OpenProvider());
        var jobs = new JobStore(OpenProvider(), Time);
        foreach (var id in new[] { doomed.Id, kept.Id })
        {
            await history.RecordAsync(Owner, id, new HistoryEntry(Time.GetUtcNow(), "job", "python", "ok", 1, "1", "1"));
            await jobs.SubmitAsync(NewJob(id), new JobInput("1", null));
        }

        await sessions.DeleteAsync(doomed);

        Assert.Empty(await history.ListAsync(Owner, doomed.Id, 10));
        Assert.Empty(await jobs.ListAsync(Owner, doomed.Id));
        Assert.Single(await history.ListAsync(Owner, kept.Id, 10));
        Assert.Single(await jobs.ListAsync(Owner, kept.Id));
    }

    private SessionStore OpenSessions() => new(
        OpenProvider(),
        new SnapshotProtection(Options.Create(new SnapshotProtectionOptions { SigningKey = Convert.ToBase64String(new byte[32]) })),
        Options.Create(new SessionStoreOptions()),
        Time);

    private JobRecord NewJob(string sessionId) => new()
    {
        Owner = Owner,
        Id = $"j-{Guid.NewGuid():N}",
        SessionId = sessionId,
        Language = "python",
        Timeout = TimeSpan.FromMinutes(10),
        CreatedAt = Time.GetUtcNow(),
        CodePreview = "print('hi')",
    };

    private SessionRecord NewSession() => new()
    {
        Owner = Owner,
        Id = $"s-{Guid.NewGuid():N}",
        Language = "python",
        RuntimeBuildId = "build",
        Flavor = "small",
        CreatedAt = Time.GetUtcNow(),
        LastUsedAt = Time.GetUtcNow(),
        ExpiresAt = Time.GetUtcNow() + TimeSpan.FromHours(1),
        Ttl = TimeSpan.FromHours(1),
    };
}

public sealed class FileJobAndHistoryTests : JobAndHistoryTests
{
    private readonly string _dataPath = Directory.CreateTempSubdirectory("jobs-").FullName;

    protected override IStorageProvider OpenProvider() => new FileStorageProvider(_dataPath, Time);
}

public sealed class AzureJobAndHistoryTests(AzuriteFixture emulator) : JobAndHistoryTests, IClassFixture<AzuriteFixture>
{
    protected override IStorageProvider OpenProvider() =>
        new AzureStorageProvider(AzureStorageAccount.FromConnectionString(emulator.Azurite.ConnectionString), new AzureStorageClientOptions());
}

using System.Text;
using Azure;
using Azure.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sessions.Storage;
using SandboxFunctions.Sessions.Tests.Storage;

namespace SandboxFunctions.Sessions.Tests;

/// <summary>Session state semantics, the same against Azure Storage (Azurite) and the embedded file store.</summary>
public abstract class SessionStoreTests
{
    protected const string BuildId = "python-test-build";
    private static readonly string SigningKey = Convert.ToBase64String(Encoding.UTF8.GetBytes("a signing key of at least 32 bytes!!"));

    // The clock starts at the real time because the storage service stamps blobs with its own clock.
    protected ManualTime Time { get; } = new(DateTimeOffset.UtcNow);

    // Owners unique to each test, since tests share one storage account.
    protected string Alice { get; } = $"alice-{Guid.NewGuid():N}";

    protected string Bob { get; } = $"bob-{Guid.NewGuid():N}";

    /// <summary>A provider over the same data as every other call; a new instance each time, like a restarted server.</summary>
    protected abstract IStorageProvider OpenProvider(Action<AzureStorageClientOptions>? configure = null);

    [Fact]
    public async Task A_commit_saves_the_snapshot_and_advances_the_version()
    {
        var store = OpenStore();
        var created = await store.CreateAsync(NewRecord(Alice));

        var committed = await store.CommitAsync(created, Bytes("state one"), Change());

        Assert.Equal(1, committed.Version);
        Assert.Equal(1, committed.ExecutionCount);
        Assert.Equal("state one", Text(await store.LoadSnapshotAsync(committed)));
        var reread = await store.GetAsync(Alice, created.Id);
        Assert.Equal(committed.SnapshotBlob, reread!.SnapshotBlob);
        Assert.Equal(Time.GetUtcNow() + TimeSpan.FromHours(1), reread.ExpiresAt);
    }

    [Fact]
    public async Task Racing_creates_never_take_an_owner_past_the_session_limit()
    {
        // As many servers as creates, each with its own view of the store, all at once.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            try
            {
                await OpenStore(maxSessions: 3).CreateAsync(NewRecord(Alice));
                return true;
            }
            catch (SessionLimitException ex)
            {
                Assert.Equal(3, ex.Limit);
                return false;
            }
        }));

        Assert.Equal(3, outcomes.Count(created => created));
        Assert.Equal(3, await OpenStore().CountAsync(Alice));
        await OpenStore(maxSessions: 3).CreateAsync(NewRecord(Bob));
    }

    [Fact]
    public async Task A_session_limit_frees_up_when_a_session_is_destroyed()
    {
        var store = OpenStore(maxSessions: 1);
        var first = await store.CreateAsync(NewRecord(Alice));
        await Assert.ThrowsAsync<SessionLimitException>(() => store.CreateAsync(NewRecord(Alice)));

        await store.DeleteAsync(first);

        Assert.Equal(Alice, (await store.CreateAsync(NewRecord(Alice))).Owner);
    }

    [Fact]
    public async Task Moving_an_owner_keeps_each_sessions_state_and_history_under_the_new_id()
    {
        var store = OpenStore();
        var record = await store.CommitAsync(await store.CreateAsync(NewRecord(Alice, "moving")), Bytes("moved state"), Change());
        var history = new ExecutionHistory(OpenProvider());
        await history.RecordAsync(Alice, "moving", new HistoryEntry(Time.GetUtcNow(), "execution", "python", "ok", 5, "x = 1", string.Empty, null));

        Assert.True(await store.MoveOwnerAsync(Alice, Bob));

        Assert.Null(await store.GetAsync(Alice, "moving"));
        var moved = await store.GetAsync(Bob, "moving");
        Assert.Equal(record.Version, moved!.Version);
        Assert.StartsWith(Bob + "/", moved.SnapshotBlob, StringComparison.Ordinal);
        Assert.Equal("moved state", Text(await store.LoadSnapshotAsync(moved)));
        Assert.Single(await history.ListAsync(Bob, "moving", 10));
        Assert.Empty(await history.ListAsync(Alice, "moving", 10));
        Assert.Empty(await ListBlobsAsync(record));
    }

    [Fact]
    public async Task State_survives_a_restart_of_the_server()
    {
        var record = await OpenStore().CreateAsync(NewRecord(Alice, "restart-me"));
        await OpenStore().CommitAsync(record, Bytes("before restart"), Change());

        var restarted = OpenStore();
        var loaded = await restarted.GetAsync(Alice, "restart-me");

        Assert.NotNull(loaded);
        Assert.Equal("before restart", Text(await restarted.LoadSnapshotAsync(loaded!)));
    }

    [Fact]
    public async Task Racing_commits_keep_exactly_one_and_clean_up_after_the_loser()
    {
        var store = OpenStore();
        var record = await store.CommitAsync(await store.CreateAsync(NewRecord(Alice)), Bytes("base"), Change());

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            try
            {
                await OpenStore().CommitAsync(record, Bytes($"writer {i}"), Change());
                return $"writer {i}";
            }
            catch (SessionConflictException)
            {
                return null;
            }
        }));

        var winner = Assert.Single(results, r => r is not null);
        var final = await store.GetAsync(Alice, record.Id);
        Assert.Equal(2, final!.Version);
        Assert.Equal(winner, Text(await store.LoadSnapshotAsync(final)));
        var blobs = await ListBlobsAsync(record);
        Assert.Equal([final.SnapshotBlob!], blobs);
    }

    [Fact]
    public async Task A_conflict_says_to_retry()
    {
        var store = OpenStore();
        var record = await store.CreateAsync(NewRecord(Alice));
        await store.CommitAsync(record, Bytes("first"), Change());

        var conflict = await Assert.ThrowsAsync<SessionConflictException>(() => store.CommitAsync(record, Bytes("stale"), Change()));

        Assert.Contains("another call", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("Retry", conflict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_crash_between_the_snapshot_write_and_the_commit_leaves_the_last_state_loadable()
    {
        var store = OpenStore();
        var committed = await store.CommitAsync(await store.CreateAsync(NewRecord(Alice)), Bytes("committed"), Change());

        // What a commit leaves when the process dies after writing the new snapshot: a blob nothing references.
        var orphan = $"{Alice}/{SessionRowKey(committed.Id)}/000000000002-{Guid.NewGuid():N}.snap";
        await OpenProvider().GetContainer(SessionStore.ContainerName).UploadAsync(orphan, Bytes("half-written"));

        var reloaded = await OpenStore().GetAsync(Alice, committed.Id);
        Assert.Equal("committed", Text(await store.LoadSnapshotAsync(reloaded!)));
        Assert.Contains(orphan, await ListBlobsAsync(committed));

        Time.Advance(TimeSpan.FromMinutes(30));
        var reaped = await Reaper(store).ReapAsync();

        Assert.Equal(1, reaped.OrphanedSnapshots);
        Assert.Equal([committed.SnapshotBlob!], await ListBlobsAsync(committed));
        Assert.Equal("committed", Text(await store.LoadSnapshotAsync((await store.GetAsync(Alice, committed.Id))!)));
    }

    [Fact]
    public async Task Sessions_are_invisible_to_other_owners()
    {
        var store = OpenStore();
        var record = await store.CreateAsync(NewRecord(Alice, "shared-name"));
        await store.CommitAsync(record, Bytes("alice's"), Change());

        Assert.Null(await store.GetAsync(Bob, "shared-name"));
        Assert.Empty(await store.ListAsync(Bob));
        var bobs = await store.CreateAsync(NewRecord(Bob, "shared-name"));
        Assert.Equal(Bob, bobs.Owner);
        Assert.Single(await store.ListAsync(Alice));
    }

    [Fact]
    public async Task A_tampered_or_replayed_snapshot_is_refused()
    {
        var store = OpenStore();
        var victim = await store.CommitAsync(await store.CreateAsync(NewRecord(Alice)), Bytes("victim"), Change());
        var other = await store.CommitAsync(await store.CreateAsync(NewRecord(Alice)), Bytes("other"), Change());
        var container = OpenProvider().GetContainer(SessionStore.ContainerName);

        var stored = (await container.DownloadAsync(victim.SnapshotBlob!))!;
        stored.Content[^1] ^= 1;
        await container.UploadAsync(victim.SnapshotBlob!, stored.Content);
        var tampered = await Assert.ThrowsAsync<SnapshotIntegrityException>(() => store.LoadSnapshotAsync(victim));

        // Another session's valid snapshot under this session's record is a replay, and refused as well.
        var replayed = await Assert.ThrowsAsync<SnapshotIntegrityException>(() => store.LoadSnapshotAsync(victim with { SnapshotBlob = other.SnapshotBlob }));

        Assert.Contains("integrity", tampered.Message, StringComparison.Ordinal);
        Assert.Contains("integrity", replayed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Encrypted_snapshots_hold_no_plaintext_and_need_the_key()
    {
        var encryptionKey = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        var store = OpenStore(encryptionKey);
        var record = await store.CommitAsync(await store.CreateAsync(NewRecord(Alice)), Bytes("top secret plaintext"), Change());

        var raw = (await OpenProvider().GetContainer(SessionStore.ContainerName).DownloadAsync(record.SnapshotBlob!))!.Content;
        var withoutKey = OpenStore();

        Assert.DoesNotContain("top secret", Encoding.UTF8.GetString(raw), StringComparison.Ordinal);
        Assert.Equal("top secret plaintext", Text(await store.LoadSnapshotAsync(record)));
        await Assert.ThrowsAsync<SnapshotIntegrityException>(() => withoutKey.LoadSnapshotAsync(record));
    }

    [Fact]
    public async Task A_snapshot_from_another_runtime_build_is_refused()
    {
        var store = OpenStore();
        var record = await store.CommitAsync(await store.CreateAsync(NewRecord(Alice)), Bytes("old build"), Change());

        var error = await Assert.ThrowsAsync<SnapshotIntegrityException>(() => store.LoadSnapshotAsync(record with { RuntimeBuildId = "python-newer-build" }));

        Assert.Contains("python-newer-build", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expired_sessions_disappear_and_are_reaped_idempotently()
    {
        var store = OpenStore();
        var stale = await store.CommitAsync(await store.CreateAsync(NewRecord(Alice)), Bytes("stale"), Change());
        Time.Advance(TimeSpan.FromMinutes(50));
        var active = await store.CommitAsync(await store.CreateAsync(NewRecord(Alice)), Bytes("active"), Change());
        Time.Advance(TimeSpan.FromMinutes(20));

        Assert.Null(await store.GetAsync(Alice, stale.Id));
        Assert.NotNull(await store.GetAsync(Alice, active.Id));

        var first = await Reaper(store).ReapAsync();
        var second = await Reaper(OpenStore()).ReapAsync();

        Assert.True(first.ExpiredSessions >= 1);
        Assert.Equal(0, second.ExpiredSessions);
        Assert.Empty(await ListBlobsAsync(stale));
        Assert.NotEmpty(await ListBlobsAsync(active));
        Assert.Equal("active", Text(await store.LoadSnapshotAsync((await store.GetAsync(Alice, active.Id))!)));
    }

    [Fact]
    public async Task An_expired_id_can_be_taken_again()
    {
        var store = OpenStore();
        await store.CreateAsync(NewRecord(Alice, "reusable"));
        Time.Advance(TimeSpan.FromHours(2));

        var again = await store.CreateAsync(NewRecord(Alice, "reusable"));

        Assert.Equal(Time.GetUtcNow(), again.CreatedAt);
        await Assert.ThrowsAsync<SessionExistsException>(() => store.CreateAsync(NewRecord(Alice, "reusable")));
    }

    [Fact]
    public async Task Deleting_removes_the_record_and_every_snapshot()
    {
        var store = OpenStore();
        var record = await store.CommitAsync(await store.CreateAsync(NewRecord(Alice)), Bytes("doomed"), Change());

        Assert.True(await store.DeleteAsync(record));

        Assert.Null(await store.GetAsync(Alice, record.Id));
        Assert.Empty(await ListBlobsAsync(record));
        await Assert.ThrowsAsync<SessionConflictException>(() => store.CommitAsync(record, Bytes("too late"), Change()));
    }

    [Theory]
    [InlineData("with/slash#hash?question")]
    [InlineData("ünïcødé-id")]
    public async Task Caller_chosen_ids_with_any_visible_characters_work(string id)
    {
        var store = OpenStore();
        var record = await store.CommitAsync(await store.CreateAsync(NewRecord(Alice, id)), Bytes(id), Change());

        Assert.Equal(id, (await store.GetAsync(Alice, id))!.Id);
        Assert.Equal(id, Text(await store.LoadSnapshotAsync(record)));
        Assert.Contains(await store.ListAsync(Alice), r => r.Id == id);
    }

    protected SessionStore OpenStore(string? encryptionKey = null, IStorageProvider? provider = null, int maxSessions = 50) => new(
        provider ?? OpenProvider(),
        new SnapshotProtection(Options.Create(new SnapshotProtectionOptions { SigningKey = SigningKey, EncryptionKey = encryptionKey })),
        Options.Create(new SessionStoreOptions { MaxSessionsPerOwner = maxSessions }),
        Time);

    protected SessionRecord NewRecord(string owner, string? id = null) => new()
    {
        Owner = owner,
        Id = id ?? $"s-{Guid.NewGuid():N}",
        Language = "python",
        RuntimeBuildId = BuildId,
        Flavor = "small",
        CreatedAt = Time.GetUtcNow(),
        LastUsedAt = Time.GetUtcNow(),
        ExpiresAt = Time.GetUtcNow() + TimeSpan.FromHours(1),
        Ttl = TimeSpan.FromHours(1),
    };

    protected static SessionChange Change() => new(1, 10 << 20, [new SessionFile("/workspace/a.txt", 3)]);

    protected static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    protected static string Text(byte[]? bytes) => Encoding.UTF8.GetString(bytes ?? throw new InvalidOperationException("No snapshot."));

    protected static string SessionRowKey(string id) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(id));

    private SessionReaper Reaper(SessionStore store) => new(store, new SignalStore(OpenProvider(), Time), Time, NullLogger<SessionReaper>.Instance);

    protected async Task<List<string>> ListBlobsAsync(SessionRecord record)
    {
        var names = new List<string>();
        await foreach (var blob in OpenProvider().GetContainer(SessionStore.ContainerName).ListAsync($"{record.Owner}/{SessionRowKey(record.Id)}/"))
        {
            names.Add(blob.Name);
        }

        return names;
    }
}

public sealed class FileSessionStoreTests : SessionStoreTests
{
    private readonly string _dataPath = Directory.CreateTempSubdirectory("sessions-").FullName;

    protected override IStorageProvider OpenProvider(Action<AzureStorageClientOptions>? configure = null) => new FileStorageProvider(_dataPath, Time);
}

public sealed class AzureSessionStoreTests(AzuriteFixture emulator) : SessionStoreTests, IClassFixture<AzuriteFixture>
{
    protected override IStorageProvider OpenProvider(Action<AzureStorageClientOptions>? configure = null)
    {
        var options = new AzureStorageClientOptions();
        configure?.Invoke(options);
        return new AzureStorageProvider(AzureStorageAccount.FromConnectionString(emulator.Azurite.ConnectionString), options);
    }

    [Fact]
    public async Task A_storage_fault_during_the_commit_leaves_the_state_intact_with_a_clear_error()
    {
        var store = OpenStore();
        var committed = await store.CommitAsync(await store.CreateAsync(NewRecord(Alice)), Bytes("safe"), Change());
        var faulty = StoreWhosePutsFail(IsRecordWrite, "{\"odata.error\":{\"code\":\"ServerBusy\"}}");

        var error = await Assert.ThrowsAsync<StorageException>(() => faulty.CommitAsync(committed, Bytes("lost"), Change()));

        Assert.Equal(StorageErrorKind.Unavailable, error.Kind);
        var reloaded = await store.GetAsync(Alice, committed.Id);
        Assert.Equal(committed.Version, reloaded!.Version);
        Assert.Equal("safe", Text(await store.LoadSnapshotAsync(reloaded)));
    }

    [Fact]
    public async Task A_snapshot_upload_that_fails_leaves_the_record_untouched()
    {
        var store = OpenStore();
        var committed = await store.CommitAsync(await store.CreateAsync(NewRecord(Alice)), Bytes("safe"), Change());
        var recordWrites = 0;
        var faulty = StoreWhosePutsFail(
            request => request.Uri.ToString().Contains($"/{SessionStore.ContainerName}/", StringComparison.Ordinal),
            "<Error><Code>ServerBusy</Code></Error>",
            request =>
            {
                if (IsRecordWrite(request))
                {
                    Interlocked.Increment(ref recordWrites);
                }
            });

        var error = await Assert.ThrowsAsync<StorageException>(() => faulty.CommitAsync(committed, Bytes("lost"), Change()));

        Assert.Equal(StorageErrorKind.Unavailable, error.Kind);
        Assert.Equal(0, recordWrites);
        var reloaded = await store.GetAsync(Alice, committed.Id);
        Assert.Equal(committed.Version, reloaded!.Version);
        Assert.Equal(committed.ETag, reloaded.ETag);
        Assert.Equal("safe", Text(await store.LoadSnapshotAsync(reloaded)));
        Assert.Equal([committed.SnapshotBlob!], await ListBlobsAsync(committed));
    }

    private static bool IsRecordWrite(Request request) =>
        request.Method == RequestMethod.Put && request.Uri.ToString().Contains("/sessions(", StringComparison.Ordinal);

    /// <summary>A store whose PUT requests matching <paramref name="fails"/> are answered 503, as by an unavailable service, without retries.</summary>
    private SessionStore StoreWhosePutsFail(Func<Request, bool> fails, string errorBody, Action<Request>? observe = null) =>
        OpenStore(provider: OpenProvider(options =>
        {
            options.Retry.MaxRetries = 0;
            options.AddPolicy(
                new TestPolicy(async (message, next) =>
                {
                    observe?.Invoke(message.Request);
                    if (message.Request.Method == RequestMethod.Put && fails(message.Request))
                    {
                        await new TestResponse(503, body: errorBody).AnswerWith(message);
                        return;
                    }

                    await next();
                }),
                HttpPipelinePosition.PerRetry);
        }));
}

/// <summary>A clock the tests move by hand, so expiry is exact.</summary>
public sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

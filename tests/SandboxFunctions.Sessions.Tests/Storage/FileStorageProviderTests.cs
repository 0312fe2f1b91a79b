using System.Text;
using Azure;
using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Sessions.Tests.Storage;

/// <summary>What only the file store must do: keep every key inside its folder, survive restarts, share a folder safely.</summary>
public sealed class FileStorageProviderTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("file-store-root-");

    private string DataPath => Path.Combine(_root.FullName, "data");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public async Task Keys_and_names_that_look_like_paths_stay_inside_the_data_folder()
    {
        var provider = new FileStorageProvider(DataPath, TimeProvider.System);
        var table = provider.GetTable("sessions");
        await table.CreateIfNotExistsAsync();
        var container = provider.GetContainer("snapshots");
        await container.CreateIfNotExistsAsync();
        string[] keys = ["..", ".", "...", "~", "%2e%2e%2f%2e%2e%2fescape", "..%5C..%5Cescape", "C:", "NUL", "escape\u2215..\u2215..", "\u2025", new string('.', 512)];
        string[] blobNames = ["..%2F..%2Fescape", "a\\..\\..\\escape", "..\\escape", "C:\\escape", "a/b/..c/escape..", new string('x', 1024)];

        foreach (var key in keys)
        {
            await table.AddAsync(new StorageEntity(key, key) { Properties = new Dictionary<string, object?> { ["Key"] = key } });
        }

        foreach (var name in blobNames)
        {
            await container.UploadAsync(name, Encoding.UTF8.GetBytes(name));
        }

        await Assert.ThrowsAsync<ArgumentException>(() => container.UploadAsync("../escape", new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => container.UploadAsync("a/../../escape", new byte[1]));

        Assert.Equal(["data"], _root.EnumerateFileSystemInfos().Select(entry => entry.Name));
        var everything = Directory.EnumerateFileSystemEntries(DataPath, "*", SearchOption.AllDirectories).ToList();
        Assert.All(everything, path => Assert.StartsWith(DataPath + Path.DirectorySeparatorChar, Path.GetFullPath(path), StringComparison.Ordinal));
        Assert.DoesNotContain(everything, path => path.Contains("escape", StringComparison.OrdinalIgnoreCase));
        foreach (var key in keys)
        {
            Assert.Equal(key, (await table.GetAsync(key, key))!.GetString("Key"));
        }

        foreach (var name in blobNames)
        {
            Assert.Equal(Encoding.UTF8.GetBytes(name), (await container.DownloadAsync(name))!.Content);
        }

        Assert.Equal(blobNames.Order(StringComparer.Ordinal), (await container.ListAsync().ToListAsync()).Select(b => b.Name));
    }

    [Fact]
    public async Task A_new_provider_over_the_same_folder_sees_everything_the_old_one_wrote()
    {
        var before = new FileStorageProvider(DataPath, TimeProvider.System);
        var table = before.GetTable("Sessions");
        await table.CreateIfNotExistsAsync();
        var when = new DateTimeOffset(2030, 2, 3, 4, 5, 6, 789, TimeSpan.Zero);
        var entityETag = await table.AddAsync(new StorageEntity("owner", "session")
        {
            Properties = new Dictionary<string, object?> { ["Version"] = long.MaxValue - 1, ["Expires"] = when, ["Runtime"] = "python" },
        });
        var container = before.GetContainer("snapshots");
        await container.CreateIfNotExistsAsync();
        var snapshot = new byte[300_000];
        Random.Shared.NextBytes(snapshot);
        var blobETag = await container.UploadAsync("owner/session", snapshot, new Dictionary<string, string> { ["Runtime"] = "python" });
        var queue = before.GetQueue("expired");
        await queue.CreateIfNotExistsAsync();
        await queue.SendAsync("owner/session");

        // A crash in the middle of a write leaves a temporary file behind; it must not show up as data.
        File.WriteAllText(Path.Combine(DataPath, "tables", "sessions", ".tmp-crashed"), "{");
        File.WriteAllText(Path.Combine(DataPath, "blobs", "snapshots", ".tmp-crashed"), "partial");

        var after = new FileStorageProvider(DataPath, TimeProvider.System);
        var reopenedTable = after.GetTable("sessions");
        var entity = await reopenedTable.GetAsync("owner", "session");
        var blob = await after.GetContainer("snapshots").DownloadAsync("owner/session");
        var message = Assert.Single(await after.GetQueue("expired").ReceiveAsync(10, TimeSpan.FromSeconds(30)));

        Assert.Equal(entityETag, entity!.ETag);
        Assert.Equal(long.MaxValue - 1, entity.GetInt64("Version"));
        Assert.Equal(when, entity.GetDateTimeOffset("Expires"));
        Assert.Equal(snapshot, blob!.Content);
        Assert.Equal(blobETag, blob.ETag);
        Assert.Equal("python", blob.Metadata["runtime"]);
        Assert.Equal("owner/session", message.Text);
        Assert.Single(await reopenedTable.QueryAsync().ToListAsync());
        Assert.Single(await after.GetContainer("snapshots").ListAsync().ToListAsync());
        await reopenedTable.UpdateAsync(entity with { Properties = new Dictionary<string, object?> { ["Version"] = 1L } }, entityETag);
        var stale = await Assert.ThrowsAsync<StorageException>(() => table.UpdateAsync(entity, entityETag));
        Assert.Equal(StorageErrorKind.PreconditionFailed, stale.Kind);
    }

    [Fact]
    public async Task Two_providers_sharing_a_folder_lose_no_conditional_update()
    {
        const int workersPerProvider = 4;
        const int incrementsEach = 25;
        var first = new FileStorageProvider(DataPath, TimeProvider.System);
        var second = new FileStorageProvider(DataPath, TimeProvider.System);
        await first.GetTable("counters").CreateIfNotExistsAsync();
        await first.GetTable("counters").AddAsync(new StorageEntity("p", "r") { Properties = new Dictionary<string, object?> { ["Count"] = 0L } });

        var workers = Enumerable.Range(0, workersPerProvider * 2)
            .Select(i => Task.Run(() => IncrementAsync((i % 2 == 0 ? first : second).GetTable("counters"), incrementsEach)));
        await Task.WhenAll(workers);

        Assert.Equal(workersPerProvider * 2 * incrementsEach, (await second.GetTable("counters").GetAsync("p", "r"))!.GetInt64("Count"));
    }

    [Fact]
    public async Task Two_providers_racing_to_create_a_blob_have_exactly_one_winner()
    {
        var providers = new[] { new FileStorageProvider(DataPath, TimeProvider.System), new FileStorageProvider(DataPath, TimeProvider.System) };
        await providers[0].GetContainer("snapshots").CreateIfNotExistsAsync();

        var attempts = Enumerable.Range(0, 24).Select(i => Task.Run(async () =>
        {
            try
            {
                await providers[i % 2].GetContainer("snapshots").UploadAsync("session", new[] { (byte)i }, ifNoneMatch: ETag.All);
                return (int?)i;
            }
            catch (StorageException ex) when (ex.Kind == StorageErrorKind.PreconditionFailed)
            {
                return null;
            }
        }));
        var winners = (await Task.WhenAll(attempts)).OfType<int>().ToList();

        var winner = Assert.Single(winners);
        Assert.Equal([(byte)winner], (await providers[1 - (winner % 2)].GetContainer("snapshots").DownloadAsync("session"))!.Content);
    }

    [Fact]
    public async Task Writes_that_lose_a_race_or_fail_leave_no_temporary_files_behind()
    {
        var provider = new FileStorageProvider(DataPath, TimeProvider.System);
        var table = provider.GetTable("sessions");
        await table.CreateIfNotExistsAsync();
        var container = provider.GetContainer("snapshots");
        await container.CreateIfNotExistsAsync();
        var etag = await table.AddAsync(new StorageEntity("p", "r"));
        await container.UploadAsync("blob", new byte[] { 1 });

        await Assert.ThrowsAsync<StorageException>(() => table.AddAsync(new StorageEntity("p", "r")));
        await Assert.ThrowsAsync<StorageException>(() => table.UpdateAsync(new StorageEntity("p", "r"), new ETag("\"stale\"")));
        await Assert.ThrowsAsync<StorageException>(() => table.UpdateAsync(new StorageEntity("p", "missing"), ETag.All));
        await Assert.ThrowsAsync<InvalidOperationException>(() => table.UpdateAfterAsync(new StorageEntity("p", "r"), etag, Task.FromException(new InvalidOperationException("upload failed"))));
        await Assert.ThrowsAsync<StorageException>(() => container.UploadAsync("blob", new byte[] { 2 }, ifNoneMatch: ETag.All));
        await Assert.ThrowsAsync<StorageException>(() => container.UploadAsync("blob", new byte[] { 2 }, ifMatch: new ETag("\"stale\"")));

        Assert.Empty(Directory.EnumerateFiles(DataPath, ".tmp-*", SearchOption.AllDirectories));
        Assert.Equal(etag, (await table.GetAsync("p", "r"))!.ETag);
        var blob = await container.DownloadAsync("blob");
        Assert.Equal([(byte)1], blob!.Content);
    }

    [Fact]
    public async Task Queue_visibility_follows_the_injected_clock()
    {
        var clock = new ManualClock(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var queue = new FileStorageProvider(DataPath, clock).GetQueue("work");
        await queue.CreateIfNotExistsAsync();
        await queue.SendAsync("job", visibilityDelay: TimeSpan.FromMinutes(1));

        Assert.Empty(await queue.ReceiveAsync(1, TimeSpan.FromMinutes(10)));
        clock.Advance(TimeSpan.FromMinutes(1));
        var first = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromMinutes(10)));
        clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Empty(await queue.ReceiveAsync(1, TimeSpan.FromMinutes(10)));
        var extended = await queue.ExtendVisibilityAsync(first, TimeSpan.FromMinutes(5));
        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Empty(await queue.ReceiveAsync(1, TimeSpan.FromMinutes(10)));
        clock.Advance(TimeSpan.FromMinutes(1));
        var second = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromMinutes(10)));

        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), first.InsertedOn);
        Assert.Equal(1, first.DequeueCount);
        Assert.Equal(1, extended.DequeueCount);
        Assert.Equal(2, second.DequeueCount);
        Assert.Equal(first.Id, second.Id);
    }

    [Fact]
    public async Task Message_ids_that_this_store_never_made_are_simply_not_found()
    {
        var queue = new FileStorageProvider(DataPath, TimeProvider.System).GetQueue("work");
        await queue.CreateIfNotExistsAsync();
        var forged = new QueueMessage("../../tables/sessions/.lock", "receipt", 1, "x", DateTimeOffset.UtcNow);

        var error = await Assert.ThrowsAsync<StorageException>(() => queue.DeleteAsync(forged));

        Assert.Equal(StorageErrorKind.NotFound, error.Kind);
        Assert.Equal("MessageNotFound", error.ErrorCode);
    }

    private static async Task IncrementAsync(IEntityTable table, int times)
    {
        for (var done = 0; done < times;)
        {
            var current = (await table.GetAsync("p", "r"))!;
            try
            {
                await table.UpdateAsync(current with { Properties = new Dictionary<string, object?> { ["Count"] = current.GetInt64("Count")!.Value + 1 } }, current.ETag);
                done++;
            }
            catch (StorageException ex) when (ex.Kind == StorageErrorKind.PreconditionFailed)
            {
            }
        }
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}

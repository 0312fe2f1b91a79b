using System.Diagnostics;
using Azure;
using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Sessions.Tests.Storage;

/// <summary>
/// What every store must do, run against Azure Storage (the emulator) and the file store alike. Each test works
/// in its own uniquely named table, container or queue.
/// </summary>
public abstract class StorageContractTests
{
    /// <summary>Stores that page set the page size to this, so that listings here span several pages.</summary>
    protected const int SmallPageSize = 5;

    /// <summary>Stores that upload in blocks set their threshold to this, so that the large-blob test uses blocks.</summary>
    protected const int SmallBlockThreshold = 64 * 1024;

    protected abstract IStorageProvider Provider { get; }

    // ---- Tables ----

    [Fact]
    public async Task Added_entity_reads_back_with_its_etag_and_timestamp()
    {
        var table = await NewTableAsync();
        var etag = await table.AddAsync(Entity("p", "r", ("Name", "first")));

        var read = await table.GetAsync("p", "r");

        Assert.NotNull(read);
        Assert.Equal("first", read.GetString("Name"));
        Assert.Equal(etag, read.ETag);
        Assert.NotEqual(default, etag);
        Assert.NotNull(read.Timestamp);
        Assert.True(read.Timestamp > DateTimeOffset.UtcNow.AddMinutes(-5) && read.Timestamp < DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task Adding_an_existing_entity_is_a_conflict_and_keeps_the_original()
    {
        var table = await NewTableAsync();
        await table.AddAsync(Entity("p", "r", ("Name", "first")));

        var error = await Assert.ThrowsAsync<StorageException>(() => table.AddAsync(Entity("p", "r", ("Name", "second"))));

        Assert.Equal(StorageErrorKind.Conflict, error.Kind);
        Assert.Equal("EntityAlreadyExists", error.ErrorCode);
        Assert.Equal("first", (await table.GetAsync("p", "r"))!.GetString("Name"));
    }

    [Fact]
    public async Task Update_needs_the_current_etag_and_every_write_changes_it()
    {
        var table = await NewTableAsync();
        var first = await table.AddAsync(Entity("p", "r", ("Count", 1L)));

        var second = await table.UpdateAsync(Entity("p", "r", ("Count", 2L)), first);
        var stale = await Assert.ThrowsAsync<StorageException>(() => table.UpdateAsync(Entity("p", "r", ("Count", 3L)), first));
        var third = await table.UpdateAsync(Entity("p", "r", ("Count", 4L)), ETag.All);

        Assert.NotEqual(first, second);
        Assert.NotEqual(second, third);
        Assert.Equal(StorageErrorKind.PreconditionFailed, stale.Kind);
        var read = await table.GetAsync("p", "r");
        Assert.Equal(4L, read!.GetInt64("Count"));
        Assert.Equal(third, read.ETag);
    }

    [Fact]
    public async Task Update_after_a_precondition_is_visible_only_once_the_precondition_completes()
    {
        var table = await NewTableAsync();
        var first = await table.AddAsync(Entity("p", "r", ("Count", 1L)));
        var precondition = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var update = table.UpdateAfterAsync(Entity("p", "r", ("Count", 2L)), first, precondition.Task);
        await Task.Delay(200);
        var meanwhile = await table.GetAsync("p", "r");
        precondition.SetResult();
        var second = await update;

        Assert.Equal(1L, meanwhile!.GetInt64("Count"));
        Assert.Equal(first, meanwhile.ETag);
        var read = await table.GetAsync("p", "r");
        Assert.Equal(2L, read!.GetInt64("Count"));
        Assert.Equal(second, read.ETag);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task Update_after_a_failed_precondition_throws_its_error_and_changes_nothing()
    {
        var table = await NewTableAsync();
        var first = await table.AddAsync(Entity("p", "r", ("Count", 1L)));

        var error = await Assert.ThrowsAsync<StorageException>(() => table.UpdateAfterAsync(
            Entity("p", "r", ("Count", 2L)), first, Task.FromException(new StorageException(StorageErrorKind.Failed, "the blob upload failed"))));

        Assert.Equal("the blob upload failed", error.Message);
        var read = await table.GetAsync("p", "r");
        Assert.Equal(1L, read!.GetInt64("Count"));
        Assert.Equal(first, read.ETag);
        await table.UpdateAsync(Entity("p", "r", ("Count", 2L)), first);
        var stale = await Assert.ThrowsAsync<StorageException>(
            () => table.UpdateAfterAsync(Entity("p", "r", ("Count", 3L)), first, Task.CompletedTask));
        Assert.Equal(StorageErrorKind.PreconditionFailed, stale.Kind);
        Assert.Equal(2L, (await table.GetAsync("p", "r"))!.GetInt64("Count"));
    }

    [Fact]
    public async Task Update_of_a_missing_entity_is_not_found()
    {
        var table = await NewTableAsync();

        var error = await Assert.ThrowsAsync<StorageException>(() => table.UpdateAsync(Entity("p", "missing"), ETag.All));

        Assert.Equal(StorageErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public async Task Update_refuses_an_empty_etag_instead_of_matching_anything()
    {
        var table = await NewTableAsync();
        await table.AddAsync(Entity("p", "r"));

        await Assert.ThrowsAsync<ArgumentException>(() => table.UpdateAsync(Entity("p", "r"), default));
    }

    [Fact]
    public async Task Upsert_inserts_then_replaces_the_whole_entity()
    {
        var table = await NewTableAsync();

        var inserted = await table.UpsertAsync(Entity("p", "r", ("A", "a"), ("B", "b")));
        var replaced = await table.UpsertAsync(Entity("p", "r", ("A", "a2")));

        Assert.NotEqual(inserted, replaced);
        var read = await table.GetAsync("p", "r");
        Assert.Equal("a2", read!.GetString("A"));
        Assert.False(read.Properties.ContainsKey("B"));
        Assert.Equal(replaced, read.ETag);
    }

    [Fact]
    public async Task Delete_honours_the_etag_and_reports_whether_the_entity_existed()
    {
        var table = await NewTableAsync();
        var first = await table.AddAsync(Entity("p", "one"));
        await table.UpdateAsync(Entity("p", "one", ("X", 1)), first);
        await table.AddAsync(Entity("p", "two"));

        var stale = await Assert.ThrowsAsync<StorageException>(() => table.DeleteAsync("p", "one", first));
        var current = (await table.GetAsync("p", "one"))!.ETag;

        Assert.Equal(StorageErrorKind.PreconditionFailed, stale.Kind);
        Assert.True(await table.DeleteAsync("p", "one", current));
        Assert.True(await table.DeleteAsync("p", "two", ETag.All));
        Assert.False(await table.DeleteAsync("p", "one", ETag.All));
        Assert.Null(await table.GetAsync("p", "one"));
        Assert.Null(await table.GetAsync("p", "two"));
    }

    [Fact]
    public async Task Reading_a_missing_entity_or_table_gives_null_and_writing_to_a_missing_table_is_not_found()
    {
        var table = await NewTableAsync();
        var missingTable = Provider.GetTable(UniqueTableName());

        Assert.Null(await table.GetAsync("p", "missing"));
        Assert.Null(await missingTable.GetAsync("p", "r"));
        Assert.False(await missingTable.DeleteAsync("p", "r", ETag.All));
        var add = await Assert.ThrowsAsync<StorageException>(() => missingTable.AddAsync(Entity("p", "r")));
        Assert.Equal(StorageErrorKind.NotFound, add.Kind);
        var query = await Assert.ThrowsAsync<StorageException>(async () => await missingTable.QueryAsync().ToListAsync());
        Assert.Equal(StorageErrorKind.NotFound, query.Kind);
    }

    [Fact]
    public async Task Creating_a_table_twice_keeps_its_entities()
    {
        var table = await NewTableAsync();
        await table.AddAsync(Entity("p", "r"));

        await table.CreateIfNotExistsAsync();

        Assert.NotNull(await table.GetAsync("p", "r"));
    }

    [Fact]
    public async Task Property_types_round_trip_exactly()
    {
        var table = await NewTableAsync();
        var when = new DateTimeOffset(2031, 5, 6, 7, 8, 9, 123, TimeSpan.FromHours(2));
        await table.AddAsync(Entity(
            "p",
            "r",
            ("Text", "héllo ✓ 𝄞 \"quoted\" 'single' <xml> &amp; \\ back"),
            ("Empty", string.Empty),
            ("Big", (1L << 53) + 1),
            ("Max", long.MaxValue),
            ("Min", long.MinValue),
            ("Small", -42),
            ("Fraction", 1.5),
            ("Whole", 2.0),
            ("Tiny", 1e-300),
            ("Yes", true),
            ("No", false),
            ("When", when),
            ("Absent", null)));

        var read = (await table.GetAsync("p", "r"))!;

        Assert.Equal("héllo ✓ 𝄞 \"quoted\" 'single' <xml> &amp; \\ back", Assert.IsType<string>(read.Properties["Text"]));
        Assert.Equal(string.Empty, Assert.IsType<string>(read.Properties["Empty"]));
        Assert.Equal((1L << 53) + 1, Assert.IsType<long>(read.Properties["Big"]));
        Assert.Equal(long.MaxValue, Assert.IsType<long>(read.Properties["Max"]));
        Assert.Equal(long.MinValue, Assert.IsType<long>(read.Properties["Min"]));
        Assert.Equal(-42, Assert.IsType<int>(read.Properties["Small"]));
        Assert.Equal(1.5, Assert.IsType<double>(read.Properties["Fraction"]));
        Assert.Equal(2.0, Assert.IsType<double>(read.Properties["Whole"]));
        Assert.Equal(1e-300, Assert.IsType<double>(read.Properties["Tiny"]));
        Assert.True(Assert.IsType<bool>(read.Properties["Yes"]));
        Assert.False(Assert.IsType<bool>(read.Properties["No"]));
        var readWhen = Assert.IsType<DateTimeOffset>(read.Properties["When"]);
        Assert.Equal(when, readWhen);
        Assert.Equal(TimeSpan.Zero, readWhen.Offset);
        Assert.False(read.Properties.ContainsKey("Absent"));
    }

    [Fact]
    public async Task Unsupported_values_keys_and_property_names_are_refused_before_anything_is_written()
    {
        var table = await NewTableAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => table.AddAsync(Entity("p", "r", ("Id", Guid.NewGuid()))));
        await Assert.ThrowsAsync<ArgumentException>(() => table.AddAsync(Entity("p", "r", ("Bytes", new byte[] { 1 }))));
        await Assert.ThrowsAsync<ArgumentException>(() => table.AddAsync(Entity("p", "r", ("Timestamp", DateTimeOffset.UtcNow))));
        await Assert.ThrowsAsync<ArgumentException>(() => table.AddAsync(Entity("p", "r", ("has space", 1))));
        await Assert.ThrowsAsync<ArgumentException>(() => table.AddAsync(Entity("a/b", "r")));
        await Assert.ThrowsAsync<ArgumentException>(() => table.AddAsync(Entity("p", "a#b")));
        await Assert.ThrowsAsync<ArgumentException>(() => table.AddAsync(Entity("p", "a?b")));
        await Assert.ThrowsAsync<ArgumentException>(() => table.AddAsync(Entity("p", "a\\b")));
        await Assert.ThrowsAsync<ArgumentException>(() => table.AddAsync(Entity("p", "tab\there")));
        await Assert.ThrowsAsync<ArgumentException>(() => table.AddAsync(Entity("p", new string('k', 513))));
        Assert.Empty(await table.QueryAsync().ToListAsync());
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("with space")]
    [InlineData("it's \"quoted\"")]
    [InlineData("''")]
    [InlineData("100% & a+b=c; x:y, (z) [w] {v} @ $ ! ~ * ^ | ` <>")]
    [InlineData("ünïcødé ✓ 𝄞 日本語")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("")]
    public async Task Keys_with_odd_characters_round_trip(string key)
    {
        var table = await NewTableAsync();
        var longKey = key + new string('x', 512 - key.Length);

        var etag = await table.AddAsync(Entity(key, key, ("Value", 1)));
        await table.AddAsync(Entity(key, longKey, ("Value", 2)));
        await table.AddAsync(Entity("other", key, ("Value", 3)));
        await table.UpdateAsync(Entity(key, key, ("Value", 4)), etag);

        var read = await table.GetAsync(key, key);
        Assert.Equal(key, read!.PartitionKey);
        Assert.Equal(key, read.RowKey);
        Assert.Equal(4, read.GetInt64("Value"));
        Assert.Equal(2, (await table.GetAsync(key, longKey))!.GetInt64("Value"));
        var partition = await table.QueryAsync(EntityFilter.Equal("PartitionKey", key)).ToListAsync();
        Assert.Equal([key, longKey], partition.Select(e => e.RowKey));
        Assert.True(await table.DeleteAsync(key, key, ETag.All));
        Assert.Null(await table.GetAsync(key, key));
    }

    [Fact]
    public async Task Query_selects_by_partition_and_by_typed_comparisons()
    {
        var table = await NewTableAsync();
        var noon = new DateTimeOffset(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 6; i++)
        {
            await table.AddAsync(Entity(
                i % 2 == 0 ? "even" : "odd",
                $"row{i}",
                ("Version", (1L << 40) + i),
                ("Expires", noon.AddMilliseconds(i * 250)),
                ("Score", i * 0.5),
                ("Runtime", i < 3 ? "python" : "javascript"),
                ("Active", i != 4)));
        }

        async Task<string[]> RowsAsync(EntityFilter filter) =>
            [.. (await table.QueryAsync(filter).ToListAsync()).Select(e => e.RowKey).Order(StringComparer.Ordinal)];

        Assert.Equal(6, (await table.QueryAsync().ToListAsync()).Count);
        Assert.Equal(["row0", "row2", "row4"], await RowsAsync(EntityFilter.Equal("PartitionKey", "even")));
        Assert.Equal(["row0", "row1", "row2"], await RowsAsync(EntityFilter.LessThan("Expires", noon.AddMilliseconds(750))));
        Assert.Equal(["row0", "row1"], await RowsAsync(EntityFilter.LessThan("Version", (1L << 40) + 2)));
        Assert.Equal(["row3", "row5"], await RowsAsync(EntityFilter.GreaterThanOrEqual("Version", (1L << 40) + 3).And(EntityFilter.Equal("PartitionKey", "odd"))));
        Assert.Equal(["row4", "row5"], await RowsAsync(EntityFilter.GreaterThanOrEqual("Score", 2.0)));
        Assert.Equal(["row3", "row5"], await RowsAsync(EntityFilter.Equal("Runtime", "javascript").And(EntityFilter.Equal("Active", true))));
        Assert.Equal(["row1"], await RowsAsync(EntityFilter.Equal("PartitionKey", "odd").And(EntityFilter.LessThan("Expires", noon.AddMilliseconds(500))).And(EntityFilter.GreaterThanOrEqual("RowKey", "row1"))));
        Assert.Empty(await RowsAsync(EntityFilter.Equal("Missing", "x")));
        Assert.Empty(await RowsAsync(EntityFilter.Equal("PartitionKey", "none")));
    }

    [Fact]
    public async Task Query_returns_every_entity_in_key_order_across_pages()
    {
        var table = await NewTableAsync();
        var expected = new List<(string, string)>();
        for (var i = 0; i < (SmallPageSize * 3) + 2; i++)
        {
            var partition = $"p{i % 3}";
            var row = $"r{i:D3}";
            await table.AddAsync(Entity(partition, row));
            expected.Add((partition, row));
        }

        var all = await table.QueryAsync().ToListAsync();
        var onePartition = await table.QueryAsync(EntityFilter.Equal("PartitionKey", "p1")).ToListAsync();

        Assert.Equal(expected.Order(), all.Select(e => (e.PartitionKey, e.RowKey)));
        Assert.Equal(expected.Where(e => e.Item1 == "p1").Select(e => e.Item2).Order(StringComparer.Ordinal), onePartition.Select(e => e.RowKey));
    }

    [Fact]
    public async Task Concurrent_conditional_updates_have_exactly_one_winner_per_round()
    {
        const int contenders = 8;
        var table = await NewTableAsync();
        await table.AddAsync(Entity("p", "r", ("Winner", -1)));

        for (var round = 0; round < 5; round++)
        {
            var seen = (await table.GetAsync("p", "r"))!.ETag;
            var attempts = Enumerable.Range(0, contenders).Select(async contender =>
            {
                try
                {
                    await table.UpdateAsync(Entity("p", "r", ("Winner", (round * 100) + contender)), seen);
                    return (int?)contender;
                }
                catch (StorageException ex) when (ex.Kind == StorageErrorKind.PreconditionFailed)
                {
                    return null;
                }
            });

            var winners = (await Task.WhenAll(attempts)).OfType<int>().ToList();

            var winner = Assert.Single(winners);
            Assert.Equal((round * 100) + winner, (await table.GetAsync("p", "r"))!.GetInt64("Winner"));
        }
    }

    [Fact]
    public async Task Concurrent_read_modify_write_loses_no_update()
    {
        const int workers = 6;
        const int incrementsEach = 8;
        var table = await NewTableAsync();
        await table.AddAsync(Entity("p", "counter", ("Count", 0L)));

        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(() => IncrementAsync(table, "p", "counter", incrementsEach))));

        Assert.Equal(workers * incrementsEach, (await table.GetAsync("p", "counter"))!.GetInt64("Count"));
    }

    // ---- Blobs ----

    [Fact]
    public async Task Uploaded_blob_downloads_with_its_content_metadata_and_etag()
    {
        var container = await NewContainerAsync();
        var content = RandomBytes(1000);

        var etag = await container.UploadAsync("a/b.bin", content, new Dictionary<string, string> { ["Runtime"] = "python", ["Version"] = "3 11" });
        var blob = await container.DownloadAsync("a/b.bin");

        Assert.NotNull(blob);
        Assert.Equal(content, blob.Content);
        Assert.Equal(etag, blob.ETag);
        Assert.Equal("python", blob.Metadata["runtime"]);
        Assert.Equal("3 11", blob.Metadata["Version"]);
        Assert.Equal(2, blob.Metadata.Count);
        Assert.True(blob.LastModified > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Null(await container.DownloadAsync("a/missing.bin"));
    }

    [Fact]
    public async Task Empty_blob_and_blobs_with_odd_names_round_trip()
    {
        var container = await NewContainerAsync();
        string[] names = ["empty", "with space/and ünïcødé ✓ 𝄞.bin", "100% & a+b=c;x,(y)'z'", "deep/er/than/one"];

        foreach (var name in names)
        {
            await container.UploadAsync(name, name == "empty" ? ReadOnlyMemory<byte>.Empty : System.Text.Encoding.UTF8.GetBytes(name));
        }

        foreach (var name in names)
        {
            var blob = await container.DownloadAsync(name);
            Assert.Equal(name == "empty" ? [] : System.Text.Encoding.UTF8.GetBytes(name), blob!.Content);
        }

        Assert.Equal(names.Order(StringComparer.Ordinal), (await container.ListAsync().ToListAsync()).Select(b => b.Name));
    }

    [Fact]
    public async Task Create_only_upload_is_refused_when_the_blob_exists()
    {
        var container = await NewContainerAsync();
        var etag = await container.UploadAsync("snapshot", new byte[] { 1 }, ifNoneMatch: ETag.All);

        var error = await Assert.ThrowsAsync<StorageException>(() => container.UploadAsync("snapshot", new byte[] { 2 }, ifNoneMatch: ETag.All));

        Assert.Equal(StorageErrorKind.PreconditionFailed, error.Kind);
        var blob = await container.DownloadAsync("snapshot");
        Assert.Equal([1], blob!.Content);
        Assert.Equal(etag, blob.ETag);
    }

    [Fact]
    public async Task Conditional_upload_needs_the_current_etag_and_every_write_changes_it()
    {
        var container = await NewContainerAsync();
        var first = await container.UploadAsync("b", new byte[] { 1 });
        var second = await container.UploadAsync("b", new byte[] { 1 });

        var stale = await Assert.ThrowsAsync<StorageException>(() => container.UploadAsync("b", new byte[] { 2 }, ifMatch: first));
        var third = await container.UploadAsync("b", new byte[] { 3 }, ifMatch: second);
        var missing = await Assert.ThrowsAsync<StorageException>(() => container.UploadAsync("never-written", new byte[] { 4 }, ifMatch: third));

        Assert.NotEqual(first, second);
        Assert.NotEqual(second, third);
        Assert.Equal(StorageErrorKind.PreconditionFailed, stale.Kind);
        Assert.Equal(StorageErrorKind.PreconditionFailed, missing.Kind);
        Assert.Equal([3], (await container.DownloadAsync("b"))!.Content);
        Assert.Null(await container.DownloadAsync("never-written"));
    }

    [Fact]
    public async Task Blob_larger_than_the_block_threshold_reads_back_identical()
    {
        var container = await NewContainerAsync();
        var content = RandomBytes((SmallBlockThreshold * 3) + 12345);

        var etag = await container.UploadAsync("large", content, new Dictionary<string, string> { ["Kind"] = "snapshot" });
        var blob = await container.DownloadAsync("large");

        Assert.Equal(content, blob!.Content);
        Assert.Equal(etag, blob.ETag);
        Assert.Equal("snapshot", blob.Metadata["Kind"]);
        Assert.Equal(content.Length, Assert.Single(await container.ListAsync("large").ToListAsync()).Size);
    }

    [Fact]
    public async Task Listing_by_prefix_spans_pages_and_matches_what_was_written()
    {
        var container = await NewContainerAsync();
        var written = new Dictionary<string, ETag>();
        for (var i = 0; i < (SmallPageSize * 2) + 3; i++)
        {
            var name = $"sessions/s{i:D2}/snapshot";
            written[name] = await container.UploadAsync(name, new byte[i + 1]);
        }

        await container.UploadAsync("other/s00/snapshot", new byte[1]);
        await container.UploadAsync("sessionsX", new byte[1]);

        var listed = await container.ListAsync("sessions/").ToListAsync();

        Assert.Equal(written.Keys.Order(StringComparer.Ordinal), listed.Select(b => b.Name));
        foreach (var blob in listed)
        {
            Assert.Equal(written[blob.Name], blob.ETag);
            Assert.Equal(int.Parse(blob.Name[10..12], System.Globalization.CultureInfo.InvariantCulture) + 1, blob.Size);
        }

        Assert.Equal(written.Count + 2, (await container.ListAsync().ToListAsync()).Count);
        Assert.Empty(await container.ListAsync("nothing/").ToListAsync());
    }

    [Fact]
    public async Task Delete_honours_the_etag_and_reports_whether_the_blob_existed()
    {
        var container = await NewContainerAsync();
        var first = await container.UploadAsync("b", new byte[] { 1 });
        var second = await container.UploadAsync("b", new byte[] { 2 });

        var stale = await Assert.ThrowsAsync<StorageException>(() => container.DeleteAsync("b", first));

        Assert.Equal(StorageErrorKind.PreconditionFailed, stale.Kind);
        Assert.True(await container.DeleteAsync("b", second));
        Assert.False(await container.DeleteAsync("b"));
        Assert.Null(await container.DownloadAsync("b"));
        Assert.Empty(await container.ListAsync().ToListAsync());
    }

    [Fact]
    public async Task Blob_names_that_urls_would_rewrite_and_bad_metadata_are_refused()
    {
        var container = await NewContainerAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => container.UploadAsync("../escape", new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => container.UploadAsync("a/./b", new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => container.UploadAsync("folder/", new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => container.UploadAsync("/rooted", new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => container.UploadAsync("a//b", new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => container.UploadAsync(string.Empty, new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => container.UploadAsync("b", new byte[1], new Dictionary<string, string> { ["with-dash"] = "x" }));
        await Assert.ThrowsAsync<ArgumentException>(() => container.UploadAsync("b", new byte[1], new Dictionary<string, string> { ["Name"] = "ünïcødé" }));
        await Assert.ThrowsAsync<ArgumentException>(() => container.UploadAsync("b", new byte[1], new Dictionary<string, string> { ["Name"] = " padded " }));
        Assert.Empty(await container.ListAsync().ToListAsync());
    }

    [Fact]
    public async Task A_container_that_does_not_exist_reads_as_empty_and_refuses_writes_and_listing()
    {
        var container = Provider.GetContainer(UniqueContainerName());

        Assert.Null(await container.DownloadAsync("b"));
        Assert.False(await container.DeleteAsync("b"));
        Assert.Equal(StorageErrorKind.NotFound, (await Assert.ThrowsAsync<StorageException>(() => container.UploadAsync("b", new byte[1]))).Kind);
        Assert.Equal(StorageErrorKind.NotFound, (await Assert.ThrowsAsync<StorageException>(async () => await container.ListAsync().ToListAsync())).Kind);
    }

    // ---- Queues ----

    [Fact]
    public async Task Received_message_is_hidden_from_others_until_deleted()
    {
        var queue = await NewQueueAsync();
        await queue.SendAsync("expire session 'abc' ✓");
        await queue.SendAsync("second");

        var first = await queue.ReceiveAsync(1, TimeSpan.FromSeconds(30));
        var second = await queue.ReceiveAsync(10, TimeSpan.FromSeconds(30));
        var none = await queue.ReceiveAsync(10, TimeSpan.FromSeconds(30));

        var message = Assert.Single(first);
        Assert.Equal("expire session 'abc' ✓", message.Text);
        Assert.Equal(1, message.DequeueCount);
        Assert.True(message.InsertedOn > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Equal("second", Assert.Single(second).Text);
        Assert.Empty(none);
        await queue.DeleteAsync(message);
        await queue.DeleteAsync(second[0]);
        var again = await Assert.ThrowsAsync<StorageException>(() => queue.DeleteAsync(message));
        Assert.Equal(StorageErrorKind.NotFound, again.Kind);
    }

    [Fact]
    public async Task Message_reappears_after_its_visibility_timeout_with_a_higher_dequeue_count()
    {
        var queue = await NewQueueAsync();
        await queue.SendAsync("work");
        var started = Stopwatch.StartNew();

        var first = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(1)));
        var second = await ReceiveOneWithinAsync(queue, TimeSpan.FromSeconds(10));

        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(900), $"The message came back after {started.Elapsed}.");
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(2, second.DequeueCount);
        Assert.NotEqual(first.PopReceipt, second.PopReceipt);
        var stale = await Assert.ThrowsAsync<StorageException>(() => queue.DeleteAsync(first));
        Assert.Equal(StorageErrorKind.PreconditionFailed, stale.Kind);
        await queue.DeleteAsync(second);
        Assert.Empty(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Extending_visibility_keeps_a_message_hidden_and_renews_its_pop_receipt()
    {
        var queue = await NewQueueAsync();
        await queue.SendAsync("long job");
        var received = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(1)));

        var extended = await queue.ExtendVisibilityAsync(received, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        Assert.Empty(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(1)));
        Assert.Equal(received.Id, extended.Id);
        Assert.Equal("long job", extended.Text);
        Assert.Equal(1, extended.DequeueCount);
        Assert.NotEqual(received.PopReceipt, extended.PopReceipt);
        Assert.Equal(StorageErrorKind.PreconditionFailed, (await Assert.ThrowsAsync<StorageException>(() => queue.DeleteAsync(received))).Kind);
        await queue.DeleteAsync(extended);
    }

    [Fact]
    public async Task Message_sent_with_a_delay_is_invisible_until_then()
    {
        var queue = await NewQueueAsync();
        var started = Stopwatch.StartNew();

        await queue.SendAsync("later", TimeSpan.FromSeconds(1));

        Assert.Empty(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(5)));
        var message = await ReceiveOneWithinAsync(queue, TimeSpan.FromSeconds(10));
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(900), $"The message came after {started.Elapsed}.");
        Assert.Equal("later", message.Text);
        Assert.Equal(1, message.DequeueCount);
    }

    [Fact]
    public async Task A_queue_that_does_not_exist_is_not_found()
    {
        var queue = Provider.GetQueue(UniqueContainerName());

        Assert.Equal(StorageErrorKind.NotFound, (await Assert.ThrowsAsync<StorageException>(() => queue.SendAsync("x"))).Kind);
        Assert.Equal(StorageErrorKind.NotFound, (await Assert.ThrowsAsync<StorageException>(() => queue.ReceiveAsync(1, TimeSpan.FromSeconds(1)))).Kind);
    }

    [Fact]
    public void Invalid_resource_names_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Provider.GetTable("ab"));
        Assert.Throws<ArgumentException>(() => Provider.GetTable("1sessions"));
        Assert.Throws<ArgumentException>(() => Provider.GetTable("with-dash"));
        Assert.Throws<ArgumentException>(() => Provider.GetContainer("Upper"));
        Assert.Throws<ArgumentException>(() => Provider.GetContainer("double--hyphen"));
        Assert.Throws<ArgumentException>(() => Provider.GetContainer("../up"));
        Assert.Throws<ArgumentException>(() => Provider.GetQueue("-leading"));
    }

    // ---- Helpers ----

    protected static StorageEntity Entity(string partitionKey, string rowKey, params (string Name, object? Value)[] properties) =>
        new(partitionKey, rowKey) { Properties = properties.ToDictionary(p => p.Name, p => p.Value) };

    protected static string UniqueTableName() => "t" + Guid.NewGuid().ToString("N")[..20];

    protected static string UniqueContainerName() => "c" + Guid.NewGuid().ToString("N")[..20];

    protected async Task<IEntityTable> NewTableAsync()
    {
        var table = Provider.GetTable(UniqueTableName());
        await table.CreateIfNotExistsAsync();
        return table;
    }

    protected async Task<IBlobContainer> NewContainerAsync()
    {
        var container = Provider.GetContainer(UniqueContainerName());
        await container.CreateIfNotExistsAsync();
        return container;
    }

    protected async Task<IMessageQueue> NewQueueAsync()
    {
        var queue = Provider.GetQueue(UniqueContainerName());
        await queue.CreateIfNotExistsAsync();
        return queue;
    }

    /// <summary>Reads, adds one, writes back with the ETag read; retries when someone else wrote in between.</summary>
    protected static async Task IncrementAsync(IEntityTable table, string partitionKey, string rowKey, int times)
    {
        for (var done = 0; done < times;)
        {
            var current = (await table.GetAsync(partitionKey, rowKey))!;
            try
            {
                await table.UpdateAsync(Entity(partitionKey, rowKey, ("Count", current.GetInt64("Count")!.Value + 1)), current.ETag);
                done++;
            }
            catch (StorageException ex) when (ex.Kind == StorageErrorKind.PreconditionFailed)
            {
            }
        }
    }

    protected static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    private static async Task<QueueMessage> ReceiveOneWithinAsync(IMessageQueue queue, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if ((await queue.ReceiveAsync(1, TimeSpan.FromSeconds(30))).SingleOrDefault() is { } message)
            {
                return message;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"No message became visible within {timeout}.");
    }
}

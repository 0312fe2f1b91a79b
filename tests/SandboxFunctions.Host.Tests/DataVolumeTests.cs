using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

/// <summary>
/// Shared read-only files under /data, from a folder with the embedded store and from a blob container on Azurite:
/// read, listed, sought and globbed from Python, JavaScript and the shell; seen afresh after a change at the source;
/// never writable; never saved with a session; and a missing source reported, not fatal.
/// </summary>
[Collection(AzuriteServers.Name)]
public sealed class DataVolumeTests(AzuriteServerFixture fixture)
{
    private const string Key = AzuriteServerFixture.Key;
    private const string Prices = "fruit,price\napple,3\npear,5\napple,4\n";

    public static TheoryData<string> Stores => new() { "embedded", "azurite" };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Files_under_data_are_read_listed_sought_and_globbed_from_python_javascript_and_the_shell(string store)
    {
        await using var source = await VolumeSource.CreateAsync(store, fixture);
        await source.PutAsync("prices.csv", Encoding.UTF8.GetBytes(Prices));
        await source.PutAsync("docs/readme.txt", "read me\n"u8.ToArray());
        await source.PutAsync("numbers.bin", [.. Enumerable.Range(0, 10_000).Select(i => (byte)(i % 251))]);
        await using var server = await source.StartServerAsync();
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);

        var python = await client.OkAsync("execute_code", new
        {
            code = """
                import csv, glob, os
                with open('/data/ref/numbers.bin', 'rb') as f:
                    f.seek(5000)
                    sought = list(f.read(3))
                rows = list(csv.DictReader(open('/data/ref/prices.csv')))
                (sorted(os.listdir('/data/ref')), os.listdir('/data/ref/docs'), glob.glob('/data/ref/*.csv'),
                 sum(int(r['price']) for r in rows if r['fruit'] == 'apple'), sought, os.path.getsize('/data/ref/numbers.bin'))
                """,
        });
        Assert.Equal(
            "(['docs', 'numbers.bin', 'prices.csv'], ['readme.txt'], ['/data/ref/prices.csv'], 7, [231, 232, 233], 10000)",
            python.GetProperty("result").GetProperty("repr").GetString());

        var javascript = await client.OkAsync("execute_code", new
        {
            language = "javascript",
            code = "const fs = require('fs'); [fs.readdirSync('/data/ref').join(','), fs.readFileSync('/data/ref/docs/readme.txt', 'utf8').trim(), fs.statSync('/data/ref/prices.csv').size]",
        });
        Assert.Equal(JsonSerializer.Serialize(new object[] { "docs,numbers.bin,prices.csv", "read me", Prices.Length }), javascript.GetProperty("result").GetProperty("json").GetRawText());

        var session = python.GetProperty("session_id").GetString()!;
        await client.OkAsync("write_file", new { session_id = session, path = "count.py", content = "import sys\nprint(sum(1 for line in open(sys.argv[1]) if line.startswith('apple')))\n" });
        var shell = await client.OkAsync("execute_command", new { session_id = session, command = "ls /data/ref && grep -c pear /data/ref/prices.csv && cat /data/ref/*.csv | wc -l && python count.py /data/ref/prices.csv && cp /data/ref/prices.csv mine.csv && wc -c mine.csv" });
        Assert.Equal($"docs\nnumbers.bin\nprices.csv\n1\n4\n2\n{Prices.Length} mine.csv\n", shell.GetProperty("stdout").GetString());
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_file_changed_at_the_source_is_seen_on_the_next_call(string store)
    {
        await using var source = await VolumeSource.CreateAsync(store, fixture);
        await source.PutAsync("status.txt", "first"u8.ToArray());
        await using var server = await source.StartServerAsync();
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);
        var first = await client.OkAsync("execute_code", new { code = "open('/data/ref/status.txt').read()" });
        var session = first.GetProperty("session_id").GetString()!;

        await source.PutAsync("status.txt", "second, longer"u8.ToArray());
        var second = await client.OkAsync("execute_code", new { session_id = session, code = "open('/data/ref/status.txt').read()" });
        var shell = await client.OkAsync("execute_command", new { session_id = session, command = "cat /data/ref/status.txt" });

        Assert.Equal("'first'", first.GetProperty("result").GetProperty("repr").GetString());
        Assert.Equal("'second, longer'", second.GetProperty("result").GetProperty("repr").GetString());
        Assert.Equal("second, longer", shell.GetProperty("stdout").GetString());
    }

    [Fact]
    public async Task Writes_renames_and_deletes_under_data_are_refused_as_read_only_in_every_language_and_the_shell()
    {
        await using var source = await VolumeSource.CreateAsync("embedded", fixture);
        await source.PutAsync("kept.txt", "kept"u8.ToArray());
        await using var server = await source.StartServerAsync();
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);

        var python = await client.OkAsync("execute_code", new
        {
            code = """
                import errno, os
                def refused(action):
                    try:
                        action()
                    except OSError as e:
                        return errno.errorcode[e.errno]
                    return 'allowed'
                [refused(lambda: open('/data/ref/kept.txt', 'w')), refused(lambda: open('/data/ref/new.txt', 'w')),
                 refused(lambda: os.remove('/data/ref/kept.txt')), refused(lambda: os.rename('/data/ref/kept.txt', '/data/ref/moved.txt')),
                 refused(lambda: os.mkdir('/data/ref/folder'))]
                """,
        });
        Assert.Equal("['EROFS', 'EROFS', 'EROFS', 'EROFS', 'EROFS']", python.GetProperty("result").GetProperty("repr").GetString());
        Assert.Contains("copy the file into /workspace", python.GetProperty("note").GetString(), StringComparison.Ordinal);

        var javascript = await client.OkAsync("execute_code", new
        {
            language = "javascript",
            code = "const fs = require('fs'); let e; try { fs.writeFileSync('/data/ref/kept.txt', 'x'); } catch (error) { e = error; } [e.code, e.message]",
        });
        var error = javascript.GetProperty("result").GetProperty("json");
        Assert.Equal("EROFS", error[0].GetString());
        Assert.Contains("copy it into /workspace", error[1].GetString(), StringComparison.Ordinal);

        var session = python.GetProperty("session_id").GetString()!;
        var shell = await client.CallAsync("execute_command", new { session_id = session, command = "echo x > /data/ref/kept.txt; rm /data/ref/kept.txt; cat /data/ref/kept.txt" });
        var stderr = shell.Structured.GetProperty("stderr").GetString()!;
        Assert.Equal(2, stderr.Split("Read-only file system").Length - 1);
        Assert.Equal("kept", shell.Structured.GetProperty("stdout").GetString());

        var tool = await client.FailsAsync("write_file", new { session_id = session, path = "/data/ref/kept.txt", content = "x" }, "READ_ONLY_PATH");
        Assert.Contains("copy the file into /workspace", tool.GetProperty("message").GetString(), StringComparison.Ordinal);
        var still = await client.OkAsync("read_file", new { session_id = session, path = "/data/ref/kept.txt" });
        Assert.Equal("kept", still.GetProperty("content").GetString());
    }

    [Fact]
    public async Task Reading_data_leaves_the_snapshot_as_small_as_before_and_a_call_reads_no_more_than_its_limit()
    {
        await using var source = await VolumeSource.CreateAsync("azurite", fixture);
        var noise = new byte[2 * 1024 * 1024];
        new Random(7).NextBytes(noise);
        await source.PutAsync("noise.bin", noise);
        await using var server = await source.StartServerAsync(new() { ["Volumes__small__Container"] = source.Container, ["Volumes__small__MaxBytesPerCall"] = "1000" });
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);
        var session = (await client.OkAsync("execute_code", new { code = "x = 1" })).GetProperty("session_id").GetString()!;
        var before = await source.LatestSnapshotBytesAsync(session);

        var read = await client.OkAsync("execute_code", new { session_id = session, code = "f = open('/data/ref/noise.bin', 'rb')\nn = 0\nwhile chunk := f.read(4096):\n    n += len(chunk)\nf.close()\nn" });
        var after = await source.LatestSnapshotBytesAsync(session);

        Assert.Equal(noise.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), read.GetProperty("result").GetProperty("repr").GetString());
        Assert.InRange(after - before, -64 * 1024, 64 * 1024);

        var limited = await client.OkAsync("execute_code", new { session_id = session, code = "import errno\ntry:\n    open('/data/small/noise.bin', 'rb')\nexcept OSError as e:\n    r = errno.errorcode[e.errno]\nr" });
        Assert.Equal("'EFBIG'", limited.GetProperty("result").GetProperty("repr").GetString());
        Assert.Contains("1000 bytes it may read from /data/small", limited.GetProperty("note").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_container_is_reported_clearly_and_a_volume_limited_to_other_flavors_is_not_shown()
    {
        await using var source = await VolumeSource.CreateAsync("azurite", fixture);
        await source.PutAsync("a.txt", "a"u8.ToArray());

        // A blob name that uses a file's name as a folder cannot be shown beside it, and is left out.
        await source.PutAsync("a.txt/inner.txt", "inner"u8.ToArray());
        await using var server = await source.StartServerAsync(new()
        {
            ["Volumes__gone__Container"] = $"missing-{Guid.NewGuid():N}"[..30],
            ["Volumes__ref__Flavors"] = "large",
        });
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);

        var runtimes = await client.OkAsync("list_runtimes");
        var volumes = runtimes.GetProperty("data_volumes").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);
        Assert.Contains("does not exist on the session storage account", volumes["gone"].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, volumes["ref"].GetProperty("files").GetInt32());
        Assert.Equal(["large"], volumes["ref"].GetProperty("flavors").EnumerateArray().Select(f => f.GetString()));

        var small = await client.OkAsync("execute_code", new { code = "import os\n(sorted(os.listdir('/data')), os.listdir('/data/gone'))" });
        Assert.Equal("(['gone'], [])", small.GetProperty("result").GetProperty("repr").GetString());
        Assert.Contains("/data/gone could not be listed", small.GetProperty("note").GetString(), StringComparison.Ordinal);
        var large = await client.OkAsync("execute_code", new { flavor = "large", code = "import os\n(open('/data/ref/a.txt').read(), os.listdir('/data/ref'))" });
        Assert.Equal("('a', ['a.txt'])", large.GetProperty("result").GetProperty("repr").GetString());
    }

    /// <summary>Where a volume's files live for a test: a temporary folder, or a new container on Azurite.</summary>
    private sealed class VolumeSource : IAsyncDisposable
    {
        private readonly AzuriteServerFixture _fixture;
        private readonly string? _folder;
        private readonly BlobContainerClient? _blobs;

        private VolumeSource(AzuriteServerFixture fixture, string? folder, BlobContainerClient? blobs)
        {
            _fixture = fixture;
            _folder = folder;
            _blobs = blobs;
        }

        public string Container => _blobs?.Name ?? throw new InvalidOperationException("The source is a folder.");

        public static async Task<VolumeSource> CreateAsync(string store, AzuriteServerFixture fixture)
        {
            if (store == "embedded")
            {
                return new VolumeSource(fixture, Directory.CreateTempSubdirectory("data-volume-").FullName, null);
            }

            var blobs = Blobs(fixture, $"volume-{Guid.NewGuid():N}");
            await blobs.CreateAsync();
            return new VolumeSource(fixture, null, blobs);
        }

        public async Task PutAsync(string path, byte[] content)
        {
            if (_blobs is not null)
            {
                await _blobs.GetBlobClient(path).UploadAsync(new BinaryData(content), overwrite: true);
                return;
            }

            var file = Path.Combine(_folder!, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            await File.WriteAllBytesAsync(file, content);

            // A rewrite within the file system's timestamp resolution must still look changed.
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(Random.Shared.Next(1, 1000)));
        }

        /// <summary>A server with this source mounted as /data/ref, plus <paramref name="settings"/>.</summary>
        public Task<ServerProcess> StartServerAsync(Dictionary<string, string?>? settings = null)
        {
            var all = new Dictionary<string, string?>(settings ?? []);
            if (_blobs is not null)
            {
                all.TryAdd("Volumes__ref__Container", _blobs.Name);
                return _fixture.StartServerAsync(all);
            }

            all.TryAdd("Volumes__ref__Path", _folder);
            all["Auth__FunctionKeys"] = Key;
            return ServerProcess.StartAsync(all);
        }

        /// <summary>The size of the session's newest snapshot blob.</summary>
        public async Task<long> LatestSnapshotBytesAsync(string sessionId)
        {
            var snapshots = Blobs(_fixture, "snapshots");
            var rowKey = System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(sessionId));
            var latest = (Name: string.Empty, Size: 0L);
            await foreach (var blob in snapshots.GetBlobsAsync())
            {
                if (blob.Name.Contains($"/{rowKey}/", StringComparison.Ordinal) && string.CompareOrdinal(blob.Name, latest.Name) > 0)
                {
                    latest = (blob.Name, blob.Properties.ContentLength ?? 0);
                }
            }

            return latest.Size;
        }

        public async ValueTask DisposeAsync()
        {
            if (_blobs is not null)
            {
                await _blobs.DeleteIfExistsAsync();
            }
            else
            {
                Directory.Delete(_folder!, recursive: true);
            }
        }

        /// <summary>A container on the emulator, through a service version it accepts.</summary>
        private static BlobContainerClient Blobs(AzuriteServerFixture fixture, string name) =>
            new(fixture.Azurite.ConnectionString, name, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2024_11_04));
    }
}

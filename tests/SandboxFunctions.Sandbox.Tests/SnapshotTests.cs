using System.Text;
using System.Text.Json;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Sandbox.Tests;

[Collection(EngineTests.Name)]
public sealed class SnapshotTests(EngineFixture engine)
{
    private const string PythonState = """
        import json, statistics
        from dataclasses import dataclass

        @dataclass
        class Sample:
            name: str
            values: list

            def mean(self):
                return statistics.mean(self.values)

        def describe(sample):
            return f"{sample.name}: {sample.mean():.1f}"

        samples = [Sample('a', [1, 2, 3]), Sample('b', [10, 20])]
        gen = (n * n for n in range(10))
        next(gen)
        open('notes.txt', 'w').write('remember me')
        """;

    private const string PythonCheck = "[describe(s) for s in samples], next(gen), open('notes.txt').read(), json.dumps({'ok': True})";

    private const string PythonExpected = "(['a: 2.0', 'b: 15.0'], 1, 'remember me', '{\"ok\": true}')";

    [Fact]
    public async Task Python_state_survives_a_restore_into_a_fresh_instance()
    {
        byte[] snapshot;
        await using (var original = await engine.CreateAsync("python"))
        {
            await original.ValueAsync(PythonState);
            snapshot = await original.CaptureSnapshotAsync();
        }

        await using var restored = await engine.Runtime("python").RestoreAsync(snapshot, SandboxLimits.Default);

        Assert.Equal(PythonExpected, await restored.ValueAsync(PythonCheck));
    }

    [Fact]
    public async Task JavaScript_state_survives_a_restore_into_a_fresh_instance()
    {
        byte[] snapshot;
        await using (var original = await engine.CreateAsync("javascript"))
        {
            await original.ValueAsync("class Counter { #n = 0; inc() { return ++this.#n } }\nconst counter = new Counter(); counter.inc(); counter.inc();\nconst cache = new Map([['k', [1, 2]]]);\nfunction* ids() { let i = 0; while (true) yield i++ }\nconst it = ids(); it.next();\nfs.writeFileSync('state.json', JSON.stringify({ saved: true }));\nconst pending = new Promise(r => setTimeout(() => r('late'), 10));");
            snapshot = await original.CaptureSnapshotAsync();
        }

        await using var restored = await engine.Runtime("javascript").RestoreAsync(snapshot, SandboxLimits.Default);

        Assert.Equal("[ 3, [ 1, 2 ], 1, true, 'late' ]", await restored.ValueAsync("[counter.inc(), cache.get('k'), it.next().value, JSON.parse(fs.readFileSync('state.json', 'utf8')).saved, await pending]"));
    }

    [Theory]
    [InlineData("python", PythonState, PythonCheck, PythonExpected)]
    [InlineData("javascript", "const inventory = new Map([['apples', 3]]);\nfunction restock(n) { inventory.set('apples', inventory.get('apples') + n); return inventory.get('apples') }\nfs.writeFileSync('note.txt', 'kept');", "[restock(2), fs.readFileSync('note.txt', 'utf8')]", "[ 5, 'kept' ]")]
    public async Task State_survives_a_restore_in_another_process(string language, string state, string check, string expected)
    {
        var snapshotPath = Path.GetTempFileName();
        await using (var original = await engine.CreateAsync(language))
        {
            await original.ValueAsync(state);
            await File.WriteAllBytesAsync(snapshotPath, await original.CaptureSnapshotAsync());
        }

        await using var probe = ChildProcess.Start("dotnet", [TestPaths.ProcessProbe, language, snapshotPath, check], new Dictionary<string, string?>());
        var exitCode = await probe.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.True(exitCode == 0, probe.Output);
        var output = JsonDocument.Parse(probe.Output.Split('\n').Last(l => l.StartsWith('{'))).RootElement;
        Assert.True(output.GetProperty("status").GetString() == "Ok", probe.Output);
        Assert.Equal(expected, output.GetProperty("repr").GetString());
    }

    [Fact]
    public async Task Forks_from_one_snapshot_evolve_independently()
    {
        await using var original = await engine.CreateAsync("python");
        await original.ValueAsync("items = [1]");
        var snapshot = await original.CaptureSnapshotAsync();

        await using var left = await engine.Runtime("python").RestoreAsync(snapshot, SandboxLimits.Default);
        await using var right = await engine.Runtime("python").RestoreAsync(snapshot, SandboxLimits.Default);
        await left.ValueAsync("items.append('left')");
        await right.ValueAsync("items.append('right')");

        Assert.Equal("[1, 'left']", await left.ValueAsync("items"));
        Assert.Equal("[1, 'right']", await right.ValueAsync("items"));
        Assert.Equal("[1]", await original.ValueAsync("items"));
    }

    [Fact]
    public async Task A_small_change_makes_a_small_snapshot()
    {
        await using var sandbox = await engine.CreateAsync("python");
        var fresh = await sandbox.CaptureSnapshotAsync();
        await sandbox.ValueAsync("x = 1");

        var delta = await sandbox.CaptureSnapshotAsync();

        Assert.True(fresh.Length < 64 * 1024, $"A fresh sandbox's snapshot is {fresh.Length} bytes.");
        Assert.True(delta.Length < 1024 * 1024, $"The snapshot after x = 1 is {delta.Length} bytes.");
    }

    [Fact]
    public async Task The_monotonic_clock_never_runs_backwards_across_restores()
    {
        await using var original = await engine.CreateAsync("python");
        var before = double.Parse((await original.ValueAsync("import time\ntime.monotonic()"))!, System.Globalization.CultureInfo.InvariantCulture);
        var snapshot = await original.CaptureSnapshotAsync();

        await using var restored = await engine.Runtime("python").RestoreAsync(snapshot, SandboxLimits.Default);
        var after = double.Parse((await restored.ValueAsync("time.monotonic()"))!, System.Globalization.CultureInfo.InvariantCulture);

        Assert.True(after >= before, $"monotonic went from {before} to {after}");
    }

    [Fact]
    public async Task A_snapshot_from_another_runtime_build_is_refused()
    {
        await using var sandbox = await engine.CreateAsync("python");
        var snapshot = await sandbox.CaptureSnapshotAsync();
        var buildId = Encoding.UTF8.GetBytes(engine.Runtime("python").Info.BuildId);
        var offset = snapshot.AsSpan().IndexOf(buildId);
        snapshot[offset + buildId.Length - 1] ^= 1;

        var otherBuild = await Assert.ThrowsAsync<SandboxException>(() => engine.Runtime("python").RestoreAsync(snapshot, SandboxLimits.Default));
        var otherLanguage = await Assert.ThrowsAsync<SandboxException>(async () =>
            await engine.Runtime("javascript").RestoreAsync(await (await engine.CreateAsync("python")).CaptureSnapshotAsync(), SandboxLimits.Default));

        Assert.Equal(SandboxErrorKind.SnapshotFromOtherBuild, otherBuild.Kind);
        Assert.Contains("cannot move between builds", otherBuild.Message, StringComparison.Ordinal);
        Assert.Equal(SandboxErrorKind.SnapshotFromOtherBuild, otherLanguage.Kind);
    }

    [Fact]
    public async Task Damaged_snapshots_are_refused()
    {
        await using var sandbox = await engine.CreateAsync("python");
        await sandbox.ValueAsync("x = 1");
        var snapshot = await sandbox.CaptureSnapshotAsync();

        var truncated = await Assert.ThrowsAsync<SandboxException>(() => engine.Runtime("python").RestoreAsync(snapshot.AsMemory(0, snapshot.Length / 2), SandboxLimits.Default));
        var garbage = await Assert.ThrowsAsync<SandboxException>(() => engine.Runtime("python").RestoreAsync(Encoding.UTF8.GetBytes("not a snapshot at all"), SandboxLimits.Default));

        Assert.Equal(SandboxErrorKind.SnapshotInvalid, truncated.Kind);
        Assert.Equal(SandboxErrorKind.SnapshotInvalid, garbage.Kind);
    }

    [Fact]
    public async Task A_memory_grown_to_2_GiB_is_saved_and_restored()
    {
        var limits = SandboxLimits.Default with { MemoryBytes = 2048L * 1024 * 1024 };
        await using var sandbox = await engine.CreateAsync("python", limits);
        var filled = await sandbox.RunAsync("blocks = []\nfor size in (64 << 20, 1 << 20, 64 << 10):\n    try:\n        while True: blocks.append(bytes(size))\n    except MemoryError:\n        pass\nkept = len(blocks)\nblocks = None", timeoutSeconds: 120);
        Assert.Equal(ExecutionStatus.Ok, filled.Status);
        Assert.Equal(2048L * 1024 * 1024, sandbox.MemoryBytes);

        var snapshot = await sandbox.CaptureSnapshotAsync();
        await using var restored = await engine.Runtime("python").RestoreAsync(snapshot, limits);

        Assert.Equal(await sandbox.ValueAsync("kept"), await restored.ValueAsync("kept"));
        Assert.True(int.Parse(await restored.ValueAsync("kept") ?? "0", System.Globalization.CultureInfo.InvariantCulture) > 20);
    }

    [Fact]
    public async Task A_restore_beyond_the_memory_limit_is_refused_with_both_sizes()
    {
        await using var sandbox = await engine.CreateAsync("python");
        await sandbox.ValueAsync("big = bytearray(40 * 1024 * 1024)");
        var snapshot = await sandbox.CaptureSnapshotAsync();

        var error = await Assert.ThrowsAsync<SandboxException>(() => engine.Runtime("python").RestoreAsync(snapshot, SandboxLimits.Default with { MemoryBytes = 32L * 1024 * 1024 }));

        Assert.Equal(SandboxErrorKind.MemoryLimitTooSmall, error.Kind);
        Assert.Contains("32 MiB", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("python", "import random\nrandom.random()")]
    [InlineData("javascript", "Math.random()")]
    [InlineData("javascript", "crypto.randomUUID()")]
    public async Task New_sandboxes_draw_their_own_randomness(string language, string draw)
    {
        await using var first = await engine.CreateAsync(language);
        await using var second = await engine.CreateAsync(language);

        Assert.NotEqual(await first.ValueAsync(draw), await second.ValueAsync(draw));
    }
}

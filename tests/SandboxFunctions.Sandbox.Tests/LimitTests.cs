using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Sandbox.Tests;

/// <summary>Every limit ends in its own status and message, and the sandbox stays usable afterwards.</summary>
[Collection(EngineTests.Name)]
public sealed class LimitTests(EngineFixture engine)
{
    private static readonly SandboxLimits Tight = SandboxLimits.Default with
    {
        MemoryBytes = 64L * 1024 * 1024,
        StdoutBytes = 1000,
        OutputHardLimitBytes = 2 * 1024 * 1024,
        RetainedOutputBytes = 100_000,
        HardTimeoutGrace = TimeSpan.FromSeconds(1),
        CodeBytes = 10_000,
    };

    /// <summary>
    /// When a call with a 2 s timeout that ignores its soft interrupt answers at the latest: the timeout, the second of
    /// wall-clock time before the hard stop, and half a second to roll the state back and for a timer that fires late.
    /// </summary>
    private static readonly TimeSpan LatestAnswerAfterTwoSeconds = TimeSpan.FromSeconds(2 + 1 + 0.5);

    [Theory]
    [InlineData("python", "while True:\n    pass")]
    [InlineData("javascript", "while (true) {}")]
    public async Task A_busy_loop_times_out_and_the_state_is_kept(string language, string loop)
    {
        await using var sandbox = await engine.CreateAsync(language, Tight);
        await sandbox.ValueAsync(language == "python" ? "kept = 'yes'" : "var kept = 'yes'");

        var result = await sandbox.RunAsync(loop, timeoutSeconds: 0.5);

        Assert.Equal(ExecutionStatus.Timeout, result.Status);
        Assert.Equal("TimeoutError", result.Error!.Type);
        Assert.Contains("500 ms timeout", result.Message, StringComparison.Ordinal);
        Assert.False(result.StateRolledBack);
        Assert.Equal("'yes'", await sandbox.ValueAsync("kept"));
    }

    [Fact]
    public async Task Code_that_swallows_the_timeout_is_stopped_hard_and_rolled_back()
    {
        await using var sandbox = await engine.CreateAsync("python", Tight);
        await sandbox.ValueAsync("committed = 1");
        await sandbox.CaptureSnapshotAsync();
        await sandbox.ValueAsync("uncommitted = 2");

        var result = await sandbox.RunAsync("while True:\n    try:\n        while True:\n            x = 1\n    except BaseException:\n        pass", timeoutSeconds: 0.5);

        Assert.Equal(ExecutionStatus.Timeout, result.Status);
        Assert.True(result.StateRolledBack);
        Assert.Contains("last saved state", result.Message, StringComparison.Ordinal);
        Assert.Equal("1", await sandbox.ValueAsync("committed"));
        Assert.Equal("False", await sandbox.ValueAsync("'uncommitted' in globals()"));
    }

    // The hard stop comes once the guest has run 5% of the timeout (100 ms here) past it, counted in processor time,
    // or 1 s of wall-clock time after it when a busy machine gives the guest little processor time. The benchmarks'
    // limits scenario measures how close to the timeout calls answer.
    [Theory]
    [InlineData("python", "import re\nre.match(r'(a+)+$', 'a' * 64 + 'b')")]
    [InlineData("python", "10 ** 10 ** 8")]
    [InlineData("python", "import sqlite3\nsqlite3.connect(':memory:').execute('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c').fetchone()")]
    [InlineData("javascript", "/(a+)+$/.test('a'.repeat(64) + 'b')")]
    [InlineData("javascript", "const keys = Array.from({ length: 1e6 }, (_, i) => 'k' + ((i * 7919) % 1000003));\nkeys.concat(keys).sort().length")]
    public async Task A_loop_inside_the_interpreters_C_code_is_stopped_at_its_deadline(string language, string code)
    {
        await using var sandbox = await engine.CreateAsync(language);
        await sandbox.ValueAsync(language == "python" ? "kept = 'yes'" : "var kept = 'yes'");
        await sandbox.CaptureSnapshotAsync();

        var result = await sandbox.RunAsync(code, timeoutSeconds: 2);

        Assert.Equal(ExecutionStatus.Timeout, result.Status);
        Assert.True(result.Duration < LatestAnswerAfterTwoSeconds, $"The call answered after {result.Duration.TotalSeconds:0.000} s.");
        Assert.Equal("'yes'", await sandbox.ValueAsync("kept"));
    }

    [Theory]
    [InlineData("python", "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass")]
    [InlineData("javascript", "while (true) { try { while (true) {} } catch (e) {} }")]
    public async Task Code_that_swallows_every_exception_is_stopped_at_its_deadline(string language, string code)
    {
        await using var sandbox = await engine.CreateAsync(language);

        var result = await sandbox.RunAsync(code, timeoutSeconds: 2);

        Assert.Equal(ExecutionStatus.Timeout, result.Status);
        Assert.True(result.Duration < LatestAnswerAfterTwoSeconds, $"The call answered after {result.Duration.TotalSeconds:0.000} s.");
        Assert.Equal("3", await sandbox.ValueAsync("1 + 2"));
    }

    [Theory]
    [InlineData("python", "a = []\nwhile True:\n    a.append(bytearray(1 << 20))", "MemoryError")]
    [InlineData("javascript", "const a = []; while (true) a.push(new Array(1 << 18).fill(1));", "InternalError")]
    public async Task A_memory_bomb_hits_the_memory_limit(string language, string bomb, string errorType)
    {
        await using var sandbox = await engine.CreateAsync(language, Tight);

        var result = await sandbox.RunAsync(bomb);

        Assert.Equal(ExecutionStatus.MemoryLimit, result.Status);
        Assert.Equal(errorType, result.Error!.Type);
        Assert.Contains("64 MiB", result.Message, StringComparison.Ordinal);
        Assert.True(result.MemoryBytes <= Tight.MemoryBytes);
        Assert.Equal("3", await sandbox.ValueAsync("1 + 2"));
    }

    [Theory]
    [InlineData("python", "def down(n):\n    return down(n + 1)\ndown(0)", "RecursionError")]
    [InlineData("javascript", "function down(n) { return down(n + 1) }\ndown(0)", "RangeError")]
    public async Task Deep_recursion_ends_in_the_languages_own_error(string language, string bomb, string errorType)
    {
        await using var sandbox = await engine.CreateAsync(language, Tight);

        var result = await sandbox.RunAsync(bomb);

        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal(errorType, result.Error!.Type);
        Assert.Equal("3", await sandbox.ValueAsync("1 + 2"));
    }

    [Theory]
    [InlineData("import sys, json\nsys.setrecursionlimit(10**7)\nnested = []\nfor _ in range(10**6):\n    nested = [nested]\njson.dumps(nested)")]
    [InlineData("import sys\nsys.setrecursionlimit(10**7)\nclass Loop:\n    def __repr__(self):\n        return repr(self)\nrepr(Loop())")]
    public async Task Native_recursion_past_a_raised_limit_crashes_cleanly_and_rolls_back(string bomb)
    {
        await using var sandbox = await engine.CreateAsync("python", Tight);
        await sandbox.ValueAsync("before = 'saved'");
        await sandbox.CaptureSnapshotAsync();

        var result = await sandbox.RunAsync(bomb);

        Assert.Equal(ExecutionStatus.Crashed, result.Status);
        Assert.True(result.StateRolledBack);
        Assert.Contains("recursion", result.Message, StringComparison.Ordinal);
        Assert.Equal("'saved'", await sandbox.ValueAsync("before"));
    }

    [Theory]
    [InlineData("python", "for i in range(5000):\n    print('line', i)")]
    [InlineData("javascript", "for (let i = 0; i < 5000; i++) console.log('line', i)")]
    public async Task Output_beyond_the_cap_is_truncated_and_kept_in_full(string language, string loop)
    {
        await using var sandbox = await engine.CreateAsync(language, Tight);

        var result = await sandbox.RunAsync(loop);

        Assert.Equal(ExecutionStatus.Ok, result.Status);
        Assert.True(result.StdoutTruncated);
        Assert.True(result.Stdout.Length <= 1000);
        Assert.StartsWith("line 0\nline 1\n", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(result.StdoutBytes, System.Text.Encoding.UTF8.GetByteCount(result.FullStdout!));
        Assert.EndsWith("line 4999\n", result.FullStdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("python", "while True:\n    print('x' * 1000)")]
    [InlineData("javascript", "while (true) console.log('x'.repeat(1000))")]
    public async Task An_output_flood_is_stopped_at_the_hard_output_limit(string language, string flood)
    {
        await using var sandbox = await engine.CreateAsync(language, Tight);
        await sandbox.ValueAsync(language == "python" ? "before = 1" : "var before = 1");
        await sandbox.CaptureSnapshotAsync();

        var result = await sandbox.RunAsync(flood);

        Assert.Equal(ExecutionStatus.OutputLimit, result.Status);
        Assert.Contains("2 MiB", result.Message, StringComparison.Ordinal);
        Assert.True(result.StdoutTruncated);
        Assert.Equal("1", await sandbox.ValueAsync("before"));
    }

    [Fact]
    public async Task Code_larger_than_the_limit_is_refused_before_running()
    {
        await using var sandbox = await engine.CreateAsync("python", Tight);

        var error = await Assert.ThrowsAsync<SandboxException>(() => sandbox.RunAsync("x = 1\n" + new string('#', 20_000)));

        Assert.Equal(SandboxErrorKind.CodeTooLarge, error.Kind);
        Assert.Contains("10000 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal("2", await sandbox.ValueAsync("1 + 1"));
    }

    [Fact]
    public async Task Workspace_quotas_end_in_clear_os_errors()
    {
        var limits = Tight with { Files = new Vfs.VfsLimits(MaxFiles: 3, MaxTotalBytes: 10_000, MaxFileBytes: 8_000) };
        await using var sandbox = await engine.CreateAsync("python", limits);

        var tooBig = await sandbox.RunAsync("open('big.bin', 'wb').write(b'x' * 9000)");
        var tooMany = await sandbox.RunAsync("for i in range(5):\n    open(f'f{i}.txt', 'w').close()");

        Assert.Equal("OSError", tooBig.Error!.Type);
        Assert.Contains("File too large", tooBig.Error.Message, StringComparison.Ordinal);
        Assert.Contains("at most 8000 bytes", tooBig.Message, StringComparison.Ordinal);
        Assert.Contains("Quota", tooMany.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("3 files", tooMany.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_stops_a_running_call()
    {
        await using var sandbox = await engine.CreateAsync("javascript", Tight);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var result = await sandbox.ExecuteAsync(new ExecutionRequest("while (true) {}") { Timeout = TimeSpan.FromSeconds(30) }, cancel.Token);

        Assert.Equal(ExecutionStatus.Cancelled, result.Status);
        Assert.True(result.Duration < TimeSpan.FromSeconds(10));
        Assert.Equal("2", await sandbox.ValueAsync("1 + 1"));
    }
}

using SandboxFunctions.Tools.Shell;

namespace SandboxFunctions.Tools.Tests.Shell;

/// <summary>
/// Work the shell does in the host on patterns and data the caller chooses: it either finishes in time that grows
/// with the input, not exponentially, or stops at the command line's deadline like a guest that runs too long.
/// How close to the deadline it answers is measured by the benchmarks; these tests check that it does answer.
/// </summary>
[Collection(ShellTests.Name)]
public sealed class HostWorkBoundTests(ShellFixture fixture)
{
    private const double TimeoutSeconds = 2;

    /// <summary>Far beyond the timeout and its grace, yet far below how long the unbounded work would run.</summary>
    private static readonly TimeSpan Unbounded = TimeSpan.FromSeconds(20);

    private static readonly string Backtracker = string.Concat(Enumerable.Repeat("*a", 26)) + "*b";

    [Fact]
    public async Task A_glob_that_would_backtrack_matches_in_linear_time()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync(new string('a', 60), "x");
        await sandbox.WriteAsync(new string('a', 30) + "b", "x");

        var outcome = await TimedShellAsync(sandbox, $"ls {Backtracker}; echo {Backtracker}x");

        Assert.Null(outcome.StopReason);
        Assert.Equal($"{new string('a', 30)}b\n{Backtracker}x\n", outcome.Stdout.Text);
    }

    [Fact]
    public async Task A_find_name_pattern_that_would_backtrack_matches_in_linear_time()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync($"d/{new string('a', 60)}", "x");
        await sandbox.WriteAsync($"d/e/{new string('a', 40)}b", "x");

        var outcome = await TimedShellAsync(sandbox, $"find d -name '{Backtracker}'; find d -iname '{Backtracker.ToUpperInvariant()}' | wc -l");

        Assert.Null(outcome.StopReason);
        Assert.Equal($"d/e/{new string('a', 40)}b\n1\n", outcome.Stdout.Text);
    }

    [Theory]
    [InlineData("grep -E '(a+)+$'")]
    [InlineData("grep '\\(a*\\)*c'")]
    [InlineData("grep -cE '(a|aa)+$'")]
    public async Task A_regular_expression_that_would_backtrack_matches_in_linear_time(string grep)
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("lines.txt", string.Concat(Enumerable.Repeat(new string('a', 5000) + "b\n", 200)));

        var outcome = await TimedShellAsync(sandbox, $"{grep} lines.txt; echo status $?");

        Assert.Null(outcome.StopReason);
        Assert.EndsWith("status 1\n", outcome.Stdout.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_backtracking_match_stops_at_the_deadline()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("lines.txt", string.Concat(Enumerable.Repeat(new string('a', 40) + "b\n", 50)));

        var outcome = await TimedShellAsync(sandbox, "grep -P '^(a+)+\\1$' lines.txt; echo never", timeoutSeconds: 0.5);

        Assert.Equal((ShellStopReason.Timeout, 124), (outcome.StopReason, outcome.ExitCode));
        Assert.Equal(string.Empty, outcome.Stdout.Text);
    }

    [Fact]
    public async Task A_backtracking_match_longer_than_the_match_limit_fails_grep()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("lines.txt", "ok\n" + string.Concat(Enumerable.Repeat(new string('a', 40) + "b\n", 50)));

        var outcome = await TimedShellAsync(sandbox, "grep -P '^(a+)+\\1$|ok' lines.txt; echo status $?");

        Assert.Null(outcome.StopReason);
        Assert.Equal("ok\nstatus 2\n", outcome.Stdout.Text);
        Assert.Contains("grep: a match took longer than 1 s", outcome.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sort_of_a_huge_input_stops_at_the_deadline()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.OutAsync("python -c 'import random\nr = random.Random(7)\nwith open(\"n.txt\", \"w\") as f:\n  for _ in range(1500000): f.write(f\"{r.random() * 1e9}\\n\")'");

        var outcome = await TimedShellAsync(sandbox, "sort -g n.txt | sort -n | sort -h | head -1; echo never");

        Assert.Equal((ShellStopReason.Timeout, 124), (outcome.StopReason, outcome.ExitCode));
        Assert.Equal(string.Empty, outcome.Stdout.Text);
    }

    [Fact]
    public async Task Printf_widths_meet_the_output_limit_as_they_grow()
    {
        await using var sandbox = await fixture.CreateAsync();

        var outcome = await TimedShellAsync(sandbox, $"printf '%100000d' {string.Join(' ', Enumerable.Repeat("7", 2000))}");

        Assert.Equal(ShellStopReason.OutputLimit, outcome.StopReason);
    }

    [Fact]
    public async Task A_glob_that_multiplies_paths_is_an_argument_list_too_long()
    {
        await using var sandbox = await fixture.CreateAsync();
        foreach (var i in Enumerable.Range(0, 60))
        {
            await sandbox.WriteAsync($"d{i:00}/f", "x");
        }

        var outcome = await TimedShellAsync(sandbox, "echo */../*/../*/../*/../* | wc -c; echo next");

        Assert.Null(outcome.StopReason);
        Assert.Equal("0\nnext\n", outcome.Stdout.Text);
        Assert.Contains("Argument list too long", outcome.Stderr.Text, StringComparison.Ordinal);
    }

    private static async Task<ShellOutcome> TimedShellAsync(Sandbox.SandboxInstance sandbox, string command, double timeoutSeconds = TimeoutSeconds)
    {
        var running = Task.Run(() => sandbox.ShellAsync(command, timeoutSeconds));
        await Task.WhenAny(running, Task.Delay(Unbounded));
        Assert.True(running.IsCompleted, $"`{command}` had not answered after {Unbounded.TotalSeconds:0} s.");
        return await running;
    }
}

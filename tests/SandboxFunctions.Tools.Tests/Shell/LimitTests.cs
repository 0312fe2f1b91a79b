using System.Diagnostics;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sandbox.Vfs;
using SandboxFunctions.Tools.Shell;

namespace SandboxFunctions.Tools.Tests.Shell;

/// <summary>One timeout for the whole command line, capped output, and bounded pipes and files.</summary>
[Collection(ShellTests.Name)]
public sealed class LimitTests(ShellFixture fixture)
{
    [Fact]
    public async Task One_timeout_covers_the_whole_pipeline()
    {
        await using var sandbox = await fixture.CreateAsync();
        var started = Stopwatch.GetTimestamp();

        var outcome = await sandbox.ShellAsync("echo started; python -c 'import time\nwhile True: time.sleep(0.05)' | wc -l; echo never", timeoutSeconds: 1);

        Assert.Equal(ShellStopReason.Timeout, outcome.StopReason);
        Assert.Equal(124, outcome.ExitCode);
        Assert.Equal("started\n", outcome.Stdout.Text);
        Assert.Contains("timeout", outcome.StopMessage, StringComparison.Ordinal);
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromSeconds(0.9), "The timeout struck early.");
    }

    [Theory]
    [InlineData("python", "python -c 'import time; time.sleep(5)'")]
    [InlineData("javascript", "node -e 'while (true) {}'")]
    public async Task A_script_that_runs_past_the_timeout_stops_the_command_line(string language, string command)
    {
        await using var sandbox = await fixture.CreateAsync(language);

        var outcome = await sandbox.ShellAsync($"{command}; echo never", timeoutSeconds: 1);

        Assert.Equal((ShellStopReason.Timeout, 124, string.Empty), (outcome.StopReason, outcome.ExitCode, outcome.Stdout.Text));
        Assert.Equal("1\n", await sandbox.OutAsync(language == "python" ? "python -c 'print(1)'" : "node -e 'console.log(1)'"));
    }

    [Fact]
    public async Task An_interpreter_that_has_to_go_back_to_its_saved_state_stops_the_command_line()
    {
        await using var sandbox = await fixture.CreateAsync();

        var outcome = await sandbox.ShellAsync("python -c 'import os; os._exit(3)'; echo never");

        Assert.Equal(ShellStopReason.InterpreterCrashed, outcome.StopReason);
        Assert.True(outcome.StateRolledBack);
        Assert.Contains("exited with status 3", outcome.StopMessage, StringComparison.Ordinal);
        Assert.Equal(string.Empty, outcome.Stdout.Text);
    }

    [Fact]
    public async Task Each_script_gets_only_the_time_that_is_left()
    {
        await using var sandbox = await fixture.CreateAsync();
        var started = Stopwatch.GetTimestamp();

        var outcome = await sandbox.ShellAsync("python -c 'import time; time.sleep(2); print(1)'; python -c 'import time; time.sleep(2); print(2)'", timeoutSeconds: 3);

        Assert.Equal(ShellStopReason.Timeout, outcome.StopReason);
        Assert.Equal("1\n", outcome.Stdout.Text);
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromSeconds(2.9), "The timeout struck early.");
        Assert.Equal(2, outcome.Executions);
    }

    [Fact]
    public async Task Output_past_the_flavor_limit_is_truncated_and_counted()
    {
        await using var sandbox = await fixture.CreateAsync(limits: SandboxLimits.Default with { StdoutBytes = 100, StderrBytes = 50 });

        var outcome = await sandbox.ShellAsync("python -c 'print(\"é\" * 1000)'; printf '%0300d' 0 >&2");

        Assert.Null(outcome.StopReason);
        Assert.Equal(0, outcome.ExitCode);
        Assert.True(outcome.Stdout.Truncated);
        Assert.Equal(2001, outcome.Stdout.TotalBytes);
        Assert.Equal(new string('é', 50), outcome.Stdout.Text);
        Assert.True(outcome.Stderr.Truncated);
        Assert.Equal((300, 50), (outcome.Stderr.TotalBytes, outcome.Stderr.Text.Length));
    }

    [Fact]
    public async Task A_flood_of_output_stops_the_command_line()
    {
        await using var sandbox = await fixture.CreateAsync(limits: SandboxLimits.Default with { OutputHardLimitBytes = 10_000 });
        await sandbox.WriteAsync("big.txt", new string('x', 6_000));

        var outcome = await sandbox.ShellAsync("cat big.txt big.txt; echo never");

        Assert.Equal(ShellStopReason.OutputLimit, outcome.StopReason);
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.DoesNotContain("never", outcome.Stdout.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pipes_carry_at_most_the_workspace_size()
    {
        await using var sandbox = await fixture.CreateAsync(limits: SandboxLimits.Default with { Files = new VfsLimits(100, 50_000, 50_000) });
        await sandbox.WriteAsync("big.txt", new string('x', 30_000));

        var outcome = await sandbox.ShellAsync("cat big.txt big.txt | wc -c");

        Assert.Equal(ShellStopReason.PipelineLimit, outcome.StopReason);
        Assert.Equal(string.Empty, outcome.Stdout.Text);
        Assert.Equal("30000\n", await sandbox.OutAsync("cat big.txt | wc -c"));
    }

    [Fact]
    public async Task A_full_workspace_stops_the_command_line()
    {
        await using var sandbox = await fixture.CreateAsync(limits: SandboxLimits.Default with { Files = new VfsLimits(100, 50_000, 50_000) });
        await sandbox.WriteAsync("big.txt", new string('x', 30_000));

        var outcome = await sandbox.ShellAsync("cat big.txt > copy.txt; echo never");

        Assert.Equal(ShellStopReason.WorkspaceLimit, outcome.StopReason);
        Assert.Equal(string.Empty, outcome.Stdout.Text);
    }

    [Fact]
    public async Task A_script_that_runs_out_of_memory_stops_the_command_line()
    {
        await using var sandbox = await fixture.CreateAsync(limits: SandboxLimits.Default with { MemoryBytes = 64L * 1024 * 1024 });

        var outcome = await sandbox.ShellAsync("python -c 'x = []\nwhile True: x.append(bytearray(1 << 20))'; echo never");

        Assert.Equal(ShellStopReason.MemoryLimit, outcome.StopReason);
        Assert.Equal(137, outcome.ExitCode);
        Assert.Equal(string.Empty, outcome.Stdout.Text);
    }
}

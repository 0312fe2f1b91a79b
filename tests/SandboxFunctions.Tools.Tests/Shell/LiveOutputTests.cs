using System.Diagnostics;
using System.Text;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Tools.Shell;

namespace SandboxFunctions.Tools.Tests.Shell;

/// <summary>The command line's own output as it is written, for progress notifications; pipes and files keep theirs.</summary>
[Collection(ShellTests.Name)]
public sealed class LiveOutputTests(ShellFixture fixture)
{
    [Theory]
    [InlineData("python", "python -c 'import sys, time\nprint(\"tick\", flush=True)\ntime.sleep(1)\nprint(\"tock\", file=sys.stderr, flush=True)'")]
    [InlineData("javascript", "node -e 'console.log(\"tick\"); const end = Date.now() + 1000; while (Date.now() < end) {} console.error(\"tock\")'")]
    public async Task A_script_is_heard_while_it_runs_and_each_byte_once(string language, string script)
    {
        await using var sandbox = await fixture.CreateAsync(language);
        var live = new LiveLog();

        var outcome = await Shell(sandbox, $"echo before; {script}; echo after", live);

        Assert.Equal("before\ntick\nafter\n", outcome.Stdout.Text);
        Assert.Equal("tock\n", outcome.Stderr.Text);
        Assert.Equal("before\ntick\nafter\n", live.Text(OutputKind.Stdout));
        Assert.Equal("tock\n", live.Text(OutputKind.Stderr));

        // Heard as written, not replayed when the script ended: a second passed between its two lines.
        Assert.True(live.At("tock") - live.At("tick") >= TimeSpan.FromSeconds(0.8), $"'tick' came only {(live.At("tock") - live.At("tick")).TotalMilliseconds} ms before 'tock'.");
    }

    [Fact]
    public async Task Output_into_pipes_and_files_is_not_heard_but_what_comes_out_of_them_is()
    {
        await using var sandbox = await fixture.CreateAsync();
        var live = new LiveLog();

        var outcome = await Shell(sandbox, "python -c 'for i in range(3): print(i)' | wc -l; python -c 'print(\"kept\")' > out.txt; cat out.txt; python -c 'import sys; print(\"both\", file=sys.stderr)' 2>&1", live);

        Assert.Equal("3\nkept\nboth\n", outcome.Stdout.Text);
        Assert.Equal(outcome.Stdout.Text, live.Text(OutputKind.Stdout));
        Assert.Equal(string.Empty, live.Text(OutputKind.Stderr));
    }

    [Fact]
    public async Task Without_a_listener_nothing_changes()
    {
        await using var sandbox = await fixture.CreateAsync();

        var outcome = await sandbox.ShellAsync("echo one; python -c 'print(2)'");

        Assert.Equal("one\n2\n", outcome.Stdout.Text);
    }

    private static Task<ShellOutcome> Shell(Sandbox.SandboxInstance sandbox, string command, LiveLog live) =>
        new ShellInterpreter(sandbox, ShellLimits.For(sandbox.Limits, TimeSpan.FromSeconds(60))) { OnOutput = live.Add }
            .RunAsync(ShellParser.Parse(command));

    /// <summary>Each chunk heard, with when it came.</summary>
    private sealed class LiveLog
    {
        private readonly Lock _gate = new();
        private readonly List<(OutputKind Kind, string Text, TimeSpan At)> _chunks = [];
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public void Add(OutputChunk chunk)
        {
            lock (_gate)
            {
                _chunks.Add((chunk.Kind, Encoding.UTF8.GetString(chunk.Data.Span), _clock.Elapsed));
            }
        }

        public string Text(OutputKind kind)
        {
            lock (_gate)
            {
                return string.Concat(_chunks.Where(c => c.Kind == kind).Select(c => c.Text));
            }
        }

        public TimeSpan At(string text)
        {
            lock (_gate)
            {
                return _chunks.First(c => c.Text.Contains(text, StringComparison.Ordinal)).At;
            }
        }
    }
}

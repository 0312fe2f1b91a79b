using System.Text;
using SandboxFunctions.Benchmarks.Measurement;
using SandboxFunctions.Benchmarks.Reporting;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Tools.Shell;

namespace SandboxFunctions.Benchmarks.Scenarios;

/// <summary>
/// How soon command lines answer whose work the shell does itself on what the caller sent: work that would run for
/// good must stop within a tenth of its timeout, and patterns that used to backtrack must answer at once.
/// </summary>
internal sealed class ShellLimitsScenario : IScenario
{
    private static readonly string Backtracker = string.Concat(Enumerable.Repeat("*a", 26)) + "*b";

    private static readonly Case[] Cases =
    [
        new("sort of 1.5 M lines, three times", "sort -g n.txt | sort -n | sort -h | head -1", 2),
        new("grep -P that backtracks", "grep -P '^(a+)+\\1$' lines.txt", 1),
        new("tr and cut over 45 MB, twice each", "tr a-z A-Z < big.txt | cut -d, -f2 | tr A-Z a-z | cut -c1-3 | wc -l", 1),
        new("python busy loop (guest, for comparison)", "python -c 'while True: pass'", 2),
        new($"glob {Backtracker[..12]}…", $"ls {Backtracker}", 2),
        new("grep -E '(a+)+$'", "grep -cE '(a+)+$' long.txt", 2),
    ];

    public string Name => "shell-limits";

    public string Description => "how soon shell command lines doing heavy host-side work answer after their timeout";

    public async Task<ReportSection> RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await using var sandbox = await context.Runtime("python").CreateAsync(SandboxLimits.Default);
        await PrepareAsync(sandbox);

        var answers = new TimeoutAnswers();
        await Rounds.RunAsync(Math.Min(context.Warmup, 1), context.Rounds(5), Cases, (item, record) =>
        {
            var timeout = TimeSpan.FromSeconds(item.TimeoutSeconds);
            return answers.TimeAsync(item.Label, timeout, record, async () =>
            {
                var outcome = await new ShellInterpreter(sandbox, ShellLimits.For(sandbox.Limits, timeout)).RunAsync(ShellParser.Parse(item.Command));
                return outcome.StopReason?.ToString() ?? $"exit {outcome.ExitCode}";
            });
        });

        var section = new SectionBuilder(Name, "Shell limits: answers to command lines whose work the shell does itself");
        foreach (var item in Cases)
        {
            answers.AddTo(section, item.Label, $"{item.Label}, {item.TimeoutSeconds:0} s timeout");
        }

        return section
            .Note("Timed around the shell interpreter in this process, in a Python session of the small flavor.")
            .Note("Before, the glob and the grep -E pattern backtracked without limit and never answered.")
            .Build();
    }

    private static async Task PrepareAsync(SandboxInstance sandbox)
    {
        await sandbox.Workspace.WriteAsync(new string('a', 60), Encoding.UTF8.GetBytes("x"));
        await sandbox.Workspace.WriteAsync("lines.txt", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(new string('a', 40) + "b\n", 50))));
        await sandbox.Workspace.WriteAsync("big.txt", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("alpha,beta,gamma,delta " + new string('x', 40) + "\n", 700_000))));
        await sandbox.Workspace.WriteAsync("long.txt", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(new string('a', 5000) + "b\n", 200))));
        var prepared = await new ShellInterpreter(sandbox, ShellLimits.For(sandbox.Limits, TimeSpan.FromSeconds(60))).RunAsync(ShellParser.Parse(
            "python -c 'import random\nr = random.Random(7)\nwith open(\"n.txt\", \"w\") as f:\n  for _ in range(1500000): f.write(f\"{r.random() * 1e9}\\n\")'"));
        if (prepared.ExitCode != 0)
        {
            throw new InvalidOperationException($"Preparing the input failed: {prepared.Stderr.Text}");
        }
    }

    private sealed record Case(string Label, string Command, double TimeoutSeconds)
    {
        public override string ToString() => Label;
    }
}

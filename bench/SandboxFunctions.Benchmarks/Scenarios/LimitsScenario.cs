using SandboxFunctions.Benchmarks.Measurement;
using SandboxFunctions.Benchmarks.Reporting;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Benchmarks.Scenarios;

/// <summary>
/// How soon after its timeout a call that will not stop answers: code looping inside the interpreter's C code,
/// which no soft interrupt reaches, and code that swallows the interrupt. The goal is an answer within a tenth
/// of the timeout.
/// </summary>
internal sealed class LimitsScenario : IScenario
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private static readonly Case[] Cases =
    [
        new("python", "catastrophic regex", "import re\nre.match(r'(a+)+$', 'a' * 64 + 'b')"),
        new("python", "10 ** 10 ** 8", "10 ** 10 ** 8"),
        new("python", "recursive SQLite CTE", "import sqlite3\nsqlite3.connect(':memory:').execute('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c').fetchone()"),
        new("python", "swallows every exception", "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"),
        new("javascript", "sort of 2 million strings", "const keys = Array.from({ length: 1e6 }, (_, i) => 'k' + ((i * 7919) % 1000003));\nkeys.concat(keys).sort().length"),
        new("javascript", "swallows every exception", "while (true) { try { while (true) {} } catch (e) {} }"),
    ];

    public string Name => "limits";

    public string Description => "how soon after a 2 s timeout code looping in C, or swallowing the interrupt, answers";

    public async Task<ReportSection> RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var sandboxes = new Dictionary<Case, SandboxInstance>();
        try
        {
            foreach (var item in Cases)
            {
                var sandbox = await context.Runtime(item.Language).CreateAsync(SandboxLimits.Default);
                await sandbox.CaptureSnapshotAsync();
                sandboxes[item] = sandbox;
            }

            var answers = new TimeoutAnswers();
            await Rounds.RunAsync(Math.Min(context.Warmup, 1), context.Rounds(5), Cases, (item, record) =>
                answers.TimeAsync(item.ToString(), Timeout, record, async () =>
                {
                    var result = await sandboxes[item].ExecuteAsync(new ExecutionRequest(item.Code) { Timeout = Timeout });
                    return $"{result.Status}{(result.StateRolledBack ? ", rolled back" : string.Empty)}";
                }));

            var section = new SectionBuilder(Name, $"Limits: answers to calls that run past a {Timeout.TotalSeconds:0} s timeout");
            foreach (var item in Cases)
            {
                answers.AddTo(section, item.ToString(), $"{item.Language}: {item.Label}");
            }

            return section
                .Note("Timed from the host around ExecuteAsync, so the time includes the soft interrupt, the hard stop 5% of the timeout (at least 100 ms) later, and going back to the last saved state.")
                .Note("Before the engine moved to Wasmtime, code looping in C answered after 3.8-5.3 s with a 2 s timeout.")
                .Build();
        }
        finally
        {
            foreach (var sandbox in sandboxes.Values)
            {
                await sandbox.DisposeAsync();
            }
        }
    }

    private sealed record Case(string Language, string Label, string Code)
    {
        public override string ToString() => $"{Language}/{Label}";
    }
}

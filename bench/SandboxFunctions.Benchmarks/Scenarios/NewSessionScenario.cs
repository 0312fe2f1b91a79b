using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SandboxFunctions.Benchmarks.Measurement;
using SandboxFunctions.Benchmarks.Reporting;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Benchmarks.Scenarios;

/// <summary>
/// What a new session costs. Once per process, an interpreter boots from nothing and its memory becomes
/// the base image; every new sandbox after that is a copy of the image. Both are timed, each apart from
/// the first call into the new sandbox.
/// </summary>
internal sealed class NewSessionScenario : IScenario
{
    private static readonly (string Language, string FirstCall, string NextCall)[] Languages =
    [
        ("python", "x = 1", "x = 2"),
        ("javascript", "var x = 1", "x = 2"),
    ];

    public string Name => "new-session";

    public string Description => "interpreter boot (the base image) vs a new sandbox copied from it, and its first calls";

    public async Task<ReportSection> RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var samples = new Samples();
        var memory = new Dictionary<string, long>();

        ScenarioContext.Progress("interpreter boots, each in a fresh runtime catalog");
        await Rounds.RunAsync(context.Warmup, context.Rounds(10), Languages, async (language, record) =>
        {
            var started = Stopwatch.GetTimestamp();
            using var catalog = new RuntimeCatalog(Options.Create(new SandboxOptions()), TimeProvider.System, NullLogger<RuntimeCatalog>.Instance);
            var loaded = Rounds.MillisecondsSince(started);
            var runtime = catalog.TryGet(language.Language, out var found) ? (GuestRuntime)found : throw new InvalidOperationException($"No {language.Language} runtime.");
            started = Stopwatch.GetTimestamp();
            await runtime.WarmUpAsync();
            var booted = Rounds.MillisecondsSince(started);
            if (record)
            {
                samples.Add("catalog", loaded);
                samples.Add($"{language.Language}/boot", booted);
            }
        });

        ScenarioContext.Progress("new sandboxes from the base image");
        await Rounds.RunAsync(context.Warmup, context.Rounds(30), Languages, async (language, record) =>
        {
            var started = Stopwatch.GetTimestamp();
            var sandbox = await context.Runtime(language.Language).CreateAsync(SandboxLimits.Default);
            var created = Rounds.MillisecondsSince(started);
            await using (sandbox)
            {
                memory[language.Language] = sandbox.MemoryBytes;
                started = Stopwatch.GetTimestamp();
                await sandbox.RunAsync(language.FirstCall);
                var firstCall = Rounds.MillisecondsSince(started);
                started = Stopwatch.GetTimestamp();
                await sandbox.RunAsync(language.NextCall);
                var nextCall = Rounds.MillisecondsSince(started);
                if (record)
                {
                    samples.Add($"{language.Language}/create", created);
                    samples.Add($"{language.Language}/first", firstCall);
                    samples.Add($"{language.Language}/next", nextCall);
                }
            }
        });

        var section = new SectionBuilder(Name, "A new session: interpreter boot (once per process) vs a copy of the base image");
        section.Group("runtime catalog").Add("load both runtimes' libraries and files (no boot)", Unit.Milliseconds, samples["catalog"]);
        foreach (var (language, firstCall, nextCall) in Languages)
        {
            section.Group(language)
                .Add("first boot in this process (host code not yet compiled, library pages cold), once", Unit.Milliseconds, context.FirstBootMilliseconds[language])
                .Add("interpreter start without base image (the base image boot)", Unit.Milliseconds, samples[$"{language}/boot"])
                .Add("new sandbox from the base image", Unit.Milliseconds, samples[$"{language}/create"])
                .Add($"first call in it: {firstCall}", Unit.Milliseconds, samples[$"{language}/first"])
                .Add($"next call: {nextCall}", Unit.Milliseconds, samples[$"{language}/next"])
                .Add("guest memory copied from the base image", Unit.Bytes, memory[language]);
        }

        return section
            .Note("A boot instantiates the guest, starts the interpreter and its in-guest runtime (for Python, Py_Initialize plus importing the sandbox module and the standard-library modules it imports, asyncio among them, from the zipped stdlib), then copies the memory out as the base image and hashes it.")
            .Note("Calls are timed from the host: ExecuteAsync around a statement, including the hand-off to a guest thread and result conversion.")
            .Note("The trials this design was chosen on measured: Py_Initialize 11-18 ms; QuickJS instantiate 0.15 ms + init 0.36 ms; the 10 MiB Python image copies in 3.5-6 ms.")
            .Build();
    }
}

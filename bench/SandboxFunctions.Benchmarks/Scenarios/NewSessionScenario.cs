using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SandboxFunctions.Benchmarks.Measurement;
using SandboxFunctions.Benchmarks.Reporting;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Benchmarks.Scenarios;

/// <summary>
/// What a new session costs. Once per runtime build, an interpreter boots from nothing and its memory
/// becomes the base image, baked into a booted module that later processes load from the compile cache;
/// every new sandbox is an instance of that module, whose memory is mapped copy-on-write. Both are timed,
/// each apart from the first call into the new sandbox.
/// </summary>
internal sealed class NewSessionScenario : IScenario
{
    private static readonly (string Language, string FirstCall, string NextCall)[] Languages =
    [
        ("python", "x = 1", "x = 2"),
        ("javascript", "var x = 1", "x = 2"),
    ];

    public string Name => "new-session";

    public string Description => "a process's base image (the cached booted module) vs a new sandbox from it, and its first calls";

    public async Task<ReportSection> RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var samples = new Samples();
        var memory = new Dictionary<string, long>();

        ScenarioContext.Progress("base images, each in a fresh runtime catalog");
        await Rounds.RunAsync(context.Warmup, context.Rounds(10), Languages, async (language, record) =>
        {
            var started = Stopwatch.GetTimestamp();
            using var catalog = new RuntimeCatalog(Options.Create(new SandboxOptions()), TimeProvider.System, NullLogger<RuntimeCatalog>.Instance);
            var runtime = await catalog.GetLoadedAsync(language.Language);
            var loaded = Rounds.MillisecondsSince(started);
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

        var section = new SectionBuilder(Name, "A new session: the base image (once per process) vs a new sandbox from it");
        section.Group("runtime catalog").Add("load both runtimes' compiled modules and files (no boot)", Unit.Milliseconds, samples["catalog"]);
        foreach (var (language, firstCall, nextCall) in Languages)
        {
            section.Group(language)
                .Add("first base image in this process (host code not yet compiled), once", Unit.Milliseconds, context.FirstBootMilliseconds[language])
                .Add("base image in a new catalog (the booted module from the cache)", Unit.Milliseconds, samples[$"{language}/boot"])
                .Add("new sandbox (an instance of the booted module)", Unit.Milliseconds, samples[$"{language}/create"])
                .Add($"first call in it: {firstCall}", Unit.Milliseconds, samples[$"{language}/first"])
                .Add($"next call: {nextCall}", Unit.Milliseconds, samples[$"{language}/next"])
                .Add("guest memory at the start, mapped from the module", Unit.Bytes, memory[language]);
        }

        return section
            .Note("Without a cached booted module, a process boots the interpreter once (for Python, Py_Initialize plus importing the sandbox module and the standard-library modules it imports, asyncio among them, from the zipped stdlib), then writes and compiles the booted module; with it, the base image is read from an instance of that module and hashed.")
            .Note("A new sandbox touches only the pages it uses; the first call pays for mapping those.")
            .Note("Calls are timed from the host: ExecuteAsync around a statement, including the hand-off to a guest thread and result conversion.")
            .Note("The earlier wasm2c build, which copied the 11 MiB Python image into each new sandbox, measured 36.7 ms for a new Python sandbox and 5.3 ms for a JavaScript one on this machine.")
            .Build();
    }
}

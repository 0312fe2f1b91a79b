using System.Diagnostics;
using SandboxFunctions.Benchmarks.Measurement;
using SandboxFunctions.Benchmarks.Reporting;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Benchmarks.Scenarios;

/// <summary>
/// N short executions at once, each in its own sandbox (created beforehand), to show how throughput
/// scales with the machine's cores. Every round runs each N once, interleaved, so the speedups over N = 1
/// are paired samples.
/// </summary>
internal sealed class ConcurrencyScenario : IScenario
{
    private static readonly int[] Concurrency = [1, 2, 4, 8];

    private static readonly (string Language, string Code)[] ShortExecutions =
    [
        ("python", "sum(i * i for i in range(100_000))"),
        ("javascript", "(() => { let s = 0; for (let i = 0; i < 400000; i++) { s += i * i % 7 } return s })()"),
    ];

    public string Name => "concurrency";

    public string Description => $"throughput of N concurrent short executions in separate sandboxes (N = {string.Join(", ", Concurrency)})";

    public async Task<ReportSection> RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var sandboxes = new Dictionary<string, SandboxInstance[]>();
        try
        {
            foreach (var (language, _) in ShortExecutions)
            {
                var runtime = context.Runtime(language);
                sandboxes[language] = await Task.WhenAll(Enumerable.Range(0, Concurrency.Max()).Select(_ => runtime.CreateAsync(SandboxLimits.Default)));
            }

            var steps = ShortExecutions.SelectMany(w => Concurrency.Select(n => (Workload: w, N: n))).ToList();
            var samples = new Samples();
            await Rounds.RunAsync(context.Warmup, context.Rounds(20), steps, async (step, record) =>
            {
                var cpuBefore = Environment.CpuUsage.TotalTime;
                var started = Stopwatch.GetTimestamp();
                var results = await Task.WhenAll(sandboxes[step.Workload.Language].Take(step.N).Select(s => s.RunAsync(step.Workload.Code)));
                var wall = Rounds.MillisecondsSince(started);
                var cpu = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds;
                if (record)
                {
                    var key = $"{step.Workload.Language}/{step.N}";
                    samples.Add($"{key}/wall", wall);
                    samples.Add($"{key}/throughput", step.N / (wall / 1000));
                    samples.Add($"{key}/latency", results.Average(r => r.Duration.TotalMilliseconds));
                    samples.Add($"{key}/cores", cpu / wall);
                }
            });

            var section = new SectionBuilder(Name, $"Concurrent executions in separate sandboxes on {Environment.ProcessorCount} logical CPUs");
            foreach (var (language, code) in ShortExecutions)
            {
                section.Group($"{language}: {code}");
                var single = samples[$"{language}/1/throughput"];
                foreach (var n in Concurrency)
                {
                    var throughput = samples[$"{language}/{n}/throughput"];
                    section
                        .Add($"N={n}: wall time for all N", Unit.Milliseconds, samples[$"{language}/{n}/wall"])
                        .Add($"N={n}: mean execution time (host-observed)", Unit.Milliseconds, samples[$"{language}/{n}/latency"])
                        .Add($"N={n}: throughput", Unit.PerSecond, throughput)
                        .Add($"N={n}: cores this process got (CPU time / wall time)", Unit.Cores, samples[$"{language}/{n}/cores"]);
                    if (n > 1)
                    {
                        section.Add($"N={n}: throughput / throughput at N=1", Unit.Ratio, Distribution.Ratio(throughput, single));
                    }
                }
            }

            return section
                .Note("Throughput is executions per second of wall time for the whole batch; with more executions than cores, each one waits its turn for a core.")
                .Note("Scaling can only reach the cores the process actually got: when other work on the machine takes a core (see the load average above), the cores row shows it and the speedup drops with it.")
                .Build();
        }
        finally
        {
            foreach (var sandbox in sandboxes.Values.SelectMany(s => s))
            {
                await sandbox.DisposeAsync();
            }
        }
    }
}

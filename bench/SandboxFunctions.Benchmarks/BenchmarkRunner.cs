using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SandboxFunctions.Benchmarks.Reporting;
using SandboxFunctions.Benchmarks.Scenarios;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Benchmarks;

/// <summary>Runs the selected scenarios one after another, then prints the report and writes it under bench/results.</summary>
internal static class BenchmarkRunner
{
    public static async Task<int> RunAsync(BenchmarkSettings settings, IReadOnlyList<IScenario> scenarios, IReadOnlyList<string> args)
    {
        if (settings.HelpOnly)
        {
            Console.WriteLine(BenchmarkSettings.Usage);
            return 0;
        }

        if (settings.ListOnly)
        {
            foreach (var scenario in scenarios)
            {
                Console.WriteLine($"{scenario.Name,-18} {scenario.Description}");
            }

            return 0;
        }

        var unknown = settings.Scenarios.Where(name => scenarios.All(s => s.Name != name)).ToList();
        if (unknown.Count > 0)
        {
            Console.Error.WriteLine($"Unknown scenario {string.Join(", ", unknown.Select(n => $"'{n}'"))}; the scenarios are: {string.Join(", ", scenarios.Select(s => s.Name))}.");
            return 2;
        }

        var selected = settings.Scenarios.Count == 0 ? scenarios : [.. scenarios.Where(s => settings.Scenarios.Contains(s.Name))];
        var startedAt = DateTimeOffset.UtcNow;
        var started = Stopwatch.GetTimestamp();
        var loadAtStart = EnvironmentFacts.LoadAverage();

        using var catalog = new RuntimeCatalog(Options.Create(new SandboxOptions()), TimeProvider.System, NullLogger<RuntimeCatalog>.Instance);
        if (catalog.Runtimes.Count == 0)
        {
            Console.Error.WriteLine("No guest runtimes were found next to the benchmarks; building the project builds them (native/build.sh).");
            return 1;
        }

        var context = new ScenarioContext(settings, catalog, await BootEachAsync(catalog));
        var sections = new List<ReportSection>();
        foreach (var scenario in selected)
        {
            Console.Error.WriteLine($"Running {scenario.Name}: {scenario.Description}");
            var scenarioStarted = Stopwatch.GetTimestamp();
            sections.Add(await scenario.RunAsync(context));
            Console.Error.WriteLine($"  done in {Stopwatch.GetElapsedTime(scenarioStarted).TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s");
        }

        var report = new BenchmarkReport(
            startedAt,
            Stopwatch.GetElapsedTime(started),
            "dotnet run -c Release --project bench/SandboxFunctions.Benchmarks" + (args.Count > 0 ? " -- " + string.Join(' ', args) : string.Empty),
            EnvironmentFacts.Describe(settings, catalog, loadAtStart),
            sections);

        Console.WriteLine();
        Console.Write(ReportWriter.ToText(report));
        Directory.CreateDirectory(RepositoryPaths.Results);
        var stem = Path.Combine(RepositoryPaths.Results, startedAt.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        await File.WriteAllTextAsync(stem + ".md", ReportWriter.ToMarkdown(report));
        await File.WriteAllTextAsync(stem + ".json", ReportWriter.ToJson(report));
        Console.WriteLine();
        Console.WriteLine($"Written to {Path.GetRelativePath(RepositoryPaths.Root, stem)}.md and .json");
        return 0;
    }

    /// <summary>
    /// Boots every runtime's base image, one after the other, and times each: the only boot in the process
    /// that runs before the host's code is compiled and the compiled modules' pages are touched, as on a new instance.
    /// </summary>
    private static async Task<IReadOnlyDictionary<string, double>> BootEachAsync(RuntimeCatalog catalog)
    {
        var milliseconds = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var info in catalog.Runtimes)
        {
            var runtime = await catalog.GetLoadedAsync(info.Language);
            var started = Stopwatch.GetTimestamp();
            await runtime.WarmUpAsync();
            milliseconds[info.Language] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        return milliseconds;
    }
}

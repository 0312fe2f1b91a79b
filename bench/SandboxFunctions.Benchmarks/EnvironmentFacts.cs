using System.Runtime.InteropServices;
using SandboxFunctions.Benchmarks.Reporting;
using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Benchmarks;

/// <summary>What the numbers depend on besides the code: the machine, how busy it was, the builds that ran.</summary>
internal static class EnvironmentFacts
{
    private const string LoadAverageFile = "/proc/loadavg";

    public static IReadOnlyList<EnvironmentFact> Describe(BenchmarkSettings settings, RuntimeCatalog catalog, string loadAtStart)
    {
        var memoryGiB = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        var facts = new List<EnvironmentFact>
        {
            new("machine", $"{Environment.ProcessorCount} logical CPUs ({CpuModel()}), {memoryGiB:0} GiB, {RuntimeInformation.OSDescription}"),
            new("load average (1/5/15 min)", $"{loadAtStart} at start, {LoadAverage()} at end"),
            new(".NET", $"{RuntimeInformation.FrameworkDescription}, {BuildConfiguration()} build"),
        };
        facts.AddRange(catalog.Runtimes.Select(r => new EnvironmentFact($"{r.Language} runtime", $"{r.Engine}; build {r.BuildId}")));
        facts.Add(new("rounds", $"{settings.Warmup} warm-up, then {(settings.Iterations is { } n ? $"{n} measured" : "each scenario's default number measured")} (see n)"));
        return facts;
    }

    public static string LoadAverage() =>
        File.Exists(LoadAverageFile) ? string.Join(' ', File.ReadAllText(LoadAverageFile).Split(' ').Take(3)) : "unknown";

    private static string CpuModel() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown model"
            : RuntimeInformation.ProcessArchitecture.ToString();

    private static string BuildConfiguration() =>
#if DEBUG
        "Debug (numbers from a Debug build understate the host's speed; use -c Release)";
#else
        "Release";
#endif
}

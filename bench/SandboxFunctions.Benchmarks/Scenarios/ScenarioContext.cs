using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Benchmarks.Scenarios;

/// <summary>What every scenario shares: the settings and the engine, whose runtimes are already booted.</summary>
internal sealed class ScenarioContext(BenchmarkSettings settings, RuntimeCatalog catalog, IReadOnlyDictionary<string, double> firstBootMilliseconds)
{
    public BenchmarkSettings Settings { get; } = settings;

    public RuntimeCatalog Catalog { get; } = catalog;

    /// <summary>How long each runtime's base image took to boot when the harness started, by language.</summary>
    public IReadOnlyDictionary<string, double> FirstBootMilliseconds { get; } = firstBootMilliseconds;

    public int Warmup => Settings.Warmup;

    public int Rounds(int scenarioDefault) => Settings.RoundsOr(scenarioDefault);

    public IGuestRuntime Runtime(string language) =>
        Catalog.TryGet(language, out var runtime)
            ? runtime
            : throw new InvalidOperationException($"The {language} runtime was not found; build the solution so that the guest runtimes are built.");

    public static void Progress(string message) => Console.Error.WriteLine($"  {message}");
}

using System.Reflection;

namespace SandboxFunctions.Benchmarks;

/// <summary>Where the harness finds its peer programs and writes its results, as recorded at build time.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = Path.GetFullPath(
        typeof(RepositoryPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value
        ?? throw new InvalidOperationException("The benchmark assembly has no RepositoryRoot metadata."));

    /// <summary>The Node package that runs QuickJS's own WebAssembly build for comparison.</summary>
    public static string BenchNodePeers { get; } = Path.Combine(Root, "bench", "node");

    public static string Results { get; } = Path.Combine(Root, "bench", "results");
}

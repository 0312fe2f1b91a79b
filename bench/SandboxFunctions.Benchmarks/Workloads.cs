namespace SandboxFunctions.Benchmarks;

/// <summary>The benchmark programs, embedded so that the sandbox and the native interpreters run the very same text.</summary>
internal static class Workloads
{
    public static string Read(string name)
    {
        using var stream = typeof(Workloads).Assembly.GetManifestResourceStream($"Workloads/{name}")
            ?? throw new InvalidOperationException($"The workload '{name}' is not embedded in the benchmark assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Several workload files as one program, each ending on its own line.</summary>
    public static string Combine(params string[] names) => string.Join('\n', names.Select(Read));
}

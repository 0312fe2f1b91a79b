using System.Reflection;

namespace SandboxFunctions.Testing;

/// <summary>Where the repository and the built server are, as recorded when the tests were built.</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = Path.GetFullPath(Metadata("RepositoryRoot"));

    public static string Configuration { get; } = Metadata("Configuration");

    public static string HostAssembly { get; } = Path.Combine(
        RepositoryRoot, "src", "SandboxFunctions.Host", "bin", Configuration, "net10.0", "SandboxFunctions.Host.dll");

    /// <summary>The Functions app's build output, where the Worker SDK writes functions.metadata.</summary>
    public static string FunctionsOutput { get; } = Path.Combine(
        RepositoryRoot, "src", "SandboxFunctions.Functions", "bin", Configuration, "net10.0");

    public static string ProcessProbe { get; } = Path.Combine(
        RepositoryRoot, "tests", "SandboxFunctions.Sandbox.ProcessProbe", "bin", Configuration, "net10.0", "SandboxFunctions.Sandbox.ProcessProbe.dll");

    public static string NodePeers { get; } = Path.Combine(RepositoryRoot, "tests", "node");

    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"The test assembly has no {key} metadata.");
}

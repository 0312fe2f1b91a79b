using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Sandbox.Tests;

/// <summary>The real guest runtimes, as built by the solution, shared by every engine test.</summary>
public sealed class EngineFixture : IDisposable
{
    public EngineFixture()
    {
        Catalog = new RuntimeCatalog(Options.Create(new SandboxOptions()), TimeProvider.System, NullLogger<RuntimeCatalog>.Instance);
    }

    public RuntimeCatalog Catalog { get; }

    public IGuestRuntime Runtime(string language) =>
        Catalog.TryGet(language, out var runtime) ? runtime : throw new InvalidOperationException($"The {language} runtime was not built.");

    public Task<SandboxInstance> CreateAsync(string language, SandboxLimits? limits = null) => Runtime(language).CreateAsync(limits ?? SandboxLimits.Default);

    public void Dispose() => Catalog.Dispose();
}

/// <remarks>
/// Runs alone, after the tests that may run in parallel: several of its tests check that a limit ends a call
/// within a tenth of its timeout, which other tests taking both cores of a small machine would distort.
/// </remarks>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EngineTests : ICollectionFixture<EngineFixture>
{
    public const string Name = "engine";
}

internal static class SandboxTestExtensions
{
    public static Task<ExecutionResult> RunAsync(this SandboxInstance sandbox, string code, double timeoutSeconds = 10) =>
        sandbox.ExecuteAsync(new ExecutionRequest(code) { Timeout = TimeSpan.FromSeconds(timeoutSeconds) });

    /// <summary>Runs code that must succeed and returns the printable form of its value.</summary>
    public static async Task<string?> ValueAsync(this SandboxInstance sandbox, string code)
    {
        var result = await sandbox.RunAsync(code);
        Assert.True(result.Status == ExecutionStatus.Ok, $"Expected Ok, got {result.Status}: {result.Error?.Traceback ?? result.Error?.Message ?? result.Message}\n{result.Stderr}");
        return result.Result?.Repr;
    }
}

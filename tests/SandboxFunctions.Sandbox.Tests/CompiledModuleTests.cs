using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace SandboxFunctions.Sandbox.Tests;

/// <summary>
/// Guest modules are compiled once per module, engine build and configuration, and cached; state saved under
/// one engine configuration is never loaded into another.
/// </summary>
public sealed class CompiledModuleTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sandbox-modules-").FullName;

    public CompiledModuleTests()
    {
        // Only the small JavaScript guest, so that compiling it again stays cheap.
        var source = Path.Combine(AppContext.BaseDirectory, "runtimes", "javascript");
        var target = Path.Combine(_root, "runtimes", "javascript");
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }

    private string CachePath => Path.Combine(_root, "cache");

    [Fact]
    public async Task The_module_and_its_booted_form_are_compiled_once_into_the_cache_and_damaged_entries_are_compiled_again()
    {
        using (var first = Catalog())
        {
            Assert.Equal("2", await ValueAsync(first, "1 + 1"));
        }

        var cached = Directory.GetFiles(CachePath, "*.cwasm").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(2, cached.Length);
        Assert.Single(cached, path => Path.GetFileName(path).Contains("-booted-", StringComparison.Ordinal));
        var written = cached.Select(File.GetLastWriteTimeUtc).ToArray();
        using (var second = Catalog())
        {
            Assert.Equal("4", await ValueAsync(second, "2 + 2"));
        }

        Assert.Equal(written, cached.Select(File.GetLastWriteTimeUtc));

        foreach (var path in cached)
        {
            await File.WriteAllBytesAsync(path, [1, 2, 3, 4]);
        }

        using (var third = Catalog())
        {
            Assert.Equal("6", await ValueAsync(third, "3 + 3"));
        }

        Assert.All(cached, path => Assert.True(new FileInfo(path).Length > 4, $"{path} was not replaced."));
    }

    [Fact]
    public async Task A_process_that_starts_from_the_cached_booted_module_restores_state_saved_after_a_real_boot()
    {
        byte[] snapshot;
        using (var booting = Catalog())
        {
            await using var sandbox = await booting.TryGetOrThrow().CreateAsync(Execution.SandboxLimits.Default);
            await sandbox.ValueAsync("var kept = [1, 2, 3].map(n => n * 2)");
            snapshot = await sandbox.CaptureSnapshotAsync();
        }

        using var cached = Catalog();
        await using var restored = await cached.TryGetOrThrow().RestoreAsync(snapshot, Execution.SandboxLimits.Default);

        Assert.Equal("'2,4,6'", await restored.ValueAsync("kept.join()"));
        await using var fresh = await cached.TryGetOrThrow().CreateAsync(Execution.SandboxLimits.Default);
        Assert.Equal("'undefined'", await fresh.ValueAsync("typeof kept"));
    }

    [Fact]
    public async Task A_snapshot_taken_under_another_engine_configuration_is_refused()
    {
        byte[] snapshot;
        using (var original = Catalog())
        {
            await using var sandbox = await original.TryGetOrThrow().CreateAsync(Execution.SandboxLimits.Default);
            await sandbox.ValueAsync("var x = 42");
            snapshot = await sandbox.CaptureSnapshotAsync();
        }

        using var other = Catalog(stackBytes: 4 * 1024 * 1024);
        var refused = await Assert.ThrowsAsync<SandboxException>(() => other.TryGetOrThrow().RestoreAsync(snapshot, Execution.SandboxLimits.Default));

        Assert.Equal(SandboxErrorKind.SnapshotFromOtherBuild, refused.Kind);
        Assert.Contains("cannot move between builds", refused.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private RuntimeCatalog Catalog(int stackBytes = 256 * 1024 * 1024) => new(
        Options.Create(new SandboxOptions { RuntimesPath = Path.Combine(_root, "runtimes"), CompiledModulesPath = CachePath, GuestStackBytes = stackBytes }),
        TimeProvider.System,
        NullLogger<RuntimeCatalog>.Instance);

    private static async Task<string?> ValueAsync(RuntimeCatalog catalog, string code)
    {
        await using var sandbox = await catalog.TryGetOrThrow().CreateAsync(Execution.SandboxLimits.Default);
        return await sandbox.ValueAsync(code);
    }
}

internal static class CatalogTestExtensions
{
    public static IGuestRuntime TryGetOrThrow(this RuntimeCatalog catalog, string language = "javascript") =>
        catalog.TryGet(language, out var runtime) ? runtime : throw new InvalidOperationException($"The {language} runtime did not load.");
}

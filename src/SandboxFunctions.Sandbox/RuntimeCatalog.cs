using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sandbox.Data;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sandbox.Interop;
using SandboxFunctions.Sandbox.Runtimes;

namespace SandboxFunctions.Sandbox;

/// <summary>
/// The guest runtimes this process can run, found in the runtimes folder and keyed by language. What a runtime is
/// comes from its manifest at once; its module and files load in the background from the moment the catalog
/// exists, so that a starting server answers while they load, and the first sandbox waits only for what is left.
/// </summary>
public sealed partial class RuntimeCatalog : IDisposable
{
    private readonly Dictionary<string, DeferredRuntime> _byLanguage = new(StringComparer.OrdinalIgnoreCase);
    private readonly GuestThreadPool _pool;
    private readonly WasmEngine _engine;

    public RuntimeCatalog(IOptions<SandboxOptions> options, TimeProvider time, ILogger<RuntimeCatalog> logger)
        : this(options, time, logger, [])
    {
    }

    public RuntimeCatalog(IOptions<SandboxOptions> options, TimeProvider time, ILogger<RuntimeCatalog> logger, IEnumerable<IDataVolume> dataVolumes)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dataVolumes);
        List<IDataVolume> volumes = [.. dataVolumes];
        var settings = options.Value;
        _pool = new GuestThreadPool(settings.MaxConcurrentExecutions, settings.MaxQueuedExecutions, settings.GuestStackBytes);
        _engine = new WasmEngine(settings.MaxWasmStackBytes, settings.ResolveCompiledModulesPath(), logger);
        var root = settings.ResolveRuntimesPath();
        if (Directory.Exists(root))
        {
            foreach (var manifestPath in Directory.EnumerateFiles(root, RuntimeManifest.FileName, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                try
                {
                    var manifest = RuntimeManifest.Read(manifestPath);
                    var loading = Task.Run(() => Load(manifest, manifestPath, _engine, _pool, time, logger, volumes));
                    _ = loading.ContinueWith(
                        failed => LogRuntimeUnavailable(logger, manifestPath, failed.Exception!.GetBaseException().Message),
                        CancellationToken.None,
                        TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                        TaskScheduler.Default);
                    _byLanguage[manifest.Language] = new DeferredRuntime(manifest.ToInfo(_engine), loading);
                }
                catch (Exception ex) when (ex is SandboxException or IOException or System.Text.Json.JsonException)
                {
                    LogRuntimeUnavailable(logger, manifestPath, ex.Message);
                }
            }
        }

        if (_byLanguage.Count == 0)
        {
            LogNoRuntimes(logger, root);
        }
    }

    /// <summary>The runtimes, less any whose module or files turned out not to load.</summary>
    public IReadOnlyList<RuntimeInfo> Runtimes =>
        [.. _byLanguage.Values.Where(r => !r.Failed).Select(r => r.Info).OrderBy(i => i.Language, StringComparer.Ordinal)];

    public bool TryGet(string language, [NotNullWhen(true)] out IGuestRuntime? runtime)
    {
        runtime = _byLanguage.TryGetValue(language, out var deferred) && !deferred.Failed ? deferred : null;
        return runtime is not null;
    }

    /// <summary>Loads and starts every interpreter now, so that the first call does not pay for it.</summary>
    public Task WarmUpAsync() => Task.WhenAll(_byLanguage.Values.Select(r => r.WarmUpAsync()));

    /// <summary>The loaded runtime behind a language, for callers inside the engine that need more than <see cref="IGuestRuntime"/>.</summary>
    internal Task<GuestRuntime> GetLoadedAsync(string language) => _byLanguage[language].LoadedAsync();

    public void Dispose()
    {
        _pool.Dispose();
        foreach (var runtime in _byLanguage.Values)
        {
            runtime.Dispose();
        }

        _engine.Dispose();
    }

    private static GuestRuntime Load(RuntimeManifest manifest, string manifestPath, WasmEngine engine, GuestThreadPool pool, TimeProvider time, ILogger logger, IReadOnlyList<IDataVolume> volumes)
    {
        var directory = Path.GetDirectoryName(manifestPath)!;
        var module = GuestModule.Load(engine, manifest.Kind, Path.Combine(directory, manifest.Module));
        var info = manifest.ToInfo(engine);
        string FileOf(string role) => manifest.Files.TryGetValue(role, out var name)
            ? Path.Combine(directory, name)
            : throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"{manifestPath} names no '{role}' file.");

        return manifest.Kind switch
        {
            "quickjs" => new QuickJsRuntime(info, module, File.ReadAllText(FileOf("bootstrap")), pool, time, logger) { DataVolumes = volumes },
            "cpython" => new CPythonRuntime(info, module, File.ReadAllBytes(FileOf("stdlib")), File.ReadAllBytes(FileOf("site_packages")), pool, time, logger) { DataVolumes = volumes },
            _ => throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"{manifestPath} has unknown kind '{manifest.Kind}'."),
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The guest runtime in {Manifest} cannot be used: {Reason}")]
    private static partial void LogRuntimeUnavailable(ILogger logger, string manifest, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No guest runtimes were found under {Path}; build the solution to build them.")]
    private static partial void LogNoRuntimes(ILogger logger, string path);
}

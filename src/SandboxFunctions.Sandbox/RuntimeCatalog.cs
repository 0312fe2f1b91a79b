using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sandbox.Interop;
using SandboxFunctions.Sandbox.Runtimes;

namespace SandboxFunctions.Sandbox;

/// <summary>The guest runtimes this process can run, found in the runtimes folder and keyed by language.</summary>
public sealed partial class RuntimeCatalog : IDisposable
{
    private readonly Dictionary<string, IGuestRuntime> _byLanguage = new(StringComparer.OrdinalIgnoreCase);
    private readonly GuestThreadPool _pool;
    private readonly WasmEngine _engine;

    public RuntimeCatalog(IOptions<SandboxOptions> options, TimeProvider time, ILogger<RuntimeCatalog> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
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
                    var runtime = Load(manifestPath, _engine, _pool, time, logger);
                    _byLanguage[runtime.Info.Language] = runtime;
                }
                catch (SandboxException ex)
                {
                    LogRuntimeUnavailable(logger, manifestPath, ex.Message);
                }
            }
        }

        if (_byLanguage.Count == 0)
        {
            LogNoRuntimes(logger, root);
        }

        Runtimes = [.. _byLanguage.Values.Select(r => r.Info).OrderBy(i => i.Language, StringComparer.Ordinal)];
    }

    public IReadOnlyList<RuntimeInfo> Runtimes { get; }

    public bool TryGet(string language, [NotNullWhen(true)] out IGuestRuntime? runtime) =>
        _byLanguage.TryGetValue(language, out runtime);

    /// <summary>Starts every interpreter now, so that the first call does not pay for it.</summary>
    public Task WarmUpAsync() => Task.WhenAll(_byLanguage.Values.OfType<GuestRuntime>().Select(r => r.WarmUpAsync()));

    public void Dispose()
    {
        _pool.Dispose();
        foreach (var runtime in _byLanguage.Values.OfType<GuestRuntime>())
        {
            runtime.Dispose();
        }

        _engine.Dispose();
    }

    private static GuestRuntime Load(string manifestPath, WasmEngine engine, GuestThreadPool pool, TimeProvider time, ILogger logger)
    {
        var manifest = RuntimeManifest.Read(manifestPath);
        var directory = Path.GetDirectoryName(manifestPath)!;
        var module = GuestModule.Load(engine, manifest.Kind, Path.Combine(directory, manifest.Module));
        var info = manifest.ToInfo(engine);
        string FileOf(string role) => manifest.Files.TryGetValue(role, out var name)
            ? Path.Combine(directory, name)
            : throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"{manifestPath} names no '{role}' file.");

        return manifest.Kind switch
        {
            "quickjs" => new QuickJsRuntime(info, module, File.ReadAllText(FileOf("bootstrap")), pool, time, logger),
            "cpython" => new CPythonRuntime(info, module, File.ReadAllBytes(FileOf("stdlib")), File.ReadAllBytes(FileOf("site_packages")), pool, time, logger),
            _ => throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"{manifestPath} has unknown kind '{manifest.Kind}'."),
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The guest runtime in {Manifest} cannot be used: {Reason}")]
    private static partial void LogRuntimeUnavailable(ILogger logger, string manifest, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No guest runtimes were found under {Path}; build the solution to build them.")]
    private static partial void LogNoRuntimes(ILogger logger, string path);
}

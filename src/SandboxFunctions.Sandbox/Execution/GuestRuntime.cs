using Microsoft.Extensions.Logging;
using SandboxFunctions.Sandbox.Interop;
using SandboxFunctions.Sandbox.Snapshots;
using SandboxFunctions.Sandbox.Vfs;
using SandboxFunctions.Sandbox.Wasi;

namespace SandboxFunctions.Sandbox.Execution;

/// <summary>
/// The shared machinery of a guest runtime: its compiled module, booting its base image once, and
/// turning images and snapshots into live guests. Subclasses know their interpreter's calling convention.
/// </summary>
internal abstract partial class GuestRuntime : IGuestRuntime, IDisposable
{
    private readonly Lock _bootGate = new();
    private readonly ILogger _logger;
    private Task<BaseImage>? _baseImage;
    private GuestModule? _booted;

    protected GuestRuntime(RuntimeInfo info, GuestModule module, IReadOnlySet<string> hostFunctions, GuestThreadPool pool, TimeProvider time, ILogger logger)
    {
        Info = info;
        Module = module;
        Bindings = new ImportBindings(module, hostFunctions);
        Pool = pool;
        Time = time;
        _logger = logger;
    }

    public RuntimeInfo Info { get; }

    internal GuestModule Module { get; }

    internal ImportBindings Bindings { get; }

    internal GuestThreadPool Pool { get; }

    internal TimeProvider Time { get; }

    /// <summary>The shared read-only volumes sandboxes may see under /data.</summary>
    internal IReadOnlyList<Data.IDataVolume> DataVolumes { get; init; } = [];

    /// <summary>The arguments the guest sees in argv.</summary>
    protected virtual IReadOnlyList<string> Arguments => [Info.Language];

    /// <summary>The writable folders of the image layout, whose contents are saved with the session.</summary>
    protected virtual IReadOnlyList<string> UserRoots => ["/workspace", "/tmp"];

    private string BootedCacheKey => $"booted-{Module.SourceHash}-{Info.BuildId}";

    public async Task<SandboxInstance> CreateAsync(SandboxLimits limits, CancellationToken cancellationToken = default)
    {
        var image = await GetBaseImageAsync().ConfigureAwait(false);
        var context = await Pool.RunAsync(() => Materialize(image, null, limits), refuseWhenBusy: true).WaitAsync(cancellationToken).ConfigureAwait(false);
        return new SandboxInstance(this, image, context, limits, checkpoint: null);
    }

    public async Task<SandboxInstance> RestoreAsync(ReadOnlyMemory<byte> snapshot, SandboxLimits limits, CancellationToken cancellationToken = default)
    {
        var image = await GetBaseImageAsync().ConfigureAwait(false);
        var content = SnapshotCodec.Read(snapshot.Span, Info, image, limits);
        var context = await Pool.RunAsync(() => Materialize(image, content, limits), refuseWhenBusy: true).WaitAsync(cancellationToken).ConfigureAwait(false);
        return new SandboxInstance(this, image, context, limits, snapshot);
    }

    /// <summary>Boots the interpreter now instead of on first use.</summary>
    public Task WarmUpAsync() => GetBaseImageAsync();

    /// <summary>The base image, booted on first use; a failed boot is retried by the next caller.</summary>
    internal Task<BaseImage> GetBaseImageAsync()
    {
        lock (_bootGate)
        {
            if (_baseImage is null || _baseImage.IsFaulted || _baseImage.IsCanceled)
            {
                _baseImage = Pool.RunAsync(BootBaseImage);
            }

            return _baseImage;
        }
    }

    /// <summary>Starts the interpreter in a fresh instance. Runs once per process, for the base image.</summary>
    protected abstract void Boot(GuestContext context);

    /// <summary>Runs a request in a live guest; on the guest thread.</summary>
    internal abstract GuestOutcome Run(GuestContext context, ExecutionRequest request);

    /// <summary>Asks the running guest to raise a timeout in its own code; called from another thread.</summary>
    internal abstract void RequestSoftInterrupt(GuestContext context);

    /// <summary>Called after a guest's memory was set from an image or snapshot, before it runs.</summary>
    protected virtual void OnMaterialized(GuestContext context)
    {
    }

    /// <summary>Serves the runtime's own (non-WASI) imports.</summary>
    internal virtual ulong InvokeHostFunction(GuestContext context, GuestFunction import, ReadOnlySpan<ulong> args) =>
        throw new InvalidOperationException($"The {Info.Language} runtime does not provide {import.Module}.{import.Name}.");

    /// <summary>Adds the runtime's read-only files, such as its standard library.</summary>
    protected abstract void MountSystemFiles(VirtualFileSystem files);

    /// <summary>A fresh guest in the state of the image plus snapshot; on a guest thread.</summary>
    internal GuestContext Materialize(BaseImage image, SnapshotContent? snapshot, SandboxLimits limits)
    {
        var context = CreateContext(image.Module, limits.Files, DataVolumes.Where(v => limits.DataVolumes?.Contains(v.Name) ?? true));
        try
        {
            context.Instance.MaxPages = (uint)Math.Min(context.Instance.MaxPages, limits.MemoryBytes / GuestMemory.PageSize);
            SnapshotCodec.Apply(snapshot, image, context);
            OnMaterialized(context);
            return context;
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _booted?.Dispose();
        Module.Dispose();
    }

    private GuestContext CreateContext(GuestModule module, VfsLimits fileLimits, IEnumerable<Data.IDataVolume>? dataVolumes = null)
    {
        var files = new VirtualFileSystem(fileLimits, Time);
        MountSystemFiles(files);
        foreach (var volume in dataVolumes ?? [])
        {
            files.AddDataVolume(volume);
        }

        foreach (var root in UserRoots)
        {
            files.EnsureUserRoot(root);
        }

        var wasi = new WasiPreview1(files, Time, Arguments, new Dictionary<string, string>());
        var context = new GuestContext(this, files, wasi);
        context.Attach(GuestInstance.Create(module, context));
        return context;
    }

    /// <summary>
    /// The base image, and the module new sandboxes come from. A booted module cached by an earlier process with
    /// the same runtime build and engine already holds the image, so nothing boots; otherwise the interpreter
    /// boots, deterministically, and the booted module is written, compiled and cached for the next process.
    /// </summary>
    private BaseImage BootBaseImage()
    {
        if (LoadBootedModule() is { } cached)
        {
            return cached;
        }

        byte[] memory;
        var globals = new ulong[Module.GlobalCount];
        long monotonic;
        using (var context = CreateContext(Module, VfsLimits.Default))
        {
            context.Wasi.Deterministic = true;
            Boot(context);
            context.Instance.GetGlobals(globals);
            memory = Image(context.Instance.Memory);
            monotonic = context.Wasi.MonotonicNanoseconds;
        }

        try
        {
            var source = Module.SourcePath ?? throw new InvalidDataException("The module was not loaded from a file.");
            var bytes = BootedModuleWriter.Write(File.ReadAllBytes(source), memory, Module.MutableGlobals.Zip(globals).ToDictionary(g => g.First, g => g.Second));
            Module.Engine.WriteCacheNote(Module.Name, BootedCacheKey, monotonic.ToString(System.Globalization.CultureInfo.InvariantCulture));
            _booted = new GuestModule(Module.Engine, Module.Name, Module.Engine.Compile(Module.Name, bytes, BootedCacheKey));
            return new BaseImage(memory, globals, monotonic, _booted, preloaded: true);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or SandboxException or Wasmtime.WasmtimeException)
        {
            // Sandboxes still work, each starting from a copy of the image.
            LogBootedModuleUnavailable(_logger, Info.Language, ex.Message);
            return new BaseImage(memory, globals, monotonic, Module, preloaded: false);
        }
    }

    private BaseImage? LoadBootedModule()
    {
        if (Module.Engine.ReadCacheNote(Module.Name, BootedCacheKey) is not { } note
            || !long.TryParse(note, System.Globalization.CultureInfo.InvariantCulture, out var monotonic)
            || Module.Engine.TryLoadCached(Module.Name, BootedCacheKey) is not { } compiled)
        {
            return null;
        }

        var booted = new GuestModule(Module.Engine, Module.Name, compiled);
        try
        {
            using var context = CreateContext(booted, VfsLimits.Default);
            var globals = new ulong[booted.GlobalCount];
            context.Instance.GetGlobals(globals);
            _booted = booted;
            return new BaseImage(Image(context.Instance.Memory), globals, monotonic, booted, preloaded: true);
        }
        catch (SandboxException)
        {
            booted.Dispose();
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The booted {Language} module could not be made ({Reason}); new sandboxes copy the base image instead.")]
    private static partial void LogBootedModuleUnavailable(ILogger logger, string language, string reason);

    /// <summary>A copy of a freshly booted guest's memory, which is far smaller than one array may be.</summary>
    private static byte[] Image(GuestMemory memory) => memory.Range(0, checked((int)memory.Length)).ToArray();
}

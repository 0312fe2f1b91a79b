using Wasmtime;

namespace SandboxFunctions.Sandbox.Interop;

/// <summary>
/// A compiled guest module with every import bound to the host: loaded once per process and shared by every
/// instance of that guest.
/// </summary>
internal sealed class GuestModule : IDisposable
{
    public const string MemoryName = "memory";

    private readonly Linker _linker;

    public GuestModule(WasmEngine engine, string name, Module module)
    {
        Engine = engine;
        Name = name;
        Module = module;
        Imports = [.. Module.Imports.OfType<FunctionImport>().Select((import, index) =>
            new GuestFunction(index, import.ModuleName, import.Name, import.Parameters, import.Results))];
        var unsupported = Module.Imports.Where(i => i is not FunctionImport).Select(i => $"{i.ModuleName}.{i.Name}").ToList();
        if (unsupported.Count > 0)
        {
            throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"The {name} guest imports more than functions: {string.Join(", ", unsupported)}.");
        }

        Exports = Module.Exports.OfType<FunctionExport>()
            .Select((export, index) => new GuestFunction(index, name, export.Name, export.Parameters, export.Results))
            .ToDictionary(f => f.Name, StringComparer.Ordinal);

        // Snapshots carry the guest's memory and its mutable globals, so every mutable global must be reachable.
        MutableGlobals = [.. Module.Exports.OfType<GlobalExport>().Where(g => g.Mutability == Mutability.Mutable).Select(g => g.Name)];
        if (!Module.Exports.OfType<MemoryExport>().Any(m => m.Name == MemoryName))
        {
            throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"The {name} guest does not export its memory.");
        }

        _linker = new Linker(engine.Engine);
        foreach (var import in Imports)
        {
            var bound = import;
            _linker.DefineFunction(import.Module, import.Name,
                (Caller caller, ReadOnlySpan<ValueBox> args, Span<ValueBox> results) => GuestInstance.Dispatch(caller, bound, args, results),
                import.Parameters, import.Results);
        }
    }

    /// <summary>Loads a guest module from a .wasm file, compiled or from the engine's cache.</summary>
    public static GuestModule Load(WasmEngine engine, string name, string wasmPath)
    {
        if (!File.Exists(wasmPath))
        {
            throw new SandboxException(SandboxErrorKind.RuntimeUnavailable,
                $"The guest module '{Path.GetFileName(wasmPath)}' is missing; rebuild the solution to build the guest runtimes.");
        }

        var bytes = File.ReadAllBytes(wasmPath);
        var hash = WasmEngine.ContentHash(bytes);
        return new(engine, name, engine.LoadModule(name, bytes, hash)) { SourcePath = wasmPath, SourceHash = hash };
    }

    /// <summary>The .wasm file the module was compiled from, when it came from one.</summary>
    public string? SourcePath { get; private init; }

    /// <summary>Identifies the bytes the module was compiled from, when it came from a file.</summary>
    public string? SourceHash { get; private init; }

    public WasmEngine Engine { get; }

    public string Name { get; }

    internal Module Module { get; }

    public IReadOnlyList<GuestFunction> Imports { get; }

    public IReadOnlyDictionary<string, GuestFunction> Exports { get; }

    /// <summary>The names of the exported mutable globals, in a fixed order.</summary>
    public IReadOnlyList<string> MutableGlobals { get; }

    public int GlobalCount => MutableGlobals.Count;

    public GuestFunction GetExport(string name) =>
        Exports.TryGetValue(name, out var export)
            ? export
            : throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"The {Name} guest does not export '{name}'.");

    internal Instance Instantiate(Store store) => _linker.Instantiate(store, Module);

    public void Dispose()
    {
        _linker.Dispose();
        Module.Dispose();
    }
}

/// <summary>An import or export of a guest module with its WebAssembly signature.</summary>
internal sealed record GuestFunction(int Index, string Module, string Name, IReadOnlyList<ValueKind> Parameters, IReadOnlyList<ValueKind> Results)
{
    public int ParameterCount => Parameters.Count;
}

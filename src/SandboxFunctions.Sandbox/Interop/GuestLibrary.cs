using System.Runtime.InteropServices;

namespace SandboxFunctions.Sandbox.Interop;

/// <summary>
/// A guest module compiled to a native library with the sandbox shim. Loaded once per process and
/// shared by every instance of that guest.
/// </summary>
internal sealed unsafe class GuestLibrary
{
    private const uint SupportedAbiVersion = 1;

    private GuestLibrary(string path, nint handle)
    {
        Path = path;
        ModuleName = Marshal.PtrToStringUTF8(((delegate* unmanaged[Cdecl]<nint>)NativeLibrary.GetExport(handle, "sf_module_name"))())!;
        Instantiate = (delegate* unmanaged[Cdecl]<nint, delegate* unmanaged[Cdecl]<nint, uint, ulong*, ulong>, uint*, nint>)NativeLibrary.GetExport(handle, "sf_instantiate");
        Free = (delegate* unmanaged[Cdecl]<nint, void>)NativeLibrary.GetExport(handle, "sf_free");
        Call = (delegate* unmanaged[Cdecl]<nint, uint, ulong*, ulong*, uint>)NativeLibrary.GetExport(handle, "sf_call");
        RequestTrap = (delegate* unmanaged[Cdecl]<nint, uint, void>)NativeLibrary.GetExport(handle, "sf_request_trap");
        Memory = (delegate* unmanaged[Cdecl]<nint, WasmMemory*>)NativeLibrary.GetExport(handle, "sf_memory");
        MemoryGrow = (delegate* unmanaged[Cdecl]<nint, uint, uint>)NativeLibrary.GetExport(handle, "sf_memory_grow");
        GlobalsGet = (delegate* unmanaged[Cdecl]<nint, ulong*, void>)NativeLibrary.GetExport(handle, "sf_globals_get");
        GlobalsSet = (delegate* unmanaged[Cdecl]<nint, ulong*, void>)NativeLibrary.GetExport(handle, "sf_globals_set");
        GlobalCount = (int)((delegate* unmanaged[Cdecl]<uint>)NativeLibrary.GetExport(handle, "sf_global_count"))();

        var importCount = ((delegate* unmanaged[Cdecl]<uint>)NativeLibrary.GetExport(handle, "sf_import_count"))();
        var importModule = (delegate* unmanaged[Cdecl]<uint, nint>)NativeLibrary.GetExport(handle, "sf_import_module");
        var importName = (delegate* unmanaged[Cdecl]<uint, nint>)NativeLibrary.GetExport(handle, "sf_import_name");
        var importSignature = (delegate* unmanaged[Cdecl]<uint, nint>)NativeLibrary.GetExport(handle, "sf_import_signature");
        Imports = [.. Enumerable.Range(0, (int)importCount).Select(i => new GuestFunction(
            i,
            Marshal.PtrToStringUTF8(importModule((uint)i))!,
            Marshal.PtrToStringUTF8(importName((uint)i))!,
            Marshal.PtrToStringUTF8(importSignature((uint)i))!))];

        var exportCount = ((delegate* unmanaged[Cdecl]<uint>)NativeLibrary.GetExport(handle, "sf_export_count"))();
        var exportName = (delegate* unmanaged[Cdecl]<uint, nint>)NativeLibrary.GetExport(handle, "sf_export_name");
        var exportSignature = (delegate* unmanaged[Cdecl]<uint, nint>)NativeLibrary.GetExport(handle, "sf_export_signature");
        var exports = new Dictionary<string, GuestFunction>(StringComparer.Ordinal);
        for (var i = 0; i < exportCount; i++)
        {
            var name = Marshal.PtrToStringUTF8(exportName((uint)i))!;
            exports.TryAdd(name, new GuestFunction(i, ModuleName, name, Marshal.PtrToStringUTF8(exportSignature((uint)i))!));
        }

        Exports = exports;
    }

    public string Path { get; }

    public string ModuleName { get; }

    public IReadOnlyList<GuestFunction> Imports { get; }

    public IReadOnlyDictionary<string, GuestFunction> Exports { get; }

    public int GlobalCount { get; }

    internal delegate* unmanaged[Cdecl]<nint, delegate* unmanaged[Cdecl]<nint, uint, ulong*, ulong>, uint*, nint> Instantiate { get; }

    internal delegate* unmanaged[Cdecl]<nint, void> Free { get; }

    internal delegate* unmanaged[Cdecl]<nint, uint, ulong*, ulong*, uint> Call { get; }

    internal delegate* unmanaged[Cdecl]<nint, uint, void> RequestTrap { get; }

    internal delegate* unmanaged[Cdecl]<nint, WasmMemory*> Memory { get; }

    internal delegate* unmanaged[Cdecl]<nint, uint, uint> MemoryGrow { get; }

    internal delegate* unmanaged[Cdecl]<nint, ulong*, void> GlobalsGet { get; }

    internal delegate* unmanaged[Cdecl]<nint, ulong*, void> GlobalsSet { get; }

    /// <summary>Loads a guest library; it stays loaded for the life of the process.</summary>
    public static GuestLibrary Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"The guest library '{System.IO.Path.GetFileName(path)}' is missing; rebuild the solution to build the guest runtimes.");
        }

        var handle = NativeLibrary.Load(path);
        var abiVersion = ((delegate* unmanaged[Cdecl]<uint>)NativeLibrary.GetExport(handle, "sf_abi_version"))();
        if (abiVersion != SupportedAbiVersion)
        {
            throw new SandboxException(SandboxErrorKind.RuntimeUnavailable,
                $"The guest library '{System.IO.Path.GetFileName(path)}' speaks shim ABI {abiVersion}, but this build expects {SupportedAbiVersion}; rebuild the solution.");
        }

        return new GuestLibrary(path, handle);
    }

    public GuestFunction GetExport(string name) =>
        Exports.TryGetValue(name, out var export)
            ? export
            : throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"The {ModuleName} guest does not export '{name}'.");
}

/// <summary>An import or export of a guest module, with its wasm signature (e.g. <c>i:iI</c>).</summary>
internal sealed record GuestFunction(int Index, string Module, string Name, string Signature)
{
    public int ParameterCount => Signature.Length - 2;
}

/// <summary>The layout of wasm2c's <c>wasm_rt_memory_t</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct WasmMemory
{
    public byte* Data;
    public uint Pages;
    public uint MaxPages;
    public uint Size;
}

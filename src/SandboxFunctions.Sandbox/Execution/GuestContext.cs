using SandboxFunctions.Sandbox.Interop;
using SandboxFunctions.Sandbox.Vfs;
using SandboxFunctions.Sandbox.Wasi;

namespace SandboxFunctions.Sandbox.Execution;

/// <summary>Everything one live guest consists of: the instance, its WASI host and file system, and the runtime's own state.</summary>
internal sealed class GuestContext : IGuestImports, IDisposable
{
    private GuestInstance? _instance;

    public GuestContext(GuestRuntime runtime, VirtualFileSystem files, WasiPreview1 wasi)
    {
        Runtime = runtime;
        Files = files;
        Wasi = wasi;
    }

    public GuestRuntime Runtime { get; }

    public VirtualFileSystem Files { get; }

    public WasiPreview1 Wasi { get; }

    public GuestInstance Instance => _instance ?? throw new InvalidOperationException("The guest has no instance yet.");

    /// <summary>Runtime-specific state, e.g. where the interpreter's interrupt flag lives.</summary>
    public object? RuntimeState { get; set; }

    /// <summary>Set by the watchdog when the current call must stop; checked by interpreters that poll.</summary>
    public volatile bool InterruptRequested;

    public void Attach(GuestInstance instance) => _instance = instance;

    public ulong Invoke(GuestInstance instance, GuestFunction import, ReadOnlySpan<ulong> args) =>
        Runtime.Bindings.TryGetWasi(import, out var function)
            ? Wasi.Invoke(instance, function, args)
            : Runtime.InvokeHostFunction(this, import, args);

    public void Dispose()
    {
        _instance?.Dispose();
        Wasi.Interrupted.Dispose();
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace SandboxFunctions.Sandbox.Interop;

/// <summary>
/// One instance of a guest module: its linear memory, globals and the host functions it imports.
/// Not thread-safe: one guest call at a time, on a thread with a large native stack. After a trap the
/// instance is faulted and must be discarded.
/// </summary>
internal sealed unsafe class GuestInstance : IDisposable
{
    private readonly InstanceHandle _handle;
    private readonly GCHandle _self;
    private readonly WasmMemory* _memory;
    private Exception? _hostException;
    private int? _exitCode;
    private string? _trapDetail;

    private GuestInstance(GuestLibrary library, IGuestImports imports)
    {
        Library = library;
        Imports = imports;
        _self = GCHandle.Alloc(this, GCHandleType.Weak);
        uint trap;
        var handle = library.Instantiate(GCHandle.ToIntPtr(_self), &Dispatch, &trap);
        if (handle == 0)
        {
            _self.Free();
            throw new SandboxTrapException((TrapCode)trap, $"Instantiating the {library.ModuleName} guest failed: {Describe((TrapCode)trap)}.");
        }

        _handle = new InstanceHandle(handle, library);
        _memory = library.Memory(handle);
    }

    public GuestLibrary Library { get; }

    public IGuestImports Imports { get; }

    public bool IsFaulted { get; private set; }

    public GuestMemory Memory
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return new GuestMemory(_memory);
        }
    }

    /// <summary>The most pages the guest may grow its memory to; lowering it below the current size has no effect on existing pages.</summary>
    public uint MaxPages
    {
        get => _memory->MaxPages;
        set => _memory->MaxPages = value;
    }

    public static GuestInstance Create(GuestLibrary library, IGuestImports imports) => new(library, imports);

    /// <summary>Calls an export. A trap throws <see cref="SandboxTrapException"/> and faults the instance.</summary>
    public ulong Call(GuestFunction export, params ReadOnlySpan<ulong> args)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        if (IsFaulted)
        {
            throw new InvalidOperationException("The guest instance trapped earlier and can no longer be called.");
        }

        if (args.Length != export.ParameterCount)
        {
            throw new ArgumentException($"{export.Name} takes {export.ParameterCount} arguments, not {args.Length}.", nameof(args));
        }

        ulong result;
        uint trap;
        fixed (ulong* arguments = args)
        {
            trap = Library.Call(_handle.DangerousGetHandle(), (uint)export.Index, arguments, &result);
        }

        GC.KeepAlive(this);
        if (trap != 0)
        {
            IsFaulted = true;
            throw CreateTrapException((TrapCode)trap, export);
        }

        return result;
    }

    /// <summary>From inside an import: end the current guest call with this trap once the import returns.</summary>
    public void Trap(TrapCode code, string? detail = null, int? exitCode = null)
    {
        _trapDetail = detail;
        _exitCode = exitCode;
        Library.RequestTrap(_handle.DangerousGetHandle(), (uint)code);
        GC.KeepAlive(this);
    }

    /// <summary>Makes the guest's next memory access trap. Safe to call from any thread while the guest runs.</summary>
    public void Interrupt()
    {
        if (!_handle.IsClosed)
        {
            Volatile.Write(ref _memory->Size, 0u);
        }
    }

    /// <summary>Undoes <see cref="Interrupt"/> when the guest returned before touching memory again.</summary>
    public void ClearInterrupt() => Volatile.Write(ref _memory->Size, _memory->Pages * (uint)GuestMemory.PageSize);

    public uint GrowMemory(uint deltaPages)
    {
        var previous = Library.MemoryGrow(_handle.DangerousGetHandle(), deltaPages);
        GC.KeepAlive(this);
        return previous;
    }

    public void GetGlobals(Span<ulong> values)
    {
        if (values.Length != Library.GlobalCount)
        {
            throw new ArgumentException($"The guest has {Library.GlobalCount} globals.", nameof(values));
        }

        fixed (ulong* buffer = values)
        {
            Library.GlobalsGet(_handle.DangerousGetHandle(), buffer);
        }

        GC.KeepAlive(this);
    }

    public void SetGlobals(ReadOnlySpan<ulong> values)
    {
        if (values.Length != Library.GlobalCount)
        {
            throw new ArgumentException($"The guest has {Library.GlobalCount} globals.", nameof(values));
        }

        fixed (ulong* buffer = values)
        {
            Library.GlobalsSet(_handle.DangerousGetHandle(), buffer);
        }

        GC.KeepAlive(this);
    }

    public void Dispose()
    {
        _handle.Dispose();
        if (_self.IsAllocated)
        {
            _self.Free();
        }
    }

    private SandboxTrapException CreateTrapException(TrapCode code, GuestFunction export)
    {
        var inner = Interlocked.Exchange(ref _hostException, null);
        var detail = _trapDetail;
        _trapDetail = null;
        var message = detail ?? $"The {Library.ModuleName} guest trapped in {export.Name}: {Describe(code)}.";
        return new SandboxTrapException(code, message, inner) { ExitCode = code == TrapCode.Exit ? _exitCode : null };
    }

    private static string Describe(TrapCode code) => code switch
    {
        TrapCode.OutOfBounds => "out-of-bounds memory access",
        TrapCode.IntegerOverflow => "integer overflow",
        TrapCode.DivideByZero => "integer division by zero",
        TrapCode.InvalidConversion => "invalid conversion to integer",
        TrapCode.Unreachable => "unreachable code executed (the interpreter aborted)",
        TrapCode.IndirectCallMismatch => "invalid indirect call",
        TrapCode.UncaughtException => "uncaught WebAssembly exception",
        TrapCode.StackExhausted => "call stack exhausted",
        TrapCode.OutOfHostMemory => "the host is out of memory",
        TrapCode.BadExport => "no such export",
        TrapCode.Exit => "the guest exited",
        TrapCode.HostError => "a host function failed",
        TrapCode.OutputLimit => "output limit exceeded",
        _ => $"trap {(int)code}",
    };

    // A managed exception must never unwind through the guest's native frames, so every failure is
    // turned into a trap request that the shim raises once this callback has returned.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static ulong Dispatch(nint host, uint index, ulong* args)
    {
        if (GCHandle.FromIntPtr(host).Target is not GuestInstance instance)
        {
            return 0;
        }

        try
        {
            var import = instance.Library.Imports[(int)index];
            return instance.Imports.Invoke(instance, import, new ReadOnlySpan<ulong>(args, import.ParameterCount));
        }
        catch (Exception ex)
        {
            instance._hostException = ex;
            instance.Trap(TrapCode.HostError, $"A host function failed: {ex.Message}");
            return 0;
        }
    }

    private sealed class InstanceHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private readonly GuestLibrary _library;

        public InstanceHandle(nint handle, GuestLibrary library)
            : base(ownsHandle: true)
        {
            _library = library;
            SetHandle(handle);
        }

        protected override bool ReleaseHandle()
        {
            _library.Free(handle);
            return true;
        }
    }
}

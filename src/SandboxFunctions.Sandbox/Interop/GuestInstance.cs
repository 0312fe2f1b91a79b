using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Wasmtime;

namespace SandboxFunctions.Sandbox.Interop;

/// <summary>
/// One instance of a guest module in its own store: its linear memory, globals and the host functions it
/// imports. Not thread-safe: one guest call at a time, on a thread with a large native stack. After a trap
/// the instance is faulted and must be discarded. Only <see cref="Interrupt"/> and
/// <see cref="WriteVolatile"/> may be called from other threads.
/// </summary>
internal sealed unsafe class GuestInstance : IDisposable
{
    private readonly Store _store;
    private readonly Memory _memory;
    private readonly byte* _memoryBase;
    private readonly ulong _initialMemoryBytes;
    private readonly Global[] _globals;
    private readonly Dictionary<int, Function> _exports = [];
    private Exception? _hostException;
    private TrapCode _requestedTrap;
    private int? _exitCode;
    private string? _trapDetail;
    private volatile bool _stopRequested;
    private uint _maxPages = uint.MaxValue >> 16;
    private bool _disposed;

    private GuestInstance(GuestModule module, IGuestImports imports)
    {
        Module = module;
        Imports = imports;
        _store = new Store(module.Engine.Engine, this);
        _store.SetEpochDeadlineCallback(static store => ((GuestInstance)store.GetData()!).OnEpochDeadline());
        try
        {
            var instance = module.Instantiate(_store);
            _memory = instance.GetMemory(GuestModule.MemoryName)!;
            _memoryBase = (byte*)_memory.GetPointer();
            _initialMemoryBytes = (ulong)_memory.GetLength();
            _globals = [.. module.MutableGlobals.Select(name => instance.GetGlobal(name)!)];
            foreach (var export in module.Exports.Values)
            {
                _exports[export.Index] = instance.GetFunction(export.Name)!;
            }
        }
        catch (WasmtimeException ex)
        {
            _store.Dispose();
            throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"Instantiating the {module.Name} guest failed: {ex.Message}", ex);
        }
    }

    public GuestModule Module { get; }

    public IGuestImports Imports { get; }

    public bool IsFaulted { get; private set; }

    public GuestMemory Memory
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return new GuestMemory(_memoryBase, (ulong)_memory.GetLength());
        }
    }

    /// <summary>The most pages the guest may grow its memory to.</summary>
    public uint MaxPages
    {
        get => _maxPages;
        set
        {
            _maxPages = value;
            _store.SetLimits(memorySize: (long)value * GuestMemory.PageSize);
        }
    }

    public static GuestInstance Create(GuestModule module, IGuestImports imports) => new(module, imports);

    /// <summary>Calls an export. A trap throws <see cref="SandboxTrapException"/> and faults the instance.</summary>
    public ulong Call(GuestFunction export, params ReadOnlySpan<ulong> args)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsFaulted)
        {
            throw new InvalidOperationException("The guest instance trapped earlier and can no longer be called.");
        }

        if (args.Length != export.ParameterCount)
        {
            throw new ArgumentException($"{export.Name} takes {export.ParameterCount} arguments, not {args.Length}.", nameof(args));
        }

        var boxes = new ArgumentBoxes();
        Span<ValueBox> arguments = boxes;
        for (var i = 0; i < args.Length; i++)
        {
            arguments[i] = ToBox(export.Parameters[i], args[i]);
        }

        // The deadline is one epoch ahead, so that any increment makes the guest look at its stop flag. The flag
        // is read again after arming, because a stop requested in between would otherwise wait for the next one.
        _store.SetEpochDeadline(_stopRequested ? 0UL : 1UL);
        if (_stopRequested)
        {
            _store.SetEpochDeadline(0);
        }

        object? result;
        try
        {
            result = _exports[export.Index].Invoke(arguments[..args.Length]);
        }
        catch (WasmtimeException ex)
        {
            IsFaulted = true;
            throw CreateTrapException(ex, export);
        }

        return result switch
        {
            null => 0,
            int value => (uint)value,
            long value => (ulong)value,
            float value => BitConverter.SingleToUInt32Bits(value),
            double value => BitConverter.DoubleToUInt64Bits(value),
            _ => throw new InvalidOperationException($"{export.Name} returned an unsupported value."),
        };
    }

    /// <summary>From inside an import: ends the current guest call with this trap.</summary>
    [DoesNotReturn]
    public void Trap(TrapCode code, string? detail = null, int? exitCode = null)
    {
        _requestedTrap = code;
        _trapDetail = detail;
        _exitCode = exitCode;
        throw new GuestTrapRequest(detail ?? code.ToString());
    }

    /// <summary>Stops the running guest at its next function entry or loop iteration. Safe from any thread.</summary>
    public void Interrupt()
    {
        _stopRequested = true;
        Module.Engine.Interrupt();
    }

    /// <summary>Undoes <see cref="Interrupt"/> when the guest returned before it saw it.</summary>
    public void ClearInterrupt() => _stopRequested = false;

    /// <summary>
    /// Writes a 32-bit value that the running guest reads, e.g. an interpreter's interrupt flag. Safe from any
    /// thread, because the memory never moves; the address must be aligned and within the initial memory.
    /// </summary>
    public void WriteVolatile(uint address, uint value)
    {
        if ((address & 3) != 0 || address + 4UL > _initialMemoryBytes)
        {
            throw new GuestMemoryException(address, 4);
        }

        if (!_disposed)
        {
            Volatile.Write(ref *(uint*)(_memoryBase + address), value);
        }
    }

    /// <summary>Marks the chunks of memory on pages this instance wrote; false when that cannot be told.</summary>
    public bool TryFindWrittenChunks(int chunkSize, Span<bool> written) => WrittenPages.TryFind((nint)_memoryBase, chunkSize, written);

    public uint GrowMemory(uint deltaPages)
    {
        try
        {
            return (uint)_memory.Grow(deltaPages);
        }
        catch (WasmtimeException)
        {
            return uint.MaxValue;
        }
    }

    public void GetGlobals(Span<ulong> values)
    {
        CheckGlobalCount(values.Length);
        for (var i = 0; i < _globals.Length; i++)
        {
            values[i] = _globals[i].GetValue() switch
            {
                int value => (uint)value,
                long value => (ulong)value,
                float value => BitConverter.SingleToUInt32Bits(value),
                double value => BitConverter.DoubleToUInt64Bits(value),
                _ => throw new InvalidOperationException($"The global {Module.MutableGlobals[i]} has an unsupported type."),
            };
        }
    }

    public void SetGlobals(ReadOnlySpan<ulong> values)
    {
        CheckGlobalCount(values.Length);
        for (var i = 0; i < _globals.Length; i++)
        {
            _globals[i].SetValue(_globals[i].Kind switch
            {
                ValueKind.Int32 => (int)(uint)values[i],
                ValueKind.Int64 => (long)values[i],
                ValueKind.Float32 => BitConverter.UInt32BitsToSingle((uint)values[i]),
                ValueKind.Float64 => BitConverter.UInt64BitsToDouble(values[i]),
                _ => throw new InvalidOperationException($"The global {Module.MutableGlobals[i]} has an unsupported type."),
            });
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _store.Dispose();
        }
    }

    // A managed exception must never unwind through the guest's frames: Wasmtime turns the exception this
    // throws into a trap, and the call that entered the guest reports it with what was recorded here.
    internal static void Dispatch(Caller caller, GuestFunction import, ReadOnlySpan<ValueBox> args, Span<ValueBox> results)
    {
        var instance = (GuestInstance)caller.GetData()!;
        try
        {
            Span<ulong> values = stackalloc ulong[args.Length];
            for (var i = 0; i < args.Length; i++)
            {
                values[i] = FromBox(import.Parameters[i], args[i]);
            }

            var result = instance.Imports.Invoke(instance, import, values);
            if (results.Length > 0)
            {
                results[0] = ToBox(import.Results[0], result);
            }
        }
        catch (GuestTrapRequest)
        {
            throw;
        }
        catch (SandboxTrapException nested)
        {
            // A call back into the guest from this import trapped; the outer call ends the same way.
            instance._requestedTrap = nested.TrapCode;
            instance._trapDetail = nested.Message;
            instance._exitCode = nested.ExitCode;
            throw new GuestTrapRequest(nested.Message);
        }
        catch (Exception ex)
        {
            instance._hostException = ex;
            instance._requestedTrap = TrapCode.HostError;
            instance._trapDetail = $"A host function failed: {ex.Message}";
            throw new GuestTrapRequest(instance._trapDetail);
        }
    }

    private ulong OnEpochDeadline()
    {
        if (!_stopRequested)
        {
            return 1;
        }

        _requestedTrap = TrapCode.Interrupted;
        _trapDetail = null;
        throw new GuestTrapRequest("The guest was stopped.");
    }

    private void CheckGlobalCount(int count)
    {
        if (count != _globals.Length)
        {
            throw new ArgumentException($"The guest has {_globals.Length} mutable globals, not {count}.");
        }
    }

    private SandboxTrapException CreateTrapException(WasmtimeException exception, GuestFunction export)
    {
        var code = _requestedTrap;
        var detail = _trapDetail;
        var inner = _hostException ?? exception;
        _requestedTrap = TrapCode.None;
        _trapDetail = null;
        _hostException = null;
        if (code == TrapCode.None)
        {
            code = exception is TrapException trap ? FromWasmtime(trap.Type) : TrapCode.HostError;
        }

        var message = detail ?? $"The {Module.Name} guest trapped in {export.Name}: {Describe(code)}.";
        return new SandboxTrapException(code, message, inner) { ExitCode = code == TrapCode.Exit ? _exitCode : null };
    }

    private static TrapCode FromWasmtime(Wasmtime.TrapCode code) => code switch
    {
        Wasmtime.TrapCode.StackOverflow => TrapCode.StackExhausted,
        Wasmtime.TrapCode.MemoryOutOfBounds or Wasmtime.TrapCode.HeapMisaligned => TrapCode.OutOfBounds,
        Wasmtime.TrapCode.IntegerOverflow => TrapCode.IntegerOverflow,
        Wasmtime.TrapCode.IntegerDivisionByZero => TrapCode.DivideByZero,
        Wasmtime.TrapCode.BadConversionToInteger => TrapCode.InvalidConversion,
        Wasmtime.TrapCode.Unreachable => TrapCode.Unreachable,
        Wasmtime.TrapCode.TableOutOfBounds or Wasmtime.TrapCode.IndirectCallToNull or Wasmtime.TrapCode.BadSignature => TrapCode.IndirectCallMismatch,
        Wasmtime.TrapCode.Interrupt => TrapCode.Interrupted,
        _ => TrapCode.HostError,
    };

    private static string Describe(TrapCode code) => code switch
    {
        TrapCode.OutOfBounds => "out-of-bounds memory access",
        TrapCode.IntegerOverflow => "integer overflow",
        TrapCode.DivideByZero => "integer division by zero",
        TrapCode.InvalidConversion => "invalid conversion to integer",
        TrapCode.Unreachable => "unreachable code executed (the interpreter aborted)",
        TrapCode.IndirectCallMismatch => "invalid indirect call",
        TrapCode.StackExhausted => "call stack exhausted",
        TrapCode.Interrupted => "stopped by the host",
        TrapCode.Exit => "the guest exited",
        TrapCode.HostError => "a host function failed",
        TrapCode.OutputLimit => "output limit exceeded",
        _ => $"trap {(int)code}",
    };

    private static ValueBox ToBox(ValueKind kind, ulong value) => kind switch
    {
        ValueKind.Int32 => (int)(uint)value,
        ValueKind.Int64 => (long)value,
        ValueKind.Float32 => BitConverter.UInt32BitsToSingle((uint)value),
        ValueKind.Float64 => BitConverter.UInt64BitsToDouble(value),
        _ => throw new NotSupportedException($"Values of type {kind} do not cross the guest boundary."),
    };

    private static ulong FromBox(ValueKind kind, ValueBox box) => kind switch
    {
        ValueKind.Int32 => (uint)box.AsInt32(),
        ValueKind.Int64 => (ulong)box.AsInt64(),
        ValueKind.Float32 => BitConverter.SingleToUInt32Bits(box.AsSingle()),
        ValueKind.Float64 => BitConverter.DoubleToUInt64Bits(box.AsDouble()),
        _ => throw new NotSupportedException($"Values of type {kind} do not cross the guest boundary."),
    };

    [InlineArray(12)]
    private struct ArgumentBoxes
    {
        private ValueBox _element;
    }

    /// <summary>Thrown inside an import or epoch callback to end the guest call; Wasmtime turns it into a trap.</summary>
    private sealed class GuestTrapRequest(string message) : Exception(message);
}

namespace SandboxFunctions.Sandbox;

/// <summary>Why a guest call ended abnormally. Values below 128 come from the WebAssembly runtime.</summary>
public enum TrapCode
{
    None = 0,
    OutOfBounds = 1,
    IntegerOverflow = 2,
    DivideByZero = 3,
    InvalidConversion = 4,
    Unreachable = 5,
    IndirectCallMismatch = 6,
    StackExhausted = 8,

    /// <summary>The guest called <c>proc_exit</c>.</summary>
    Exit = 128,

    /// <summary>A host function failed; the exception is the trap's inner exception.</summary>
    HostError = 129,

    /// <summary>The guest wrote more output than the hard output limit allows.</summary>
    OutputLimit = 130,

    /// <summary>The host stopped the guest (a hard timeout or cancellation).</summary>
    Interrupted = 131,
}

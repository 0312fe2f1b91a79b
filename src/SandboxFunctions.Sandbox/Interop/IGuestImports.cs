namespace SandboxFunctions.Sandbox.Interop;

/// <summary>Implements the functions a guest imports. Called on the guest's own thread.</summary>
internal interface IGuestImports
{
    /// <summary>Runs one import. Exceptions end the guest call as a <see cref="TrapCode.HostError"/> trap.</summary>
    ulong Invoke(GuestInstance instance, GuestFunction import, ReadOnlySpan<ulong> args);
}

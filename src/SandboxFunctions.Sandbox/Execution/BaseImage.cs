namespace SandboxFunctions.Sandbox.Execution;

/// <summary>
/// A guest's memory and globals right after its interpreter started. New sandboxes start as a copy of it,
/// and snapshots store only the parts of memory that differ from it.
/// </summary>
internal sealed class BaseImage(byte[] memory, ulong[] globals, long monotonicNanoseconds)
{
    public byte[] Memory { get; } = memory;

    public ulong[] Globals { get; } = globals;

    public long MonotonicNanoseconds { get; } = monotonicNanoseconds;

    public uint Pages => (uint)(Memory.Length / Interop.GuestMemory.PageSize);
}

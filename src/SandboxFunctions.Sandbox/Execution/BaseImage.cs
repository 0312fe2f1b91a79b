namespace SandboxFunctions.Sandbox.Execution;

/// <summary>
/// A guest's memory and globals right after its interpreter started. New sandboxes start as a copy of it,
/// and snapshots store only the parts of memory that differ from it.
/// </summary>
/// <param name="module">The module sandboxes are instantiated from.</param>
/// <param name="preloaded">
/// True when <paramref name="module"/> is the booted module, whose instances already start with this image;
/// false when instances start unbooted and the image is copied into them.
/// </param>
internal sealed class BaseImage(byte[] memory, ulong[] globals, long monotonicNanoseconds, Interop.GuestModule module, bool preloaded)
{
    /// <summary>Identifies the image's exact contents; a snapshot only applies to the image it was taken against.</summary>
    public string Fingerprint { get; } = ComputeFingerprint(memory, globals);

    public byte[] Memory { get; } = memory;

    public ulong[] Globals { get; } = globals;

    public long MonotonicNanoseconds { get; } = monotonicNanoseconds;

    public Interop.GuestModule Module { get; } = module;

    public bool Preloaded { get; } = preloaded;

    public uint Pages => (uint)(Memory.Length / Interop.GuestMemory.PageSize);

    private static string ComputeFingerprint(byte[] memory, ulong[] globals)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(memory);
        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(globals.AsSpan()));
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}

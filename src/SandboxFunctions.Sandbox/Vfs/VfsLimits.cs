namespace SandboxFunctions.Sandbox.Vfs;

/// <summary>How much a sandbox may store in its file system.</summary>
/// <param name="MaxFiles">Files and directories the guest may create.</param>
/// <param name="MaxTotalBytes">Bytes across all files the guest created.</param>
/// <param name="MaxFileBytes">Bytes in any one file.</param>
public sealed record VfsLimits(int MaxFiles, long MaxTotalBytes, long MaxFileBytes)
{
    public static VfsLimits Default { get; } = new(MaxFiles: 2000, MaxTotalBytes: 100L * 1024 * 1024, MaxFileBytes: 50L * 1024 * 1024);
}

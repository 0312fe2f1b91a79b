using Microsoft.Win32.SafeHandles;

namespace SandboxFunctions.Sandbox.Interop;

/// <summary>
/// Tells which pages of a guest's memory the guest may have written, without touching the memory. An instance
/// of a booted module maps its initial memory copy-on-write from the compiled module: a page the guest never
/// wrote is either not mapped yet or still the file's page, and only a written page has become the process's
/// own (anonymous, or swapped out) page. Linux reports that per page in /proc/self/pagemap; elsewhere the answer is unknown
/// and every page has to be compared.
/// </summary>
internal static class WrittenPages
{
    private const ulong Present = 1UL << 63;
    private const ulong Swapped = 1UL << 62;
    private const ulong FileOrShared = 1UL << 61;
    private const string PageMapPath = "/proc/self/pagemap";

    private static readonly Lazy<SafeFileHandle?> PageMap = new(OpenPageMap);

    /// <summary>
    /// Marks in <paramref name="written"/> each <paramref name="chunkSize"/>-byte chunk of the memory at
    /// <paramref name="address"/> that lies on a page the process wrote. False when the system cannot tell.
    /// </summary>
    public static bool TryFind(nint address, int chunkSize, Span<bool> written)
    {
        var pageSize = Environment.SystemPageSize;
        if (PageMap.Value is not { } pageMap || address % pageSize != 0 || pageSize % chunkSize != 0)
        {
            return false;
        }

        var chunksPerPage = pageSize / chunkSize;
        var pages = (written.Length + chunksPerPage - 1) / chunksPerPage;
        var entries = new ulong[pages];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(entries.AsSpan());
        try
        {
            var offset = (long)((ulong)address / (ulong)pageSize) * sizeof(ulong);
            for (var read = 0; read < bytes.Length;)
            {
                var count = RandomAccess.Read(pageMap, bytes[read..], offset + read);
                if (count <= 0)
                {
                    return false;
                }

                read += count;
            }
        }
        catch (IOException)
        {
            return false;
        }

        for (var chunk = 0; chunk < written.Length; chunk++)
        {
            var entry = entries[chunk / chunksPerPage];
            // A written page that went to swap is the process's own as well.
            written[chunk] = ((entry & Present) != 0 && (entry & FileOrShared) == 0) || (entry & Swapped) != 0;
        }

        return true;
    }

    private static SafeFileHandle? OpenPageMap()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            return File.OpenHandle(PageMapPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

using SandboxFunctions.Sandbox.Data;
using SandboxFunctions.Sandbox.Wasi;

namespace SandboxFunctions.Sandbox.Vfs;

/// <summary>
/// A data volume's folder under /data: read-only, never saved with a session, listed when a call first looks inside
/// it, and listed again in the next call, so files changed at the source show up then.
/// </summary>
internal sealed class VfsMountDirectory(ulong inode, IDataVolume volume, VirtualFileSystem files) : VfsDirectory(inode, isSystem: true)
{
    private bool _listed;
    private long _openedThisCall;

    public IDataVolume Volume { get; } = volume;

    public override SortedDictionary<string, VfsNode> Children
    {
        get
        {
            if (!_listed)
            {
                List();
            }

            return base.Children;
        }
    }

    /// <summary>Starts a new call: the listing and the call's byte count start over.</summary>
    public void Refresh()
    {
        _listed = false;
        _openedThisCall = 0;
    }

    /// <summary>Gives a file of this volume its bytes, within what one call may open.</summary>
    public Errno Open(VfsDataFile file)
    {
        if (file.IsLoaded)
        {
            return Errno.Success;
        }

        if (_openedThisCall + file.Size > Volume.MaxBytesPerCall)
        {
            files.LastLimitViolation = $"reading {file.FullPath} would take this call past the {Volume.MaxBytesPerCall} bytes it may read from {FullPath}; read fewer or smaller files per call";
            return Errno.FileTooLarge;
        }

        try
        {
            file.Load(Volume.Read(file.Source, CancellationToken.None));
        }
        catch (DataVolumeException ex)
        {
            files.LastLimitViolation = $"{file.FullPath} could not be read: {ex.Message}";
            return Errno.IO;
        }

        _openedThisCall += file.Size;
        return Errno.Success;
    }

    private void List()
    {
        // Marked first, so that the walk below reads this folder's children without listing again.
        _listed = true;
        base.Children.Clear();
        IReadOnlyList<DataFile> listing;
        try
        {
            listing = Volume.List(CancellationToken.None);
        }
        catch (DataVolumeException ex)
        {
            files.LastLimitViolation = $"{FullPath} could not be listed: {ex.Message}";
            return;
        }

        foreach (var source in listing)
        {
            var parts = source.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 || parts.Any(p => p is "." or ".." || p.Length > VirtualFileSystem.MaxNameLength)
                || FolderOf(parts[..^1]) is not { } folder)
            {
                continue;
            }

            folder.Children.TryAdd(parts[^1], new VfsDataFile(files.NextDataInode(), source, this)
            {
                Parent = folder,
                Name = parts[^1],
                ModifiedNanoseconds = source.LastModified.ToUnixTimeMilliseconds() * 1_000_000,
            });
        }
    }

    /// <summary>The folder a listed file goes in, made as needed; null when a name on the way is already a file.</summary>
    private VfsDirectory? FolderOf(IEnumerable<string> names)
    {
        VfsDirectory folder = this;
        foreach (var name in names)
        {
            if (!folder.Children.TryGetValue(name, out var existing))
            {
                existing = new VfsDirectory(files.NextDataInode(), isSystem: true) { Parent = folder, Name = name, ModifiedNanoseconds = ModifiedNanoseconds };
                folder.Children[name] = existing;
            }

            if (existing is not VfsDirectory next)
            {
                return null;
            }

            folder = next;
        }

        return folder;
    }
}

/// <summary>A file of a data volume: its size and time come from the listing, its bytes when it is first opened.</summary>
internal sealed class VfsDataFile(ulong inode, DataFile source, VfsMountDirectory mount) : VfsFile(inode, ReadOnlyMemory<byte>.Empty)
{
    private ReadOnlyMemory<byte>? _content;

    public DataFile Source { get; } = source;

    public VfsMountDirectory Mount { get; } = mount;

    public bool IsLoaded => _content is not null;

    public override long Size => _content?.Length ?? Source.Size;

    public override ReadOnlySpan<byte> Content => _content is { } content ? content.Span : throw new InvalidOperationException($"{FullPath} was read before it was opened.");

    public void Load(ReadOnlyMemory<byte> content) => _content = content;
}

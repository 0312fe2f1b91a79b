namespace SandboxFunctions.Sandbox.Vfs;

/// <summary>A file or directory of the in-memory file system a guest sees.</summary>
internal abstract class VfsNode(ulong inode, bool isSystem)
{
    public ulong Inode { get; } = inode;

    /// <summary>Part of the runtime image (e.g. the standard library): read-only and never saved with a session.</summary>
    public bool IsSystem { get; } = isSystem;

    public VfsDirectory? Parent { get; set; }

    public string Name { get; set; } = string.Empty;

    public long ModifiedNanoseconds { get; set; }

    public abstract long Size { get; }

    public string FullPath
    {
        get
        {
            if (Parent is null)
            {
                return "/";
            }

            var parentPath = Parent.FullPath;
            return parentPath == "/" ? "/" + Name : parentPath + "/" + Name;
        }
    }
}

internal class VfsDirectory(ulong inode, bool isSystem) : VfsNode(inode, isSystem)
{
    private readonly SortedDictionary<string, VfsNode> _children = new(StringComparer.Ordinal);

    public virtual SortedDictionary<string, VfsNode> Children => _children;

    public override long Size => 4096;
}

internal class VfsFile : VfsNode
{
    private readonly ReadOnlyMemory<byte> _systemContent;
    private byte[] _buffer = [];
    private long _length;

    public VfsFile(ulong inode)
        : base(inode, isSystem: false)
    {
    }

    public VfsFile(ulong inode, ReadOnlyMemory<byte> systemContent)
        : base(inode, isSystem: true)
    {
        _systemContent = systemContent;
        _length = systemContent.Length;
    }

    public override long Size => _length;

    public virtual ReadOnlySpan<byte> Content => IsSystem ? _systemContent.Span : _buffer.AsSpan(0, (int)_length);

    public int Read(long offset, Span<byte> destination)
    {
        var size = Size;
        if (offset >= size)
        {
            return 0;
        }

        var count = (int)Math.Min(destination.Length, size - offset);
        Content.Slice((int)offset, count).CopyTo(destination);
        return count;
    }

    /// <summary>Writes at an offset, zero-filling any gap. The caller has checked limits and writability.</summary>
    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        var end = offset + source.Length;
        EnsureCapacity(end);
        if (offset > _length)
        {
            _buffer.AsSpan((int)_length, (int)(offset - _length)).Clear();
        }

        source.CopyTo(_buffer.AsSpan((int)offset));
        _length = Math.Max(_length, end);
    }

    public void SetLength(long length)
    {
        EnsureCapacity(length);
        if (length > _length)
        {
            _buffer.AsSpan((int)_length, (int)(length - _length)).Clear();
        }

        _length = length;
    }

    private void EnsureCapacity(long needed)
    {
        if (needed <= _buffer.Length)
        {
            return;
        }

        var capacity = Math.Max(needed, Math.Min((long)Array.MaxLength, Math.Max(4096, _buffer.Length * 2L)));
        Array.Resize(ref _buffer, (int)capacity);
    }
}

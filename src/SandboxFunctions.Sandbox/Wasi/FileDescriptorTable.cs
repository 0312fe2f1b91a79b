using SandboxFunctions.Sandbox.Vfs;

namespace SandboxFunctions.Sandbox.Wasi;

/// <summary>An open file or directory of the guest. Lives only in the host, so open files do not survive a snapshot.</summary>
internal sealed class OpenFile(VfsNode node, bool readable, bool writable)
{
    public VfsNode Node { get; } = node;

    public bool Readable { get; } = readable;

    public bool Writable { get; } = writable;

    public bool Append { get; set; }

    public long Position { get; set; }

    /// <summary>The name a preopened directory is known by, e.g. "/".</summary>
    public string? PreopenName { get; init; }
}

/// <summary>The guest's descriptors: 0-2 are stdio (handled by the host), 3 is the root preopen.</summary>
internal sealed class FileDescriptorTable
{
    public const int FirstFileDescriptor = 3;
    private const int MaxOpenFiles = 1024;

    private readonly Dictionary<int, OpenFile> _open = [];

    public FileDescriptorTable(VfsDirectory root)
    {
        _open[FirstFileDescriptor] = new OpenFile(root, readable: true, writable: false) { PreopenName = "/" };
    }

    public bool TryGet(int fd, out OpenFile file) => _open.TryGetValue(fd, out file!);

    public Errno Add(OpenFile file, out int fd)
    {
        fd = -1;
        if (_open.Count >= MaxOpenFiles)
        {
            return Errno.TooManyOpenFiles;
        }

        fd = FirstFileDescriptor + 1;
        while (_open.ContainsKey(fd))
        {
            fd++;
        }

        _open[fd] = file;
        return Errno.Success;
    }

    public bool Remove(int fd) => _open.Remove(fd);

    public Errno Renumber(int from, int to)
    {
        if (!_open.TryGetValue(from, out var file) || !_open.ContainsKey(to))
        {
            return Errno.BadFileDescriptor;
        }

        _open[to] = file;
        _open.Remove(from);
        return Errno.Success;
    }
}

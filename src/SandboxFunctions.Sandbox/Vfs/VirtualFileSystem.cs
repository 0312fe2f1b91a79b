using System.Text;
using SandboxFunctions.Sandbox.Data;
using SandboxFunctions.Sandbox.Wasi;

namespace SandboxFunctions.Sandbox.Vfs;

/// <summary>
/// The only file system a guest can see: an in-memory tree, with the runtime's read-only files mounted
/// into it and everything else saved with the session. Nothing of the host's file system is reachable.
/// </summary>
internal sealed class VirtualFileSystem
{
    public const int MaxNameLength = 255;

    /// <summary>The modification time of the runtime's own files and folders: part of the image, so fixed.</summary>
    public const long ImageTimeNanoseconds = 1_735_689_600L * 1_000_000_000;
    private const byte FormatVersion = 1;

    /// <summary>Where the inodes of data volume files start, apart from the session's own, which snapshots keep.</summary>
    private const ulong FirstDataInode = 1UL << 62;

    /// <summary>The folder the data volumes appear in.</summary>
    public const string DataRoot = "/data";

    private readonly TimeProvider _time;
    private readonly List<VfsMountDirectory> _mounts = [];
    private ulong _nextInode = 2;
    private ulong _nextDataInode = FirstDataInode;

    public VirtualFileSystem(VfsLimits limits, TimeProvider time)
    {
        Limits = limits;
        _time = time;
        Root = new VfsDirectory(1, isSystem: true) { ModifiedNanoseconds = ImageTimeNanoseconds };
    }

    public VfsDirectory Root { get; }

    public VfsLimits Limits { get; set; }

    public int UserNodeCount { get; private set; }

    public long UserBytes { get; private set; }

    /// <summary>What the most recent refused write ran into, for messages to the caller.</summary>
    public string? LastLimitViolation { get; set; }

    /// <summary>Adds a read-only file of the runtime image, creating its directories.</summary>
    public void MountSystemFile(string path, ReadOnlyMemory<byte> content)
    {
        var (directory, name) = EnsureSystemDirectories(path);
        directory.Children[name] = new VfsFile(_nextInode++, content) { Parent = directory, Name = name, ModifiedNanoseconds = ImageTimeNanoseconds };
    }

    /// <summary>Shows a data volume, read-only, at /data/&lt;name&gt;.</summary>
    public void AddDataVolume(IDataVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var (parent, name) = EnsureSystemDirectories($"{DataRoot}/{volume.Name}");
        var mount = new VfsMountDirectory(_nextInode++, volume, this) { Parent = parent, Name = name, ModifiedNanoseconds = ImageTimeNanoseconds };
        parent.Children[name] = mount;
        _mounts.Add(mount);
    }

    /// <summary>Starts a call: data volumes are listed afresh when first looked at, and their per-call byte counts reset.</summary>
    public void RefreshDataVolumes()
    {
        foreach (var mount in _mounts)
        {
            mount.Refresh();
        }
    }

    /// <summary>Readies a file for reading: a data volume's file gets its bytes now, the first time it is opened.</summary>
    public static Errno Open(VfsFile file) => file is VfsDataFile data ? data.Mount.Open(data) : Errno.Success;

    /// <summary>True for a path under /data, where only data volumes live.</summary>
    public static bool IsDataPath(string absolutePath) =>
        absolutePath == DataRoot || absolutePath.StartsWith(DataRoot + "/", StringComparison.Ordinal);

    internal ulong NextDataInode() => _nextDataInode++;

    /// <summary>The refusal of a change to a read-only node; under /data it also says what to do instead.</summary>
    public Errno ReadOnly(VfsNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (IsDataPath(node.FullPath))
        {
            LastLimitViolation = $"{node.FullPath} is in /data, which is read-only; copy the file into /workspace to change it";
        }

        return Errno.ReadOnlyFileSystem;
    }

    /// <summary>Creates a writable directory that belongs to the image layout (e.g. /workspace) and counts toward no limit.</summary>
    public VfsDirectory EnsureUserRoot(string path)
    {
        var (parent, name) = EnsureSystemDirectories(path);
        if (parent.Children.TryGetValue(name, out var existing))
        {
            return (VfsDirectory)existing;
        }

        var directory = new VfsDirectory(_nextInode++, isSystem: false) { Parent = parent, Name = name, ModifiedNanoseconds = ImageTimeNanoseconds };
        parent.Children[name] = directory;
        return directory;
    }

    public Errno Lookup(VfsDirectory start, string path, out VfsNode? node)
    {
        node = null;
        var status = Walk(start, path, out var parent, out var name, out var mustBeDirectory);
        if (status != Errno.Success)
        {
            return status;
        }

        if (name.Length == 0)
        {
            node = parent;
            return Errno.Success;
        }

        if (!parent.Children.TryGetValue(name, out node))
        {
            return Errno.NoEntry;
        }

        return mustBeDirectory && node is not VfsDirectory ? Errno.NotDirectory : Errno.Success;
    }

    /// <summary>Resolves every component but the last, which is returned as a name (empty when the path names a directory like "." ).</summary>
    public Errno LookupParent(VfsDirectory start, string path, out VfsDirectory parent, out string name)
    {
        var status = Walk(start, path, out parent, out name, out _);
        if (status == Errno.Success && (name.Length == 0 || name == ".."))
        {
            return Errno.Invalid;
        }

        return status;
    }

    public Errno CreateFile(VfsDirectory parent, string name, out VfsFile? file)
    {
        file = null;
        var status = CheckCreate(parent, name);
        if (status != Errno.Success)
        {
            return status;
        }

        file = new VfsFile(_nextInode++) { Parent = parent, Name = name, ModifiedNanoseconds = Now() };
        AddChild(parent, file);
        return Errno.Success;
    }

    public Errno CreateDirectory(VfsDirectory parent, string name)
    {
        var status = CheckCreate(parent, name);
        if (status != Errno.Success)
        {
            return status;
        }

        AddChild(parent, new VfsDirectory(_nextInode++, isSystem: false) { Parent = parent, Name = name, ModifiedNanoseconds = Now() });
        return Errno.Success;
    }

    public Errno Remove(VfsDirectory parent, string name, bool directory)
    {
        if (!parent.Children.TryGetValue(name, out var node))
        {
            return Errno.NoEntry;
        }

        if (node.IsSystem || parent.IsSystem && IsUserRoot(node))
        {
            return node.IsSystem ? ReadOnly(node) : Errno.Busy;
        }

        if (directory)
        {
            if (node is not VfsDirectory folder)
            {
                return Errno.NotDirectory;
            }

            if (folder.Children.Count > 0)
            {
                return Errno.NotEmpty;
            }
        }
        else if (node is VfsDirectory)
        {
            return Errno.IsDirectory;
        }

        Detach(parent, node);
        return Errno.Success;
    }

    public Errno Rename(VfsDirectory fromParent, string fromName, VfsDirectory toParent, string toName)
    {
        if (!fromParent.Children.TryGetValue(fromName, out var node))
        {
            return Errno.NoEntry;
        }

        if (node.IsSystem || toParent.IsSystem || (fromParent.IsSystem && IsUserRoot(node)))
        {
            return node.IsSystem ? ReadOnly(node) : toParent.IsSystem ? ReadOnly(toParent) : Errno.Busy;
        }

        if (!IsValidName(toName))
        {
            return toName.Length > MaxNameLength ? Errno.NameTooLong : Errno.Invalid;
        }

        for (VfsNode? ancestor = toParent; ancestor is not null; ancestor = ancestor.Parent)
        {
            if (ReferenceEquals(ancestor, node))
            {
                return Errno.Invalid;
            }
        }

        if (toParent.Children.TryGetValue(toName, out var existing))
        {
            if (ReferenceEquals(existing, node))
            {
                return Errno.Success;
            }

            if (existing.IsSystem)
            {
                return ReadOnly(existing);
            }

            switch (node, existing)
            {
                case (VfsDirectory, VfsFile):
                    return Errno.NotDirectory;
                case (VfsFile, VfsDirectory):
                    return Errno.IsDirectory;
                case (VfsDirectory, VfsDirectory { Children.Count: > 0 }):
                    return Errno.NotEmpty;
            }

            Detach(toParent, existing);
        }

        fromParent.Children.Remove(fromName);
        node.Parent = toParent;
        node.Name = toName;
        toParent.Children[toName] = node;
        fromParent.ModifiedNanoseconds = toParent.ModifiedNanoseconds = Now();
        return Errno.Success;
    }

    public Errno Write(VfsFile file, long offset, ReadOnlySpan<byte> data)
    {
        if (file.IsSystem)
        {
            return ReadOnly(file);
        }

        var status = CheckGrowth(file, Math.Max(file.Size, offset + data.Length));
        if (status != Errno.Success)
        {
            return status;
        }

        UserBytes += Math.Max(0, offset + data.Length - file.Size);
        file.Write(offset, data);
        file.ModifiedNanoseconds = Now();
        return Errno.Success;
    }

    public Errno SetLength(VfsFile file, long length)
    {
        if (file.IsSystem)
        {
            return ReadOnly(file);
        }

        if (length < 0)
        {
            return Errno.Invalid;
        }

        var status = CheckGrowth(file, length);
        if (status != Errno.Success)
        {
            return status;
        }

        UserBytes += length - file.Size;
        file.SetLength(length);
        file.ModifiedNanoseconds = Now();
        return Errno.Success;
    }

    public long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000;

    /// <summary>Writes every node the guest owns, so that <see cref="Load"/> can rebuild them.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(FormatVersion);
        writer.Write(_nextInode);
        var nodes = new List<VfsNode>();
        CollectUserNodes(Root, nodes);
        writer.Write(nodes.Count);
        foreach (var node in nodes)
        {
            writer.Write(node.FullPath);
            writer.Write(node is VfsDirectory ? (byte)1 : (byte)2);
            writer.Write(node.Inode);
            writer.Write(node.ModifiedNanoseconds);
            if (node is VfsFile file)
            {
                writer.Write(file.Size);
                writer.Write(file.Content);
            }
        }
    }

    /// <summary>Restores what <see cref="Save"/> wrote on top of the runtime image's layout.</summary>
    public void Load(BinaryReader reader)
    {
        if (reader.ReadByte() != FormatVersion)
        {
            throw new InvalidDataException("The file system section has an unknown format version.");
        }

        _nextInode = reader.ReadUInt64();
        var count = reader.ReadInt32();
        if (count < 0)
        {
            throw new InvalidDataException("The file system section claims a negative number of entries.");
        }

        for (var i = 0; i < count; i++)
        {
            var path = reader.ReadString();
            var kind = reader.ReadByte();
            var inode = reader.ReadUInt64();
            var modified = reader.ReadInt64();
            var (parent, name) = SplitExistingParent(path);
            if (kind == 1 && parent.Children.TryGetValue(name, out var existing) && existing is VfsDirectory { IsSystem: false } userRoot)
            {
                userRoot.ModifiedNanoseconds = modified;
                continue;
            }

            if (parent.IsSystem)
            {
                throw new InvalidDataException($"The file system section puts '{path}' among the runtime's own files.");
            }

            VfsNode node;
            if (kind == 1)
            {
                node = new VfsDirectory(inode, isSystem: false);
                UserNodeCount++;
            }
            else
            {
                var file = new VfsFile(inode);
                var length = reader.ReadInt64();
                if (length < 0 || length > reader.BaseStream.Length - reader.BaseStream.Position)
                {
                    throw new InvalidDataException($"The file system section claims {length} bytes for '{path}', more than it holds.");
                }

                file.Write(0, reader.ReadBytes((int)length));
                UserBytes += length;
                UserNodeCount++;
                node = file;
            }

            node.Parent = parent;
            node.Name = name;
            node.ModifiedNanoseconds = modified;
            parent.Children[name] = node;
        }
    }

    private static bool IsUserRoot(VfsNode node) => node is VfsDirectory { IsSystem: false } && node.Parent is { IsSystem: true };

    private static bool IsValidName(string name) =>
        name.Length is > 0 and <= MaxNameLength && name != "." && name != ".." && !name.Contains('/') && !name.Contains('\0');

    private Errno Walk(VfsDirectory start, string path, out VfsDirectory parent, out string name, out bool mustBeDirectory)
    {
        parent = start;
        name = string.Empty;
        mustBeDirectory = path.EndsWith('/');
        if (path.Length == 0)
        {
            return Errno.NoEntry;
        }

        if (path.Contains('\0'))
        {
            return Errno.Invalid;
        }

        var current = path.StartsWith('/') ? Root : start;
        var components = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < components.Length; i++)
        {
            var component = components[i];
            if (component.Length > MaxNameLength)
            {
                return Errno.NameTooLong;
            }

            var isLast = i == components.Length - 1;
            if (component == ".")
            {
                continue;
            }

            if (component == "..")
            {
                current = current.Parent ?? current;
                continue;
            }

            if (isLast)
            {
                parent = current;
                name = component;
                return Errno.Success;
            }

            if (!current.Children.TryGetValue(component, out var next))
            {
                return Errno.NoEntry;
            }

            if (next is not VfsDirectory directory)
            {
                return Errno.NotDirectory;
            }

            current = directory;
        }

        parent = current;
        mustBeDirectory = true;
        return Errno.Success;
    }

    private Errno CheckCreate(VfsDirectory parent, string name)
    {
        if (parent.IsSystem)
        {
            return ReadOnly(parent);
        }

        if (!IsValidName(name))
        {
            return name.Length > MaxNameLength ? Errno.NameTooLong : Errno.Invalid;
        }

        if (parent.Children.ContainsKey(name))
        {
            return Errno.Exists;
        }

        if (UserNodeCount >= Limits.MaxFiles)
        {
            LastLimitViolation = $"the workspace holds its limit of {Limits.MaxFiles} files and directories";
            return Errno.QuotaExceeded;
        }

        return Errno.Success;
    }

    private Errno CheckGrowth(VfsFile file, long newLength)
    {
        if (newLength > Limits.MaxFileBytes)
        {
            LastLimitViolation = $"a file may hold at most {Limits.MaxFileBytes} bytes";
            return Errno.FileTooLarge;
        }

        if (UserBytes + (newLength - file.Size) > Limits.MaxTotalBytes)
        {
            LastLimitViolation = $"the workspace may hold at most {Limits.MaxTotalBytes} bytes in all";
            return Errno.NoSpace;
        }

        return Errno.Success;
    }

    private void AddChild(VfsDirectory parent, VfsNode node)
    {
        parent.Children[node.Name] = node;
        parent.ModifiedNanoseconds = node.ModifiedNanoseconds;
        UserNodeCount++;
    }

    private void Detach(VfsDirectory parent, VfsNode node)
    {
        parent.Children.Remove(node.Name);
        parent.ModifiedNanoseconds = Now();
        UserNodeCount--;
        if (node is VfsFile file)
        {
            UserBytes -= file.Size;
        }

        node.Parent = null;
    }

    private (VfsDirectory Parent, string Name) EnsureSystemDirectories(string path)
    {
        var components = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = Root;
        foreach (var component in components[..^1])
        {
            if (!current.Children.TryGetValue(component, out var next))
            {
                next = new VfsDirectory(_nextInode++, isSystem: true) { Parent = current, Name = component, ModifiedNanoseconds = ImageTimeNanoseconds };
                current.Children[component] = next;
            }

            current = (VfsDirectory)next;
        }

        return (current, components[^1]);
    }

    private (VfsDirectory Parent, string Name) SplitExistingParent(string path)
    {
        var status = Walk(Root, path, out var parent, out var name, out _);
        if (status != Errno.Success || name.Length == 0)
        {
            throw new InvalidDataException($"The file system section names '{path}', whose folder does not exist.");
        }

        return (parent, name);
    }

    private static void CollectUserNodes(VfsDirectory directory, List<VfsNode> nodes)
    {
        foreach (var child in directory.Children.Values)
        {
            if (child is VfsMountDirectory)
            {
                continue;
            }

            if (!child.IsSystem)
            {
                nodes.Add(child);
            }

            if (child is VfsDirectory folder)
            {
                CollectUserNodes(folder, nodes);
            }
        }
    }
}

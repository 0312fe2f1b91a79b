using SandboxFunctions.Sandbox.Vfs;
using SandboxFunctions.Sandbox.Wasi;

namespace SandboxFunctions.Sandbox;

/// <summary>
/// The sandbox's /workspace, as the host sees it between calls, and the read-only data volumes under /data. Every
/// path is confined to those two: absolute paths elsewhere and <c>..</c> that climbs out are refused, and so is any
/// change under /data.
/// </summary>
public sealed class SandboxWorkspace
{
    public const string Root = "/workspace";

    /// <summary>The read-only folder the data volumes appear in, one folder per volume.</summary>
    public const string DataRoot = VirtualFileSystem.DataRoot;

    private readonly SandboxInstance _sandbox;

    internal SandboxWorkspace(SandboxInstance sandbox)
    {
        _sandbox = sandbox;
    }

    public Task<IReadOnlyList<WorkspaceEntry>> ListAsync(string? path = null, bool recursive = false, CancellationToken cancellationToken = default) =>
        _sandbox.WithExclusiveAccessAsync<IReadOnlyList<WorkspaceEntry>>(context =>
        {
            var node = Find(context.Files, path ?? Root);
            if (node is VfsFile file)
            {
                return [ToEntry(file)];
            }

            var entries = new List<WorkspaceEntry>();
            Collect((VfsDirectory)node, recursive, entries);
            return entries;
        }, cancellationToken);

    public Task<byte[]> ReadAsync(string path, long offset = 0, long? length = null, CancellationToken cancellationToken = default) =>
        _sandbox.WithExclusiveAccessAsync(context =>
        {
            if (Find(context.Files, path) is not VfsFile file)
            {
                throw new WorkspaceException(WorkspaceError.IsDirectory, $"'{Normalize(path)}' is a directory; list it with list_files.");
            }

            if (offset < 0 || offset > file.Size)
            {
                throw new WorkspaceException(WorkspaceError.InvalidRange, $"Offset {offset} is outside '{Normalize(path)}', which has {file.Size} bytes.");
            }

            switch (VirtualFileSystem.Open(file))
            {
                case Errno.Success:
                    break;
                case Errno.FileTooLarge:
                    throw new WorkspaceException(WorkspaceError.LimitExceeded, $"Reading '{file.FullPath}' was refused because {context.Files.LastLimitViolation}.");
                default:
                    throw new WorkspaceException(WorkspaceError.NotFound, $"Reading '{file.FullPath}' failed because {context.Files.LastLimitViolation}.");
            }

            var count = (int)Math.Min(length ?? file.Size - offset, file.Size - offset);
            return file.Content.Slice((int)offset, Math.Max(0, count)).ToArray();
        }, cancellationToken);

    public Task<WorkspaceEntry> WriteAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        _sandbox.WithExclusiveAccessAsync(context =>
        {
            var files = context.Files;
            var normalized = NormalizeForChange(path);
            if (normalized == Root)
            {
                throw new WorkspaceException(WorkspaceError.IsDirectory, "Give a file name inside /workspace, e.g. data.csv.");
            }

            var parent = EnsureDirectories(files, normalized[..normalized.LastIndexOf('/')]);
            var name = normalized[(normalized.LastIndexOf('/') + 1)..];
            VfsFile file;
            if (parent.Children.TryGetValue(name, out var existing))
            {
                file = existing as VfsFile ?? throw new WorkspaceException(WorkspaceError.IsDirectory, $"'{normalized}' is a directory.");
                Check(files, files.SetLength(file, 0), normalized);
            }
            else
            {
                Check(files, files.CreateFile(parent, name, out var created), normalized);
                file = created!;
            }

            Check(files, files.Write(file, 0, content.Span), normalized);
            return ToEntry(file);
        }, cancellationToken);

    public Task DeleteAsync(string path, CancellationToken cancellationToken = default) =>
        _sandbox.WithExclusiveAccessAsync(context =>
        {
            var normalized = NormalizeForChange(path);
            if (normalized == Root)
            {
                throw new WorkspaceException(WorkspaceError.InvalidPath, "The workspace itself cannot be deleted; delete the files in it.");
            }

            var node = Find(context.Files, normalized);
            DeleteTree(context.Files, node);
            return true;
        }, cancellationToken);

    /// <summary>Like <see cref="Normalize"/>, and refuses paths under /data, which is read-only.</summary>
    public static string NormalizeForChange(string path)
    {
        var normalized = Normalize(path);
        return VirtualFileSystem.IsDataPath(normalized)
            ? throw new WorkspaceException(WorkspaceError.ReadOnly, $"'{normalized}' is in /data, which is read-only; copy the file into /workspace to change it (e.g. cp {normalized} /workspace/).")
            : normalized;
    }

    /// <summary>Turns a caller's path into an absolute path inside /workspace or /data, or refuses it.</summary>
    public static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Contains('\0') || path.Contains('\\'))
        {
            throw new WorkspaceException(WorkspaceError.InvalidPath, $"'{path}' contains a character paths may not have (NUL or backslash); use '/' between folders.");
        }

        var trimmed = path.Trim();
        var absolute = trimmed.StartsWith('/') ? trimmed : Root + "/" + trimmed;
        var parts = new List<string>();
        foreach (var part in absolute.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count <= 1)
                {
                    throw new WorkspaceException(WorkspaceError.OutsideWorkspace, $"'{path}' climbs out of /workspace; paths must stay inside it.");
                }

                parts.RemoveAt(parts.Count - 1);
                continue;
            }

            if (part.Length > VirtualFileSystem.MaxNameLength)
            {
                throw new WorkspaceException(WorkspaceError.InvalidPath, $"A name in '{path}' is longer than {VirtualFileSystem.MaxNameLength} characters.");
            }

            parts.Add(part);
        }

        if (parts.Count == 0 || (parts[0] != Root[1..] && parts[0] != DataRoot[1..]))
        {
            throw new WorkspaceException(WorkspaceError.OutsideWorkspace, $"'{path}' is outside /workspace; use a path relative to it, e.g. 'data.csv', or one starting with /workspace/ (or /data/ to read shared data).");
        }

        return "/" + string.Join('/', parts);
    }

    private static VfsNode Find(VirtualFileSystem files, string path)
    {
        var normalized = Normalize(path);
        var status = files.Lookup(files.Root, normalized, out var node);
        return status switch
        {
            Errno.Success => node!,
            Errno.NotDirectory => throw new WorkspaceException(WorkspaceError.NotFound, $"'{normalized}' does not exist: a part of it is a file, not a folder."),
            _ => throw new WorkspaceException(WorkspaceError.NotFound, $"'{normalized}' does not exist."),
        };
    }

    private static VfsDirectory EnsureDirectories(VirtualFileSystem files, string directoryPath)
    {
        var current = (VfsDirectory)Find(files, Root);
        foreach (var part in directoryPath.Split('/', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            if (!current.Children.TryGetValue(part, out var next))
            {
                Check(files, files.CreateDirectory(current, part), directoryPath);
                next = current.Children[part];
            }

            current = next as VfsDirectory ?? throw new WorkspaceException(WorkspaceError.NotFound, $"'{next.FullPath}' is a file, so it cannot hold '{directoryPath}'.");
        }

        return current;
    }

    private static void DeleteTree(VirtualFileSystem files, VfsNode node)
    {
        if (node is VfsDirectory directory)
        {
            foreach (var child in directory.Children.Values.ToList())
            {
                DeleteTree(files, child);
            }
        }

        Check(files, files.Remove(node.Parent!, node.Name, node is VfsDirectory), node.FullPath);
    }

    private static void Check(VirtualFileSystem files, Errno status, string path)
    {
        switch (status)
        {
            case Errno.Success:
                return;
            case Errno.QuotaExceeded or Errno.NoSpace or Errno.FileTooLarge:
                throw new WorkspaceException(WorkspaceError.LimitExceeded, $"Writing '{path}' was refused because {files.LastLimitViolation}. Delete files you no longer need.");
            case Errno.Exists:
                throw new WorkspaceException(WorkspaceError.InvalidPath, $"'{path}' already exists.");
            default:
                throw new WorkspaceException(WorkspaceError.InvalidPath, $"'{path}' cannot be changed ({status}).");
        }
    }

    private static void Collect(VfsDirectory directory, bool recursive, List<WorkspaceEntry> entries)
    {
        foreach (var child in directory.Children.Values)
        {
            entries.Add(ToEntry(child));
            if (recursive && child is VfsDirectory folder)
            {
                Collect(folder, recursive, entries);
            }
        }
    }

    private static WorkspaceEntry ToEntry(VfsNode node) => new(
        node.FullPath,
        node is VfsDirectory,
        node is VfsFile ? node.Size : 0,
        DateTimeOffset.FromUnixTimeMilliseconds(node.ModifiedNanoseconds / 1_000_000));
}

public sealed record WorkspaceEntry(string Path, bool IsDirectory, long Size, DateTimeOffset Modified);

public enum WorkspaceError
{
    NotFound,
    IsDirectory,
    InvalidPath,
    OutsideWorkspace,
    InvalidRange,
    LimitExceeded,
    ReadOnly,
}

/// <summary>A workspace operation the caller asked for that cannot be done; the message says why and what to do.</summary>
public sealed class WorkspaceException : SandboxException
{
    public WorkspaceException(WorkspaceError error, string message)
        : base(SandboxErrorKind.Workspace, message)
    {
        Error = error;
    }

    public WorkspaceException()
    {
    }

    public WorkspaceException(string message)
        : base(message)
    {
    }

    public WorkspaceException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public WorkspaceError Error { get; }
}

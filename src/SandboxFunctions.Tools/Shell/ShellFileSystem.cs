using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Tools.Shell;

/// <summary>
/// The session's /workspace as the commands see it, through <see cref="SandboxWorkspace"/> so that every path
/// is confined the same way as the file tools. Remembers whether anything was changed, so that a command line
/// that only read files needs no new snapshot.
/// </summary>
internal sealed class ShellFileSystem(SandboxWorkspace workspace)
{
    public const string Root = SandboxWorkspace.Root;
    public const string DevNull = "/dev/null";
    public const string DataRoot = SandboxWorkspace.DataRoot;

    private const string MarkerPrefix = ".mkdir-";

    public bool Changed { get; private set; }

    /// <summary>The absolute path of <paramref name="path"/> seen from <paramref name="cwd"/>; refused when it leaves /workspace.</summary>
    public static string Resolve(string cwd, string path) =>
        SandboxWorkspace.Normalize(path.StartsWith('/') ? path : $"{cwd}/{path}");

    /// <summary>How coreutils would put a refused workspace operation; a full workspace ends the command line instead.</summary>
    public static string Describe(WorkspaceException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.Error switch
        {
            WorkspaceError.NotFound => "No such file or directory",
            WorkspaceError.IsDirectory => "Is a directory",
            WorkspaceError.OutsideWorkspace => "Permission denied (outside /workspace)",
            WorkspaceError.ReadOnly => "Read-only file system (/data is shared; copy the file into /workspace to change it)",
            WorkspaceError.LimitExceeded => throw new ShellStopException(ShellStopReason.WorkspaceLimit, exception.Message),
            _ => exception.Message,
        };
    }

    public async Task<ShellEntry?> StatAsync(string absolute, CancellationToken cancellationToken)
    {
        if (absolute is Root or DataRoot)
        {
            return new ShellEntry(absolute, IsDirectory: true, 0, DateTimeOffset.UnixEpoch);
        }

        IReadOnlyList<WorkspaceEntry> siblings;
        try
        {
            siblings = await workspace.ListAsync(absolute[..absolute.LastIndexOf('/')], cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (WorkspaceException ex) when (ex.Error is WorkspaceError.NotFound)
        {
            return null;
        }

        return siblings.FirstOrDefault(e => e.Path == absolute) is { } entry ? ShellEntry.From(entry) : null;
    }

    /// <summary>The entries of a directory, sorted by name as the C locale sorts.</summary>
    public async Task<IReadOnlyList<ShellEntry>> ListAsync(string directory, bool recursive, CancellationToken cancellationToken)
    {
        var entries = await workspace.ListAsync(directory, recursive, cancellationToken).ConfigureAwait(false);
        if (entries is [{ IsDirectory: false } single] && single.Path == directory)
        {
            throw new WorkspaceException(WorkspaceError.InvalidPath, "Not a directory");
        }

        return [.. entries.Select(ShellEntry.From).OrderBy(e => e.Path, StringComparer.Ordinal)];
    }

    public Task<byte[]> ReadAsync(string absolute, CancellationToken cancellationToken) =>
        workspace.ReadAsync(absolute, cancellationToken: cancellationToken);

    public async Task WriteAsync(string absolute, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        Changed = true;
        await workspace.WriteAsync(absolute, content, cancellationToken).ConfigureAwait(false);
    }

    public async Task AppendAsync(string absolute, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var existing = await StatAsync(absolute, cancellationToken).ConfigureAwait(false) is { IsDirectory: false }
            ? await ReadAsync(absolute, cancellationToken).ConfigureAwait(false)
            : null;
        if (existing is not null && content.IsEmpty)
        {
            return;
        }

        existing ??= [];
        var combined = new byte[existing.Length + content.Length];
        existing.CopyTo(combined, 0);
        content.Span.CopyTo(combined.AsSpan(existing.Length));
        await WriteAsync(absolute, combined, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string absolute, CancellationToken cancellationToken)
    {
        Changed = true;
        await workspace.DeleteAsync(absolute, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a directory and any missing parents.</summary>
    public async Task CreateDirectoryAsync(string absolute, CancellationToken cancellationToken)
    {
        // The workspace creates folders only on the way to a file, so a placeholder file is written and removed.
        var marker = $"{absolute}/{MarkerPrefix}{Guid.NewGuid():N}";
        await WriteAsync(marker, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        await DeleteAsync(marker, cancellationToken).ConfigureAwait(false);
    }
}

internal sealed record ShellEntry(string Path, bool IsDirectory, long Size, DateTimeOffset Modified)
{
    public string Name => Path[(Path.LastIndexOf('/') + 1)..];

    public static ShellEntry From(WorkspaceEntry entry) => new(entry.Path, entry.IsDirectory, entry.Size, entry.Modified);
}

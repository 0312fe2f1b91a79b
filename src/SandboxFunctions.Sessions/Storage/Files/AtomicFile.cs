namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// Files that are replaced whole: written to a temporary file in the same folder, flushed, then renamed over the
/// target, so a reader sees the old content or the new, never a mix, and a crash leaves no half-written file.
/// </summary>
internal static class AtomicFile
{
    public const string TemporaryPrefix = ".tmp-";

    public static async Task WriteAsync(string path, IReadOnlyList<ReadOnlyMemory<byte>> parts, CancellationToken cancellationToken)
    {
        using var prepared = await PrepareAsync(Path.GetDirectoryName(path)!, path, parts, cancellationToken).ConfigureAwait(false);
        prepared.CommitTo(path);
    }

    /// <summary>
    /// Writes and flushes the content under a temporary name in <paramref name="directory"/>, which must be on the same
    /// file system as the target. Writers prepare outside their resource's lock and hold it only to check their
    /// conditions and rename, so one writer's flush to disk never waits for another's.
    /// </summary>
    /// <param name="target">The file the content is for, named in errors.</param>
    public static async Task<PreparedFile> PrepareAsync(string directory, string target, IReadOnlyList<ReadOnlyMemory<byte>> parts, CancellationToken cancellationToken)
    {
        var temporary = Path.Combine(directory, TemporaryPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                foreach (var part in parts)
                {
                    await stream.WriteAsync(part, cancellationToken).ConfigureAwait(false);
                }

                stream.Flush(flushToDisk: true);
            }

            return new PreparedFile(temporary, target);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(temporary);
            if (ex is OperationCanceledException)
            {
                throw;
            }

            throw WriteFailed(target, ex);
        }
    }

    internal static StorageException WriteFailed(string path, Exception ex) =>
        new(StorageErrorKind.Failed, $"The file store could not write '{path}': {ex.Message}", ex);

    /// <summary>Deletes a file; false when it was not there.</summary>
    public static bool TryDelete(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The whole file, or null when it does not exist.</summary>
    public static async Task<byte[]?> ReadAllBytesAsync(string path, CancellationToken cancellationToken)
    {
        var stream = OpenForReading(path);
        if (stream is null)
        {
            return null;
        }

        await using (stream.ConfigureAwait(false))
        {
            var content = new byte[stream.Length];
            await stream.ReadExactlyAsync(content, cancellationToken).ConfigureAwait(false);
            return content;
        }
    }

    /// <summary>
    /// Opens for reading, or null when the file does not exist. Sharing delete lets writers rename over a file
    /// that is being read, on every platform.
    /// </summary>
    public static FileStream? OpenForReading(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}

/// <summary>Content already on disk under a temporary name; disposing it without a commit deletes it.</summary>
internal sealed class PreparedFile(string temporary, string target) : IDisposable
{
    private bool _committed;

    /// <summary>Renames the content over <paramref name="path"/> in one step: readers see the old file or the new.</summary>
    public void CommitTo(string path)
    {
        try
        {
            File.Move(temporary, path, overwrite: true);
            _committed = true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw AtomicFile.WriteFailed(target, ex);
        }
    }

    public void Dispose()
    {
        if (!_committed)
        {
            AtomicFile.TryDelete(temporary);
        }
    }
}

using System.Diagnostics;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// Serializes writers of one table, container or queue: a semaphore among this provider's callers, and an
/// exclusively opened lock file among processes (and other providers) sharing the folder.
/// </summary>
// CA1001: the semaphore never creates a wait handle, so it holds nothing to release; it lives as long as its provider.
#pragma warning disable CA1001
internal sealed class FileResourceLock(string lockFilePath, string description)
#pragma warning restore CA1001
{
    /// <summary>Writers hold the lock for milliseconds; waiting this long means something is wrong with the folder.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _withinProvider = new(1, 1);

    public async Task<Holder> AcquireAsync(CancellationToken cancellationToken)
    {
        await _withinProvider.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return new Holder(_withinProvider, await OpenExclusivelyAsync(cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            _withinProvider.Release();
            throw;
        }
    }

    private async Task<FileStream> OpenExclusivelyAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            try
            {
                // The file is never deleted: deleting a lock file lets two waiters lock two different files.
                return new FileStream(lockFilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
            }
            catch (IOException ex) when (ex is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
            {
                if (Stopwatch.GetElapsedTime(started) > Patience)
                {
                    throw new StorageException(StorageErrorKind.Unavailable, $"The file store's lock for {description} stayed busy for {Patience.TotalSeconds:0} s.", ex);
                }

                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(16).Ticks));
            }
        }
    }

    public sealed class Holder(SemaphoreSlim withinProvider, FileStream lockFile) : IDisposable
    {
        private bool _released;

        public void Dispose()
        {
            if (_released)
            {
                return;
            }

            _released = true;
            lockFile.Dispose();
            withinProvider.Release();
        }
    }
}

namespace SandboxFunctions.Sessions.Storage;

/// <summary>How a storage write that a caller started alongside another one ended.</summary>
internal static class StorageOutcome
{
    /// <summary>
    /// Waits for <paramref name="operation"/> and says whether it succeeded. Its storage error or cancellation is not
    /// thrown: the caller is already handling a failure and needs only to know whether this write left something behind.
    /// </summary>
    public static async Task<bool> SucceededAsync(Task operation)
    {
        try
        {
            await operation.ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is StorageException or OperationCanceledException)
        {
            return false;
        }
    }
}

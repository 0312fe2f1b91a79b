using Azure.Core;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// Retries, timeouts, diagnostics and extra pipeline policies (<see cref="ClientOptions.AddPolicy"/>) for the
/// Azure Storage clients, plus how blobs are uploaded and how many items a listing page holds.
/// </summary>
public sealed class AzureStorageClientOptions : ClientOptions
{
    public AzureStorageClientOptions()
    {
        // A request to the app must be answered well within the 230 s HTTP limit of Functions, so no single attempt may take 100 s.
        Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        Retry.MaxDelay = TimeSpan.FromSeconds(8);

        foreach (var header in new[] { "x-ms-version", "x-ms-request-id", "x-ms-error-code", "x-ms-blob-type", "x-ms-date" })
        {
            Diagnostics.LoggedHeaderNames.Add(header);
        }

        foreach (var parameter in new[] { "comp", "restype", "maxresults", "numofmessages", "visibilitytimeout", "messagettl" })
        {
            Diagnostics.LoggedQueryParameters.Add(parameter);
        }
    }

    /// <summary>Blobs up to this many bytes are written with one Put Blob; larger ones in blocks.</summary>
    public int BlockUploadThreshold { get; set; } = 8 * 1024 * 1024;

    /// <summary>The size of each block of a block upload.</summary>
    public int BlockSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>How many blocks of one blob are in flight at once.</summary>
    public int MaxConcurrentBlockUploads { get; set; } = 4;

    /// <summary>How many items one page of a blob listing or a table query asks for (at most 1000 for tables).</summary>
    public int PageSize { get; set; } = 1000;

    internal void Validate()
    {
        if (BlockSize < 1 || BlockSize > 100 * 1024 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, "Must be between 1 byte and 100 MiB.");
        }

        if (BlockUploadThreshold < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockUploadThreshold), BlockUploadThreshold, "Must not be negative.");
        }

        if (MaxConcurrentBlockUploads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentBlockUploads), MaxConcurrentBlockUploads, "Must be at least 1.");
        }

        if (PageSize is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(PageSize), PageSize, "Must be between 1 and 1000.");
        }
    }
}

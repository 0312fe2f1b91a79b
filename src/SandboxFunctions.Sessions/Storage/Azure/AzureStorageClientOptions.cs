using Azure.Core;
using Azure.Core.Pipeline;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// Retries, timeouts, transport and extra pipeline policies for the Azure Storage clients of every service
/// (tables, blobs, queues), plus how blobs are uploaded and how many items a listing page holds.
/// </summary>
public sealed class AzureStorageClientOptions : ClientOptions
{
    private readonly List<(HttpPipelinePolicy Policy, HttpPipelinePosition Position)> _policies = [];

    public AzureStorageClientOptions()
    {
        // A request to the app must be answered well within the 230 s HTTP limit of Functions, so no single attempt may take 100 s.
        Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        Retry.MaxDelay = TimeSpan.FromSeconds(8);
    }

    /// <summary>Blobs up to this many bytes are written with one Put Blob; larger ones in blocks.</summary>
    public int BlockUploadThreshold { get; set; } = 8 * 1024 * 1024;

    /// <summary>The size of each block of a block upload.</summary>
    public int BlockSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>How many blocks of one blob are in flight at once.</summary>
    public int MaxConcurrentBlockUploads { get; set; } = 4;

    /// <summary>How many items one page of a blob listing or a table query asks for (at most 1000 for tables).</summary>
    public int PageSize { get; set; } = 1000;

    /// <summary>Adds a policy to the pipeline of every client built from these options.</summary>
    public new void AddPolicy(HttpPipelinePolicy policy, HttpPipelinePosition position)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _policies.Add((policy, position));
    }

    /// <summary>Gives one service's client options these retries, transport, diagnostics and policies.</summary>
    internal T ApplyTo<T>(T target)
        where T : ClientOptions
    {
        target.Retry.Mode = Retry.Mode;
        target.Retry.MaxRetries = Retry.MaxRetries;
        target.Retry.Delay = Retry.Delay;
        target.Retry.MaxDelay = Retry.MaxDelay;
        target.Retry.NetworkTimeout = Retry.NetworkTimeout;
        target.Transport = Transport;
        target.Diagnostics.IsLoggingEnabled = Diagnostics.IsLoggingEnabled;
        target.Diagnostics.IsDistributedTracingEnabled = Diagnostics.IsDistributedTracingEnabled;
        target.Diagnostics.IsTelemetryEnabled = Diagnostics.IsTelemetryEnabled;
        foreach (var (policy, position) in _policies)
        {
            target.AddPolicy(policy, position);
        }

        return target;
    }

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

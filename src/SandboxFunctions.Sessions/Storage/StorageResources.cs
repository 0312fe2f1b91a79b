using Microsoft.Extensions.Logging;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// The tables, containers and queues a store needs, created on first use and then never again. A creation that
/// failed (a storage blip, a role assignment still propagating) is not remembered: the next call tries again,
/// so a failure lasts only as long as its cause. Each failed attempt is logged once, however many calls waited
/// on it; a caller that gives up stops waiting without cancelling the attempt others share.
/// </summary>
internal sealed partial class StorageResources
{
    private readonly Func<CancellationToken, Task>[] _creators;
    private readonly string _names;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Task? _attempt;
    private volatile bool _created;

    public StorageResources(ILogger logger, params (string Name, Func<CancellationToken, Task> Create)[] resources)
    {
        _logger = logger;
        _creators = [.. resources.Select(r => r.Create)];
        _names = string.Join(", ", resources.Select(r => r.Name));
    }

    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        if (_created)
        {
            return Task.CompletedTask;
        }

        Task attempt;
        lock (_gate)
        {
            if (_attempt is null || _attempt.IsFaulted || _attempt.IsCanceled)
            {
                _attempt = CreateAsync();
            }

            attempt = _attempt;
        }

        return attempt.WaitAsync(cancellationToken);
    }

    private async Task CreateAsync()
    {
        try
        {
            await Task.WhenAll(_creators.Select(create => create(CancellationToken.None))).ConfigureAwait(false);
            _created = true;
        }
        catch (StorageException ex)
        {
            LogCreationFailed(_logger, _names, ex.Message);
            throw;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The file store fails with the file system's exceptions; callers handle storage failures as one kind.
            LogCreationFailed(_logger, _names, ex.Message);
            throw new StorageException(StorageErrorKind.Unavailable, $"The storage resources {_names} could not be created: {ex.Message}", ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not create the storage resources {Names}: {Reason} The next call tries again.")]
    private static partial void LogCreationFailed(ILogger logger, string names, string reason);
}

using Microsoft.Extensions.Logging;

namespace SandboxFunctions.Sandbox.Execution;

/// <summary>
/// A runtime known from its manifest while its module and files load in the background. Sandboxes wait for the
/// load; a load that fails is logged once, and from then on the runtime counts as unavailable.
/// </summary>
internal sealed partial class DeferredRuntime : IGuestRuntime, IDisposable
{
    private readonly Task<GuestRuntime> _loading;
    private readonly string _manifestPath;
    private readonly ILogger _logger;

    public DeferredRuntime(RuntimeInfo info, Task<GuestRuntime> loading, string manifestPath, ILogger logger)
    {
        Info = info;
        _loading = loading;
        _manifestPath = manifestPath;
        _logger = logger;
        _ = loading.ContinueWith(
            failed => LogRuntimeUnavailable(_logger, _manifestPath, failed.Exception!.GetBaseException().Message),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    public RuntimeInfo Info { get; }

    /// <summary>True once the load has failed.</summary>
    public bool Failed => _loading.IsFaulted;

    public async Task<SandboxInstance> CreateAsync(SandboxLimits limits, CancellationToken cancellationToken = default) =>
        await (await LoadedAsync().WaitAsync(cancellationToken).ConfigureAwait(false)).CreateAsync(limits, cancellationToken).ConfigureAwait(false);

    public async Task<SandboxInstance> RestoreAsync(ReadOnlyMemory<byte> snapshot, SandboxLimits limits, CancellationToken cancellationToken = default) =>
        await (await LoadedAsync().WaitAsync(cancellationToken).ConfigureAwait(false)).RestoreAsync(snapshot, limits, cancellationToken).ConfigureAwait(false);

    public async Task WarmUpAsync() => await (await LoadedAsync().ConfigureAwait(false)).WarmUpAsync().ConfigureAwait(false);

    /// <summary>The loaded runtime; a failed load surfaces as <see cref="SandboxException"/> of kind RuntimeUnavailable.</summary>
    public async Task<GuestRuntime> LoadedAsync()
    {
        try
        {
            return await _loading.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not SandboxException)
        {
            throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"The {Info.Language} runtime could not be loaded: {ex.Message}", ex);
        }
    }

    /// <summary>Waits for a load still running, which uses the engine that is disposed next, then disposes the runtime.</summary>
    public void Dispose()
    {
        ((IAsyncResult)_loading).AsyncWaitHandle.WaitOne();
        if (_loading.IsCompletedSuccessfully)
        {
            _loading.Result.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The guest runtime in {Manifest} cannot be used: {Reason}")]
    private static partial void LogRuntimeUnavailable(ILogger logger, string manifest, string reason);
}

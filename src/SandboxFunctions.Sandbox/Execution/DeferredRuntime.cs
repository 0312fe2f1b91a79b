namespace SandboxFunctions.Sandbox.Execution;

/// <summary>
/// A runtime known from its manifest while its module and files load in the background. Sandboxes wait for the
/// load; once a load has failed, the runtime counts as unavailable.
/// </summary>
internal sealed class DeferredRuntime(RuntimeInfo info, Task<GuestRuntime> loading) : IGuestRuntime, IDisposable
{
    private readonly Task<GuestRuntime> _loading = loading;

    public RuntimeInfo Info { get; } = info;

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
}

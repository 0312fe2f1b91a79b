namespace SandboxFunctions.Tools.Cancellation;

/// <summary>One execution registered with <see cref="RunningExecutions"/>; dispose it when the execution ends.</summary>
public sealed class RunningExecution : IAsyncDisposable
{
    private readonly RunningExecutions _registry;
    private readonly CancellationTokenSource _cancellation;

    internal RunningExecution(RunningExecutions registry, string owner, string sessionId, string? requestId, CancellationToken callerToken)
    {
        _registry = registry;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        Owner = owner;
        SessionId = sessionId;
        RequestId = requestId;
    }

    public string Owner { get; }

    public string SessionId { get; }

    public string? RequestId { get; }

    /// <summary>Cancelled when the caller goes away or anyone cancels the execution.</summary>
    public CancellationToken Token => _cancellation.Token;

    /// <summary>True when a cancel (not the caller going away) stopped the execution.</summary>
    public bool CancelRequested { get; private set; }

    internal Task Polling { get; set; } = Task.CompletedTask;

    internal void Cancel()
    {
        CancelRequested = true;
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _registry.Remove(this);
        try
        {
            await _cancellation.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }

        await Polling.ConfigureAwait(false);
        _cancellation.Dispose();
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SandboxFunctions.Sessions;

namespace SandboxFunctions.Tools.Cancellation;

/// <summary>
/// The executions running on this instance, so a cancel can reach them. A cancel stops a local execution at once
/// and is also written to storage, where executions running on other instances find it by polling.
/// </summary>
public sealed partial class RunningExecutions(SignalStore signals, TimeProvider time, ILogger<RunningExecutions> logger)
{
    /// <summary>How often a running execution looks for a cancel written by another instance.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentDictionary<RunningExecution, byte> _running = new();

    /// <summary>
    /// Reads which cancels of <paramref name="sessionId"/> and of the MCP request <paramref name="requestId"/> (if any) were
    /// already requested: those concern earlier work, and only later ones cancel the execution this prepares. A call
    /// starts this before it loads its session, so the reads overlap that work instead of delaying the execution.
    /// </summary>
    internal async Task<CancelBaseline> ReadBaselineAsync(string owner, string sessionId, string? requestId, CancellationToken cancellationToken)
    {
        List<SignalWatch> watches = [new(SignalStore.SessionKey(sessionId))];
        if (requestId is not null)
        {
            watches.Add(new(SignalStore.RequestKey(requestId)));
        }

        // Each read runs on its own, so that neither waits for the other nor holds up the caller's next step.
        await Task.WhenAll(watches.Select(watch => Task.Run(() => watch.CheckAsync(signals, logger, owner, cancellationToken), CancellationToken.None))).ConfigureAwait(false);
        return new CancelBaseline(owner, sessionId, requestId, watches);
    }

    /// <summary>Registers an execution. Its token is cancelled by the caller's token, a local cancel, or a cancel found in storage.</summary>
    internal RunningExecution Start(CancelBaseline baseline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        var execution = new RunningExecution(this, baseline.Owner, baseline.SessionId, baseline.RequestId, cancellationToken);
        _running.TryAdd(execution, 0);
        execution.Polling = PollAsync(execution, baseline.Watches);
        return execution;
    }

    /// <summary>Cancels the session's running execution wherever it runs; true when one was running on this instance.</summary>
    public async Task<bool> CancelSessionAsync(string owner, string sessionId, CancellationToken cancellationToken)
    {
        var local = CancelLocal(e => e.Owner == owner && e.SessionId == sessionId);
        await signals.RequestCancelAsync(owner, SignalStore.SessionKey(sessionId), cancellationToken).ConfigureAwait(false);
        return local;
    }

    /// <summary>Cancels the execution an MCP request started, wherever it runs; true when it was running on this instance.</summary>
    public async Task<bool> CancelRequestAsync(string owner, string requestId, CancellationToken cancellationToken)
    {
        if (CancelLocal(e => e.Owner == owner && e.RequestId == requestId))
        {
            return true;
        }

        await signals.RequestCancelAsync(owner, SignalStore.RequestKey(requestId), cancellationToken).ConfigureAwait(false);
        return false;
    }

    internal void Remove(RunningExecution execution) => _running.TryRemove(execution, out _);

    private bool CancelLocal(Func<RunningExecution, bool> match)
    {
        var any = false;
        foreach (var execution in _running.Keys.Where(match))
        {
            execution.Cancel();
            any = true;
        }

        return any;
    }

    private async Task PollAsync(RunningExecution execution, IReadOnlyList<SignalWatch> watches)
    {
        var token = execution.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                await Task.Delay(PollInterval, time, token).ConfigureAwait(false);
                foreach (var watch in watches)
                {
                    if (await watch.CheckAsync(signals, logger, execution.Owner, token).ConfigureAwait(false))
                    {
                        execution.Cancel();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    /// <summary>The cancels already requested when an execution was about to start.</summary>
    internal sealed record CancelBaseline(string Owner, string SessionId, string? RequestId, IReadOnlyList<SignalWatch> Watches);

    /// <summary>The last cancel request under one key, as first seen; a different one later means "cancel".</summary>
    internal sealed class SignalWatch(string key)
    {
        private bool _known;
        private string? _baseline;

        public async Task<bool> CheckAsync(SignalStore signals, ILogger logger, string owner, CancellationToken cancellationToken)
        {
            string? current;
            try
            {
                current = await signals.GetLastRequestAsync(owner, key, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Storage trouble must not stop the execution; it only delays a cancel from another instance.
                LogSignalReadFailed(logger, ex.Message);
                return false;
            }

            if (!_known)
            {
                (_known, _baseline) = (true, current);
                return false;
            }

            return current != _baseline;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read cancel signals: {Reason}")]
    private static partial void LogSignalReadFailed(ILogger logger, string reason);
}

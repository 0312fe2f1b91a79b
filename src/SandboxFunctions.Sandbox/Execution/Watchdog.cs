namespace SandboxFunctions.Sandbox.Execution;

/// <summary>
/// Enforces one call's deadline and its cancellation: first a soft interrupt the guest sees as an exception,
/// then, after a grace period, a hard one that stops the guest wherever it is.
/// </summary>
internal sealed class Watchdog : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Action _soft;
    private readonly Action _hard;
    private readonly TimeSpan _grace;
    private readonly TimeProvider _time;
    private readonly ITimer _softTimer;
    private ITimer? _hardTimer;
    private readonly CancellationTokenRegistration _cancellation;
    private bool _finished;

    public Watchdog(TimeProvider time, TimeSpan timeout, TimeSpan grace, Action soft, Action hard, CancellationToken cancellationToken)
    {
        _time = time;
        _grace = grace;
        _soft = soft;
        _hard = hard;
        _softTimer = time.CreateTimer(_ => Stop(cancelled: false), null, timeout, Timeout.InfiniteTimeSpan);
        _cancellation = cancellationToken.Register(() => Stop(cancelled: true));
    }

    public bool TimedOut { get; private set; }

    public bool Cancelled { get; private set; }

    public bool HardInterrupted { get; private set; }

    /// <summary>Marks the call as finished, so that no interrupt lands on an idle guest.</summary>
    public void Finish()
    {
        lock (_gate)
        {
            _finished = true;
        }
    }

    public void Dispose()
    {
        Finish();
        _softTimer.Dispose();
        _hardTimer?.Dispose();
        _cancellation.Dispose();
    }

    private void Stop(bool cancelled)
    {
        lock (_gate)
        {
            if (_finished || TimedOut || Cancelled)
            {
                return;
            }

            TimedOut = !cancelled;
            Cancelled = cancelled;
            _soft();
            _hardTimer = _time.CreateTimer(_ => Hard(), null, _grace, Timeout.InfiniteTimeSpan);
        }
    }

    private void Hard()
    {
        lock (_gate)
        {
            if (_finished)
            {
                return;
            }

            HardInterrupted = true;
            _hard();
        }
    }
}

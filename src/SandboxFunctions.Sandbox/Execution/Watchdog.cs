namespace SandboxFunctions.Sandbox.Execution;

/// <summary>
/// Enforces one call's deadline and its cancellation: first a soft interrupt the guest sees as an exception,
/// then, once the guest has had the grace period to wind up, a hard one that stops it wherever it is. The grace is
/// counted in processor time the guest's thread got, when that can be read: a guest waiting for a core is not
/// stopped for taking long. So that a guest can never run on for long regardless, the hard stop comes at the latest
/// after ten times the grace (or a second, if that is more) of wall-clock time.
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
    private Func<TimeSpan?>? _guestTime;
    private TimeSpan? _guestTimeAtSoft;
    private long _softAt;
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

    /// <summary>Reads the processor time of the thread that runs the guest, once it runs.</summary>
    public void MeasureGuestTime(Func<TimeSpan?> guestTime)
    {
        lock (_gate)
        {
            _guestTime = guestTime;
        }
    }

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
            _softAt = _time.GetTimestamp();
            _guestTimeAtSoft = _guestTime?.Invoke();
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

            var ran = _guestTimeAtSoft is { } before && _guestTime?.Invoke() is { } now ? now - before : (TimeSpan?)null;
            var waited = _time.GetElapsedTime(_softAt);
            var latest = TimeSpan.FromTicks(Math.Max(_grace.Ticks * 10, TimeSpan.TicksPerSecond));
            if (ran < _grace && waited < latest)
            {
                var next = TimeSpan.FromTicks(Math.Min((_grace - ran.Value).Ticks, (latest - waited).Ticks));
                _hardTimer?.Change(TimeSpan.FromTicks(Math.Max(next.Ticks, TimeSpan.TicksPerMillisecond)), Timeout.InfiniteTimeSpan);
                return;
            }

            HardInterrupted = true;
            _hard();
        }
    }
}

namespace SandboxFunctions.Sandbox.Execution;

/// <summary>
/// Dedicated threads with large native stacks for guest code. Deep guest recursion must end in the
/// interpreter's own error or a stack-overflow trap, never in a native stack overflow, which would end the
/// process: Wasmtime's stack limit is a fraction of these threads' stacks.
/// </summary>
/// <remarks>
/// An idle thread sleeps in <see cref="Monitor.Wait(object)"/>, which blocks at once: waiting on a task would spin
/// first, and on a small instance that spinning takes the CPU the calls in flight need.
/// </remarks>
internal sealed class GuestThreadPool : IDisposable
{
    private readonly Queue<WorkItem> _queue = new();
    private readonly int _maxThreads;
    private readonly int _maxQueued;
    private readonly int _stackBytes;
    private readonly object _gate = new();
    private int _threads;
    private int _idle;
    private int _queued;
    private bool _closed;

    public GuestThreadPool(int maxThreads, int maxQueued, int stackBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxThreads, 1);
        _maxThreads = maxThreads;
        _maxQueued = maxQueued;
        _stackBytes = stackBytes;
    }

    public int MaxThreads => _maxThreads;

    /// <summary>
    /// Runs work on a guest thread. With <paramref name="refuseWhenBusy"/> (for executions) it refuses with
    /// <see cref="SandboxErrorKind.Busy"/> when too much is already waiting; housekeeping such as booting and
    /// restoring always waits its turn.
    /// </summary>
    public Task<T> RunAsync<T>(Func<T> work, bool refuseWhenBusy = false)
    {
        var item = new WorkItem<T>(work);
        lock (_gate)
        {
            // Work waits only when no thread is idle and no new one may start; at most _maxQueued may wait.
            var startable = _maxThreads - _threads;
            var waiting = _queued + 1 - _idle - startable;
            if (refuseWhenBusy && waiting > _maxQueued)
            {
                throw new SandboxException(SandboxErrorKind.Busy,
                    $"This instance is already running {_threads - _idle} executions with {_queued - _idle} waiting; try again shortly.");
            }

            if (_queued + 1 > _idle && startable > 0)
            {
                StartThread();
            }

            _queued++;
            _queue.Enqueue(item);
            Monitor.Pulse(_gate);
        }

        return item.Task;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }
    }

    private void StartThread()
    {
        _threads++;
        var thread = new Thread(Work, _stackBytes) { IsBackground = true, Name = $"sandbox-guest-{_threads}" };
        thread.Start();
    }

    private void Work()
    {
        while (true)
        {
            WorkItem item;
            lock (_gate)
            {
                _idle++;
                while (_queue.Count == 0)
                {
                    if (_closed)
                    {
                        return;
                    }

                    Monitor.Wait(_gate);
                }

                item = _queue.Dequeue();
                _idle--;
                _queued--;
            }

            item.Run();
        }
    }

    private abstract class WorkItem
    {
        public abstract void Run();
    }

    private sealed class WorkItem<T>(Func<T> work) : WorkItem
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _completion.Task;

        public override void Run()
        {
            try
            {
                _completion.TrySetResult(work());
            }
            catch (Exception ex)
            {
                _completion.TrySetException(ex);
            }
        }
    }
}

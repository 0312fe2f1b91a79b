using System.Diagnostics;
using System.Text;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sandbox.Interop;
using SandboxFunctions.Sandbox.Snapshots;

namespace SandboxFunctions.Sandbox;

/// <summary>
/// A live guest: an interpreter with its memory, globals and workspace files. Runs one call at a time.
/// A call that traps, or that has to be stopped hard, leaves the sandbox at its last checkpoint (the
/// last snapshot taken or restored), never in a half-broken state. The host never waits on a guest past
/// its deadline: a hard stop ends any guest code, loops inside the interpreter's C code included.
/// </summary>
public sealed class SandboxInstance : IAsyncDisposable
{
    private readonly GuestRuntime _runtime;
    private readonly BaseImage _image;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private GuestContext _context;
    /// <summary>The last snapshot taken or restored, compressed: a rollback is rare, and decompressing it is cheap.</summary>
    private ReadOnlyMemory<byte>? _checkpoint;
    private bool _disposed;

    internal SandboxInstance(GuestRuntime runtime, BaseImage image, GuestContext context, SandboxLimits limits, ReadOnlyMemory<byte>? checkpoint)
    {
        _runtime = runtime;
        _image = image;
        _context = context;
        _checkpoint = checkpoint;
        Limits = limits;
        Workspace = new SandboxWorkspace(this);
    }

    public RuntimeInfo Runtime => _runtime.Info;

    public SandboxLimits Limits { get; }

    /// <summary>The guest's linear memory in bytes; it only grows, so this is also its peak.</summary>
    public long MemoryBytes => _context.Instance.Memory.Size;

    /// <summary>The files under /workspace, for the host to read and write between calls.</summary>
    public SandboxWorkspace Workspace { get; }

    internal GuestContext Context => _context;

    public async Task<ExecutionResult> ExecuteAsync(ExecutionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var codeBytes = Encoding.UTF8.GetByteCount(request.Code);
        if (codeBytes > Limits.CodeBytes)
        {
            throw new SandboxException(SandboxErrorKind.CodeTooLarge,
                $"The code is {codeBytes} bytes; the limit is {Limits.CodeBytes} bytes. Put large data in a workspace file and read it from the code.");
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return await ExecuteExclusiveAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The sandbox's complete state as bytes, which also becomes the point a failed call returns to.</summary>
    public async Task<byte[]> CaptureSnapshotAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var snapshot = SnapshotCodec.Write(_context, _image, Runtime);
            _checkpoint = snapshot;
            return snapshot;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Begins a new call: data volumes under /data are listed afresh when first looked at, so changes at their source show.</summary>
    public Task RefreshDataVolumesAsync(CancellationToken cancellationToken = default) =>
        WithExclusiveAccessAsync(context =>
        {
            context.Files.RefreshDataVolumes();
            return true;
        }, cancellationToken);

    /// <summary>Runs an operation on the guest's state while no call is running.</summary>
    internal async Task<T> WithExclusiveAccessAsync<T>(Func<GuestContext, T> operation, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return operation(_context);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_disposed)
            {
                _disposed = true;
                _context.Dispose();
            }
        }
        finally
        {
            _gate.Release();
        }

        _gate.Dispose();
    }

    private async Task<ExecutionResult> ExecuteExclusiveAsync(ExecutionRequest request, CancellationToken cancellationToken)
    {
        var context = _context;
        var stdout = new OutputCapture(Limits.StdoutBytes, Limits.RetainedOutputBytes);
        var stderr = new OutputCapture(Limits.StderrBytes, Limits.RetainedOutputBytes);
        if (request.OnOutput is { } onOutput)
        {
            stdout.OnWrite = data => onOutput(new OutputChunk(OutputKind.Stdout, data));
            stderr.OnWrite = data => onOutput(new OutputChunk(OutputKind.Stderr, data));
        }

        context.Wasi.Stdin = request.Stdin;
        context.Wasi.Stdout = stdout;
        context.Wasi.Stderr = stderr;
        context.Wasi.OutputHardLimit = Limits.OutputHardLimitBytes;
        context.Wasi.Interrupted.Reset();
        context.InterruptRequested = false;
        context.Files.LastLimitViolation = null;

        var started = Stopwatch.GetTimestamp();
        using var watchdog = new Watchdog(
            _runtime.Time,
            request.Timeout,
            Limits.GraceFor(request.Timeout),
            soft: () =>
            {
                context.InterruptRequested = true;
                _runtime.RequestSoftInterrupt(context);
                context.Wasi.Interrupted.Set();
            },
            hard: context.Instance.Interrupt,
            cancellationToken);

        var run = _runtime.Pool.RunAsync(() =>
        {
            watchdog.MeasureGuestTime(GuestThreadClock.OfCurrentThread().Read);
            return _runtime.Run(context, request);
        }, refuseWhenBusy: true);
        GuestOutcome? outcome = null;
        SandboxTrapException? trap = null;
        try
        {
            outcome = await run.ConfigureAwait(false);
        }
        catch (SandboxTrapException ex)
        {
            trap = ex;
        }
        finally
        {
            watchdog.Finish();
        }

        var memoryAtCap = context.Instance.Memory.Pages >= context.Instance.MaxPages;
        if (trap is not null)
        {
            var memoryBytes = (long)context.Instance.Memory.Pages * GuestMemory.PageSize;
            await RollBackAsync(context).ConfigureAwait(false);
            var (status, message) = Classify(trap, watchdog, memoryAtCap, request.Timeout);
            return Finish(status, guest: null, rolledBack: true, message + " The sandbox went back to its last saved state.", memoryBytes);
        }

        if (watchdog.HardInterrupted)
        {
            context.Instance.ClearInterrupt();
        }

        if (watchdog.TimedOut)
        {
            return Finish(ExecutionStatus.Timeout, outcome, rolledBack: false,
                $"The code ran past its {Describe(request.Timeout)} timeout and was interrupted; what it did before that is kept.");
        }

        if (watchdog.Cancelled)
        {
            return Finish(ExecutionStatus.Cancelled, outcome, rolledBack: false, "The execution was cancelled; what it did before that is kept.");
        }

        if (outcome!.OutOfMemory)
        {
            return Finish(ExecutionStatus.MemoryLimit, outcome, rolledBack: false,
                $"The code ran out of memory: the sandbox may use {Limits.MemoryBytes / (1024 * 1024)} MiB. Work on smaller pieces of data, or use a larger flavor.");
        }

        var fileNote = context.Files.LastLimitViolation is { } violation ? $"A file operation was refused because {violation}." : null;
        return Finish(outcome.Error is null ? ExecutionStatus.Ok : ExecutionStatus.Error, outcome, rolledBack: false, fileNote);

        ExecutionResult Finish(ExecutionStatus status, GuestOutcome? guest, bool rolledBack, string? message, long? memoryBytes = null)
        {
            context.Wasi.Stdin = default;
            context.Wasi.Stdout = null;
            context.Wasi.Stderr = null;
            return new ExecutionResult
            {
                Status = status,
                Stdout = stdout.GetText(),
                Stderr = stderr.GetText(),
                StdoutTruncated = stdout.Truncated,
                StderrTruncated = stderr.Truncated,
                StdoutBytes = stdout.TotalBytes,
                StderrBytes = stderr.TotalBytes,
                FullStdout = stdout.Truncated && !stdout.RetentionExceeded ? stdout.GetRetainedText() : null,
                FullStderr = stderr.Truncated && !stderr.RetentionExceeded ? stderr.GetRetainedText() : null,
                Result = guest?.Result,
                Error = guest?.Error,
                Message = message,
                Duration = Stopwatch.GetElapsedTime(started),
                MemoryBytes = memoryBytes ?? _context.Instance.Memory.Size,
                StateRolledBack = rolledBack,
            };
        }
    }

    private (ExecutionStatus Status, string Message) Classify(SandboxTrapException trap, Watchdog watchdog, bool memoryAtCap, TimeSpan timeout)
    {
        if (watchdog.TimedOut)
        {
            return (ExecutionStatus.Timeout, $"The code ran past its {Describe(timeout)} timeout and was stopped.");
        }

        if (watchdog.Cancelled)
        {
            return (ExecutionStatus.Cancelled, "The execution was cancelled and stopped.");
        }

        return trap.TrapCode switch
        {
            TrapCode.OutputLimit => (ExecutionStatus.OutputLimit,
                $"The code wrote more than {Limits.OutputHardLimitBytes / (1024 * 1024)} MiB of output and was stopped. Write large results to a file instead of printing them."),
            TrapCode.Exit => (ExecutionStatus.Error, $"The interpreter exited with status {trap.ExitCode}."),
            _ when memoryAtCap => (ExecutionStatus.MemoryLimit,
                $"The code ran out of memory: the sandbox may use {Limits.MemoryBytes / (1024 * 1024)} MiB, and the interpreter could not recover."),
            TrapCode.StackExhausted => (ExecutionStatus.Crashed,
                "The code recursed so deeply that the interpreter's native stack ran out. Reduce the recursion depth."),
            TrapCode.OutOfBounds => (ExecutionStatus.Crashed,
                "The interpreter crashed with an out-of-bounds memory access, usually because the code recursed too deeply for the interpreter's own stack (e.g. after raising the recursion limit). Reduce the recursion depth."),
            _ => (ExecutionStatus.Crashed, $"The interpreter stopped abnormally: {trap.Message}"),
        };
    }

    private async Task RollBackAsync(GuestContext failed)
    {
        var checkpoint = _checkpoint is { } saved ? SnapshotCodec.Read(saved.Span, Runtime, _image, Limits) : null;
        _context = await _runtime.Pool.RunAsync(() => _runtime.Materialize(_image, checkpoint, Limits)).ConfigureAwait(false);
        failed.Dispose();
    }

    private static string Describe(TimeSpan timeout) =>
        timeout.TotalSeconds >= 1 ? $"{timeout.TotalSeconds:0.###} s" : $"{timeout.TotalMilliseconds:0} ms";
}

using SandboxFunctions.Sandbox.Vfs;

namespace SandboxFunctions.Sandbox.Execution;

/// <summary>What one sandbox may use. Every limit ends in its own error that names it and its value.</summary>
public sealed record SandboxLimits
{
    public static SandboxLimits Default { get; } = new();

    /// <summary>Guest linear memory, in bytes (rounded down to 64 KiB pages).</summary>
    public long MemoryBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>stdout kept in the result; more is counted and marked as truncated.</summary>
    public long StdoutBytes { get; init; } = 64 * 1024;

    /// <summary>stderr kept in the result; more is counted and marked as truncated.</summary>
    public long StderrBytes { get; init; } = 64 * 1024;

    /// <summary>Output retained in full for callers that keep it elsewhere when the result is truncated.</summary>
    public long RetainedOutputBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Output after which the code is stopped, so a flood cannot run until the timeout.</summary>
    public long OutputHardLimitBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>Largest source accepted, in UTF-8 bytes.</summary>
    public int CodeBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// The most time code may take to wind up after a soft timeout (a catchable exception) before it is stopped
    /// hard. The grace is 5% of the timeout, at least 100 ms, and never more than this.
    /// </summary>
    public TimeSpan HardTimeoutGrace { get; init; } = TimeSpan.FromSeconds(1);

    public VfsLimits Files { get; init; } = VfsLimits.Default;

    /// <summary>The data volumes the sandbox sees under /data, by name; null for every volume the engine has.</summary>
    public IReadOnlySet<string>? DataVolumes { get; init; }

    internal TimeSpan GraceFor(TimeSpan timeout) =>
        TimeSpan.FromTicks(Math.Min(Math.Max(timeout.Ticks / 20, TimeSpan.TicksPerMillisecond * 100), HardTimeoutGrace.Ticks));
}

using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Tools.Shell;

/// <param name="Timeout">The whole command line's time; each python or node step gets what is left of it.</param>
/// <param name="StdoutBytes">stdout kept in the result; more is counted and marked truncated.</param>
/// <param name="StderrBytes">stderr kept in the result; more is counted and marked truncated.</param>
/// <param name="OutputHardLimitBytes">Output (stdout and stderr) after which the command line is stopped.</param>
/// <param name="PipeBytes">The most one pipe, redirection or input file may carry.</param>
internal sealed record ShellLimits(TimeSpan Timeout, long StdoutBytes, long StderrBytes, long OutputHardLimitBytes, long PipeBytes)
{
    /// <summary>Arguments one command may receive in all, after expansion (globs can expand a lot).</summary>
    public const int MaxArgumentBytes = 1024 * 1024;

    /// <summary>The limits that go with a sandbox: its output limits, and its workspace size for pipes.</summary>
    public static ShellLimits For(SandboxLimits limits, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return new(timeout, limits.StdoutBytes, limits.StderrBytes, limits.OutputHardLimitBytes, limits.Files.MaxTotalBytes);
    }
}

/// <summary>What a command line did: its status and output, and whether it stopped at a limit.</summary>
internal sealed record ShellOutcome(
    int ExitCode,
    ShellText Stdout,
    ShellText Stderr,
    TimeSpan Duration,
    int Executions,
    bool WorkspaceChanged,
    ShellStopReason? StopReason = null,
    string? StopMessage = null,
    bool StateRolledBack = false);

internal sealed record ShellText(string Text, bool Truncated, long TotalBytes);

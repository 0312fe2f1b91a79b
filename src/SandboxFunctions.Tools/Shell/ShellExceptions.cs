namespace SandboxFunctions.Tools.Shell;

/// <summary>A command line that cannot be run as written: malformed, or using shell syntax this interpreter does not have.</summary>
internal sealed class ShellSyntaxException(string message, bool unsupported = false) : Exception(message)
{
    /// <summary>True when the syntax is valid shell but not supported here (e.g. <c>$(...)</c>), rather than malformed.</summary>
    public bool Unsupported { get; } = unsupported;
}

/// <summary>Ends the whole command line because it reached one of its limits.</summary>
internal sealed class ShellStopException(ShellStopReason reason, string message, bool stateRolledBack = false) : Exception(message)
{
    public ShellStopReason Reason { get; } = reason;

    public static ShellStopException TimedOut(TimeSpan timeout) =>
        new(ShellStopReason.Timeout, $"The command line ran past its {timeout.TotalSeconds:0.###} s timeout and was stopped.");

    public bool StateRolledBack { get; } = stateRolledBack;
}

/// <summary>The <c>exit</c> builtin: ends the command line with a status.</summary>
internal sealed class ShellExitException(int status) : Exception($"exit {status}")
{
    public int Status { get; } = status;
}

internal enum ShellStopReason
{
    Timeout,
    Cancelled,
    OutputLimit,
    PipelineLimit,
    WorkspaceLimit,
    MemoryLimit,
    InterpreterCrashed,
}

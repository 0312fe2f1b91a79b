using System.Text.Json;

namespace SandboxFunctions.Sandbox.Execution;

public enum ExecutionStatus
{
    /// <summary>The code ran to completion.</summary>
    Ok,

    /// <summary>The code raised an exception (see <see cref="ExecutionResult.Error"/>); the sandbox state is kept.</summary>
    Error,

    /// <summary>The code ran past its timeout and was stopped.</summary>
    Timeout,

    /// <summary>The code needed more memory than the sandbox may use.</summary>
    MemoryLimit,

    /// <summary>The code wrote more output than the hard output limit.</summary>
    OutputLimit,

    /// <summary>The caller cancelled the execution.</summary>
    Cancelled,

    /// <summary>The interpreter itself failed (e.g. native stack exhausted or aborted).</summary>
    Crashed,
}

/// <summary>A value the code produced: its printable form, its JSON form when it has one, and its type.</summary>
public sealed record GuestValue(string Repr, JsonElement? Json, string Type);

/// <summary>An exception the code raised, as the language would print it.</summary>
public sealed record GuestError(string Type, string Message, string? Traceback);

public sealed record ExecutionResult
{
    public required ExecutionStatus Status { get; init; }

    public string Stdout { get; init; } = string.Empty;

    public string Stderr { get; init; } = string.Empty;

    public bool StdoutTruncated { get; init; }

    public bool StderrTruncated { get; init; }

    public long StdoutBytes { get; init; }

    public long StderrBytes { get; init; }

    /// <summary>The full stdout when it was truncated in <see cref="Stdout"/> and small enough to keep.</summary>
    public string? FullStdout { get; init; }

    /// <summary>The full stderr when it was truncated in <see cref="Stderr"/> and small enough to keep.</summary>
    public string? FullStderr { get; init; }

    public GuestValue? Result { get; init; }

    public GuestError? Error { get; init; }

    /// <summary>What the sandbox has to say about the outcome, e.g. which limit was hit and what happened to the state.</summary>
    public string? Message { get; init; }

    public TimeSpan Duration { get; init; }

    /// <summary>Guest memory at the end of the call; linear memory never shrinks, so this is also its peak.</summary>
    public long MemoryBytes { get; init; }

    /// <summary>True when the call trapped and the sandbox went back to its last checkpoint.</summary>
    public bool StateRolledBack { get; init; }
}

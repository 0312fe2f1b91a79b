namespace SandboxFunctions.Sandbox;

/// <summary>A failure of the sandbox itself, or a request it refuses. Messages are safe to show callers.</summary>
public class SandboxException : Exception
{
    public SandboxException()
    {
    }

    public SandboxException(string message)
        : base(message)
    {
    }

    public SandboxException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public SandboxException(SandboxErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public SandboxErrorKind Kind { get; } = SandboxErrorKind.Internal;
}

/// <summary>A guest call that trapped; the instance that trapped must not be used again.</summary>
public sealed class SandboxTrapException : SandboxException
{
    public SandboxTrapException(TrapCode trapCode, string message, Exception? innerException = null)
        : base(SandboxErrorKind.Trap, message, innerException)
    {
        TrapCode = trapCode;
    }

    public SandboxTrapException()
    {
    }

    public SandboxTrapException(string message)
        : base(message)
    {
    }

    public SandboxTrapException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public TrapCode TrapCode { get; }

    /// <summary>The exit status when <see cref="TrapCode"/> is <see cref="TrapCode.Exit"/>.</summary>
    public int? ExitCode { get; init; }
}

public enum SandboxErrorKind
{
    Internal,
    Trap,
    CodeTooLarge,
    Busy,
    RuntimeUnavailable,
    SnapshotInvalid,
    SnapshotFromOtherBuild,
    MemoryLimitTooSmall,
    Workspace,
}

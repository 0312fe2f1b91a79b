using System.ComponentModel;

namespace SandboxFunctions.Tools;

/// <summary>A failure as a model sees it: a stable code, what went wrong, and what to do next.</summary>
public sealed record ToolError(
    [property: Description("Stable UPPER_SNAKE_CASE error code, e.g. SESSION_NOT_FOUND or TIMEOUT.")] string Code,
    [property: Description("What went wrong, in plain words.")] string Message,
    [property: Description("What to do next.")] IReadOnlyList<string> Suggestions)
{
    [Description("For CODE_ERROR: the exception type the code raised, e.g. ValueError or TypeError.")]
    public string? Type { get; init; }

    [Description("For CODE_ERROR: the traceback or stack, showing only the code's own frames.")]
    public string? Traceback { get; init; }
}

/// <summary>Thrown inside the tools to end a call with a <see cref="ToolError"/>.</summary>
public sealed class ToolFailureException : Exception
{
    public ToolFailureException(ToolError error, Exception? innerException = null)
        : base(error?.Message, innerException)
    {
        Error = error!;
    }

    public ToolFailureException()
    {
        Error = new ToolError("INTERNAL_ERROR", "The server failed.", []);
    }

    public ToolFailureException(string message)
        : base(message)
    {
        Error = new ToolError("INTERNAL_ERROR", message, []);
    }

    public ToolFailureException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Error = new ToolError("INTERNAL_ERROR", message, []);
    }

    public ToolError Error { get; }
}

using System.Text.Json;

namespace SandboxFunctions.Sandbox.Execution;

/// <summary>Code to run in a sandbox.</summary>
/// <param name="Code">The source, run like a notebook cell: the value of a final expression is the result.</param>
public sealed record ExecutionRequest(string Code)
{
    /// <summary>Wall-clock time the code may run before it gets a timeout.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>When set, the code is run as a handler: it defines <c>handler(event, context)</c>, which is called with this event.</summary>
    public JsonElement? Event { get; init; }

    /// <summary>Identifies the call in tracebacks (e.g. <c>&lt;cell 3&gt;</c>) and to the handler's context.</summary>
    public string Name { get; init; } = "<cell>";

    /// <summary>What the code reads from standard input; empty by default.</summary>
    public ReadOnlyMemory<byte> Stdin { get; init; }

    /// <summary>Receives output as the guest writes it, on the guest's thread. Must not block.</summary>
    public Action<OutputChunk>? OnOutput { get; init; }
}

public sealed record OutputChunk(OutputKind Kind, ReadOnlyMemory<byte> Data);

public enum OutputKind
{
    Stdout,
    Stderr,
}

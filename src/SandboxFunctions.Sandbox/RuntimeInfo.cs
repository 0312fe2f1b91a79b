namespace SandboxFunctions.Sandbox;

/// <summary>Describes a guest runtime that the engine can run code in.</summary>
/// <param name="Language">The language name callers use to select the runtime, e.g. <c>python</c>.</param>
/// <param name="Version">The language version the runtime implements.</param>
/// <param name="Engine">The interpreter and how it is executed.</param>
/// <param name="BuildId">Identifies the exact runtime build; snapshots are only valid within one build.</param>
/// <param name="Packages">Packages that ship with the runtime, as <c>name==version</c>.</param>
public sealed record RuntimeInfo(
    string Language,
    string Version,
    string Engine,
    string BuildId,
    IReadOnlyList<string> Packages);

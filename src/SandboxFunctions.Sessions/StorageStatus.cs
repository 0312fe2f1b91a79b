namespace SandboxFunctions.Sessions;

/// <summary>Whether the session store can be reached, without revealing where it is or how to reach it.</summary>
/// <param name="Kind">The kind of store, e.g. <c>file</c> or <c>azure</c>.</param>
/// <param name="Reachable">Whether a probe write and read succeeded.</param>
/// <param name="Error">A short reason when it cannot be reached.</param>
public sealed record StorageStatus(string Kind, bool Reachable, string? Error = null);

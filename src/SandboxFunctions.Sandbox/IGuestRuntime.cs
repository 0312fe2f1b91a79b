using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Sandbox;

/// <summary>A guest runtime registered with the engine: creates sandboxes and brings saved ones back.</summary>
public interface IGuestRuntime
{
    RuntimeInfo Info { get; }

    /// <summary>A new sandbox, copied from the runtime's base image (the interpreter already started).</summary>
    Task<SandboxInstance> CreateAsync(SandboxLimits limits, CancellationToken cancellationToken = default);

    /// <summary>A sandbox in exactly the state a snapshot of this runtime build recorded.</summary>
    Task<SandboxInstance> RestoreAsync(ReadOnlyMemory<byte> snapshot, SandboxLimits limits, CancellationToken cancellationToken = default);
}

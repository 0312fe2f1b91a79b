namespace SandboxFunctions.Sandbox;

/// <summary>A guest runtime registered with the engine.</summary>
public interface IGuestRuntime
{
    RuntimeInfo Info { get; }
}

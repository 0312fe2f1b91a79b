namespace SandboxFunctions.Sessions;

/// <summary>Where session state is kept.</summary>
public sealed class SessionStorageOptions
{
    /// <summary>The folder of the embedded store, used when no storage account is configured.</summary>
    public string DataPath { get; set; } = ".sandbox-data";
}

namespace SandboxFunctions.Host.Http;

/// <summary>The MCP protocol revisions the server speaks over HTTP.</summary>
internal static class McpProtocolVersions
{
    /// <summary>Revisions with the initialize handshake, oldest first.</summary>
    public static readonly string[] Handshake = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

    /// <summary>Revisions in which every request carries its own protocol version and client capabilities.</summary>
    public static readonly string[] PerRequestMetadata = ["2026-07-28"];

    public static readonly string[] Supported = [.. Handshake, .. PerRequestMetadata];

    public static bool IsSupported(string version) => Supported.Contains(version, StringComparer.Ordinal);

    public static bool RequiresPerRequestMetadata(string? version) =>
        version is not null && PerRequestMetadata.Contains(version, StringComparer.Ordinal);
}

namespace SandboxFunctions.Sessions;

/// <summary>Keys that protect snapshots at rest, bound from the <c>Snapshots</c> section.</summary>
public sealed class SnapshotProtectionOptions
{
    public const string SectionName = "Snapshots";

    /// <summary>Base64 key (at least 32 bytes) for the HMAC-SHA256 that every snapshot carries. Without one, snapshots are only checksummed.</summary>
    public string? SigningKey { get; set; }

    /// <summary>Base64 AES-256 key (32 bytes); when set, snapshots are encrypted with AES-GCM.</summary>
    public string? EncryptionKey { get; set; }

    /// <summary>Comma-separated keys that snapshots written before a rotation may still be signed or encrypted with.</summary>
    public string? PreviousKeys { get; set; }
}

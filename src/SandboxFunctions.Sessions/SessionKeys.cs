using System.Buffers.Text;
using System.Text;

namespace SandboxFunctions.Sessions;

/// <summary>
/// How session ids appear in storage. Caller-chosen ids may contain characters that table keys and blob
/// names forbid, so they are stored base64url-encoded, which is reversible and safe in both.
/// </summary>
internal static class SessionKeys
{
    public static string RowKey(string sessionId) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(sessionId));

    public static string SessionId(string rowKey) => Encoding.UTF8.GetString(Base64Url.DecodeFromChars(rowKey));

    public static string SnapshotPrefix(string owner, string sessionId) => $"{owner}/{RowKey(sessionId)}/";

    public static string SnapshotName(string owner, string sessionId, long version) =>
        $"{SnapshotPrefix(owner, sessionId)}{version:D12}-{Guid.NewGuid():N}.snap";

    /// <summary>Splits a snapshot blob name into the owner and row key it belongs to.</summary>
    public static bool TryParseSnapshotName(string name, out string owner, out string rowKey)
    {
        var parts = name.Split('/');
        owner = parts.Length == 3 ? parts[0] : string.Empty;
        rowKey = parts.Length == 3 ? parts[1] : string.Empty;
        return parts.Length == 3 && owner.Length > 0 && rowKey.Length > 0;
    }
}

using Azure;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// A row of a table: its keys and properties. Property values are <see cref="string"/>, <see cref="long"/>,
/// <see cref="int"/>, <see cref="double"/>, <see cref="bool"/> or <see cref="DateTimeOffset"/>; other types are refused.
/// </summary>
public sealed record StorageEntity(string PartitionKey, string RowKey)
{
    public IReadOnlyDictionary<string, object?> Properties { get; init; } = new Dictionary<string, object?>();

    /// <summary>The version read from the store; <see cref="ETag.All"/> or default when not read from a store.</summary>
    public ETag ETag { get; init; }

    public DateTimeOffset? Timestamp { get; init; }

    public string? GetString(string name) => Properties.TryGetValue(name, out var value) ? value as string : null;

    public long? GetInt64(string name) => Properties.TryGetValue(name, out var value) ? value switch
    {
        long l => l,
        int i => i,
        _ => null,
    } : null;

    public bool? GetBoolean(string name) => Properties.TryGetValue(name, out var value) ? value as bool? : null;

    public DateTimeOffset? GetDateTimeOffset(string name) => Properties.TryGetValue(name, out var value) ? value as DateTimeOffset? : null;

    public double? GetDouble(string name) => Properties.TryGetValue(name, out var value) ? value switch
    {
        double d => d,
        long l => l,
        int i => i,
        _ => null,
    } : null;
}

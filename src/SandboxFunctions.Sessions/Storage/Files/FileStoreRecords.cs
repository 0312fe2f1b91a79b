using System.Globalization;
using System.Text.Json.Serialization;
using Azure;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>An entity as one file: keys, version, and each property with its type so every value reads back as written.</summary>
internal sealed record EntityFile(
    string PartitionKey,
    string RowKey,
    string ETag,
    DateTimeOffset Timestamp,
    Dictionary<string, TypedValue> Properties)
{
    public static EntityFile From(StorageEntity entity, ETag etag, DateTimeOffset timestamp)
    {
        var properties = new Dictionary<string, TypedValue>(StringComparer.Ordinal);
        foreach (var (name, value) in entity.Properties)
        {
            if (value is not null)
            {
                properties[name] = TypedValue.From(value);
            }
        }

        return new EntityFile(entity.PartitionKey, entity.RowKey, etag.ToString(), timestamp, properties);
    }

    public StorageEntity ToEntity() => new(PartitionKey, RowKey)
    {
        Properties = Properties.ToDictionary(pair => pair.Key, pair => (object?)pair.Value.ToValue(), StringComparer.Ordinal),
        ETag = new ETag(ETag),
        Timestamp = Timestamp,
    };
}

internal sealed record TypedValue(string Type, string Value)
{
    public static TypedValue From(object value) => value switch
    {
        string text => new("String", text),
        long number => new("Int64", number.ToString(CultureInfo.InvariantCulture)),
        int number => new("Int32", number.ToString(CultureInfo.InvariantCulture)),
        double number => new("Double", number.ToString("R", CultureInfo.InvariantCulture)),
        bool flag => new("Boolean", flag ? "true" : "false"),

        // Kept in UTC, as the table service keeps it.
        DateTimeOffset time => new("DateTime", time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)),
        _ => throw new ArgumentException($"Unsupported property type {value.GetType().Name}.", nameof(value)),
    };

    public object ToValue() => Type switch
    {
        "String" => Value,
        "Int64" => long.Parse(Value, NumberStyles.Integer, CultureInfo.InvariantCulture),
        "Int32" => int.Parse(Value, NumberStyles.Integer, CultureInfo.InvariantCulture),
        "Double" => double.Parse(Value, NumberStyles.Float, CultureInfo.InvariantCulture),
        "Boolean" => Value == "true",
        "DateTime" => DateTimeOffset.Parse(Value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
        _ => throw new StorageException(StorageErrorKind.Failed, $"The file store holds a property of unknown type '{Type}'."),
    };
}

/// <summary>What a blob file says about itself, ahead of its content.</summary>
internal sealed record BlobFileHeader(string Name, string ETag, DateTimeOffset LastModified, long Size, Dictionary<string, string> Metadata);

internal sealed record MessageFile(string Id, string PopReceipt, long DequeueCount, string Text, DateTimeOffset InsertedOn, DateTimeOffset VisibleOn);

[JsonSerializable(typeof(EntityFile))]
[JsonSerializable(typeof(BlobFileHeader))]
[JsonSerializable(typeof(MessageFile))]
internal sealed partial class FileStoreJsonContext : JsonSerializerContext;

using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Azure;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// Entities in the Table service's JSON format. Types JSON cannot tell apart travel with an
/// <c>@odata.type</c> annotation, in both directions.
/// </summary>
internal static class TableEntityJson
{
    private const string TypeSuffix = "@odata.type";
    private const string DateTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static ReadOnlyMemory<byte> Write(StorageEntity entity)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("PartitionKey", entity.PartitionKey);
            writer.WriteString("RowKey", entity.RowKey);
            foreach (var (name, value) in entity.Properties)
            {
                WriteProperty(writer, name, value);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    public static ReadOnlyMemory<byte> WriteTableName(string tableName)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("TableName", tableName);
            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    /// <summary>An entity from a minimal-metadata response (a single entity, or one item of a query's <c>value</c>).</summary>
    public static StorageEntity Read(JsonElement element)
    {
        string? partitionKey = null;
        string? rowKey = null;
        DateTimeOffset? timestamp = null;
        var etag = default(ETag);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name.EndsWith(TypeSuffix, StringComparison.Ordinal) && property.Value.ValueKind == JsonValueKind.String)
            {
                types[property.Name[..^TypeSuffix.Length]] = property.Value.GetString()!;
            }
        }

        var properties = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            if (name.EndsWith(TypeSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            switch (name)
            {
                case "PartitionKey":
                    partitionKey = property.Value.GetString();
                    continue;
                case "RowKey":
                    rowKey = property.Value.GetString();
                    continue;
                case "Timestamp":
                    timestamp = ParseDateTime(property.Value.GetString()!);
                    continue;
                case "odata.etag":
                    etag = new ETag(property.Value.GetString()!);
                    continue;
            }

            if (name.StartsWith("odata.", StringComparison.Ordinal))
            {
                continue;
            }

            var value = ReadValue(property.Value, types.GetValueOrDefault(name));
            if (value is not null)
            {
                properties[name] = value;
            }
        }

        if (partitionKey is null || rowKey is null)
        {
            throw new StorageException(StorageErrorKind.Failed, "The table service returned an entity without PartitionKey or RowKey.");
        }

        return new StorageEntity(partitionKey, rowKey) { Properties = properties, ETag = etag, Timestamp = timestamp };
    }

    private static void WriteProperty(Utf8JsonWriter writer, string name, object? value)
    {
        switch (value)
        {
            case null:
                // The table service has no null: an absent property reads back the same way.
                break;
            case string text:
                writer.WriteString(name, text);
                break;
            case int number:
                writer.WriteNumber(name, number);
                break;
            case long number:
                // Int64 travels as a string so that values beyond 2^53 survive JSON readers that use doubles.
                writer.WriteString(name, number.ToString(CultureInfo.InvariantCulture));
                writer.WriteString(name + TypeSuffix, "Edm.Int64");
                break;
            case double number when double.IsFinite(number):
                writer.WriteNumber(name, number);
                writer.WriteString(name + TypeSuffix, "Edm.Double");
                break;
            case double number:
                writer.WriteString(name, double.IsNaN(number) ? "NaN" : number > 0 ? "Infinity" : "-Infinity");
                writer.WriteString(name + TypeSuffix, "Edm.Double");
                break;
            case bool flag:
                writer.WriteBoolean(name, flag);
                break;
            case DateTimeOffset time:
                writer.WriteString(name, FormatDateTime(time));
                writer.WriteString(name + TypeSuffix, "Edm.DateTime");
                break;
            default:
                throw new ArgumentException($"Property '{name}' has unsupported type {value.GetType().Name}.", nameof(value));
        }
    }

    private static object? ReadValue(JsonElement value, string? edmType)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                var text = value.GetString()!;
                return edmType switch
                {
                    "Edm.Int64" => long.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture),
                    "Edm.DateTime" => ParseDateTime(text),
                    "Edm.Double" => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
                    "Edm.Int32" => int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture),
                    _ => text,
                };
            case JsonValueKind.Number:
                // The service writes doubles with a decimal point ("2.0"), which is how they differ from Int32.
                var raw = value.GetRawText();
                if (edmType == "Edm.Double" || raw.AsSpan().IndexOfAny('.', 'e', 'E') >= 0)
                {
                    return value.GetDouble();
                }

                if (edmType == "Edm.Int64")
                {
                    return value.GetInt64();
                }

                if (value.TryGetInt32(out var int32))
                {
                    return int32;
                }

                return value.TryGetInt64(out var int64) ? int64 : (object)value.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }

    public static string FormatDateTime(DateTimeOffset time) => time.UtcDateTime.ToString(DateTimeFormat, CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseDateTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}

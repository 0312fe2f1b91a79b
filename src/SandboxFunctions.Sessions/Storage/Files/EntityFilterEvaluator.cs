namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// Evaluates an <see cref="EntityFilter"/> against an entity in memory, as the table service would: a missing
/// property or a value of another kind never matches; integers and doubles compare by value.
/// </summary>
internal static class EntityFilterEvaluator
{
    public static bool Matches(EntityFilter filter, StorageEntity entity) => filter switch
    {
        EntityFilter.Comparison comparison => Matches(comparison, entity),
        EntityFilter.Conjunction conjunction => Matches(conjunction.Left, entity) && Matches(conjunction.Right, entity),
        _ => false,
    };

    /// <summary>The partition a filter is confined to by a top-level <c>PartitionKey</c> equality, if any.</summary>
    public static string? SinglePartition(EntityFilter? filter) => filter switch
    {
        EntityFilter.Comparison { Property: "PartitionKey", Operator: ComparisonOperator.Equal, Value: string partitionKey } => partitionKey,
        EntityFilter.Conjunction conjunction => SinglePartition(conjunction.Left) ?? SinglePartition(conjunction.Right),
        _ => null,
    };

    private static bool Matches(EntityFilter.Comparison comparison, StorageEntity entity)
    {
        var actual = comparison.Property switch
        {
            "PartitionKey" => entity.PartitionKey,
            "RowKey" => entity.RowKey,
            "Timestamp" => entity.Timestamp,
            var name => entity.Properties.GetValueOrDefault(name),
        };
        if (Compare(actual, comparison.Value) is not { } order)
        {
            return false;
        }

        return comparison.Operator switch
        {
            ComparisonOperator.Equal => order == 0,
            ComparisonOperator.LessThan => order < 0,
            ComparisonOperator.GreaterThanOrEqual => order >= 0,
            _ => false,
        };
    }

    private static int? Compare(object? actual, object expected) => (actual, expected) switch
    {
        (string left, string right) => string.CompareOrdinal(left, right),
        (DateTimeOffset left, DateTimeOffset right) => left.CompareTo(right),
        (bool left, bool right) => left.CompareTo(right),
        (int or long, int or long) => ToInt64(actual).CompareTo(ToInt64(expected)),
        (int or long or double, int or long or double) => ToDouble(actual).CompareTo(ToDouble(expected)),
        _ => null,
    };

    private static long ToInt64(object value) => value is int number ? number : (long)value;

    private static double ToDouble(object value) => value switch
    {
        int number => number,
        long number => number,
        _ => (double)value,
    };
}

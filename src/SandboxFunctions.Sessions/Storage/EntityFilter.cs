namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// A query condition over entity properties (including <c>PartitionKey</c> and <c>RowKey</c>). Small on
/// purpose: the table store translates it to its query language, the file store evaluates it in memory.
/// </summary>
public abstract record EntityFilter
{
    public static EntityFilter Equal(string property, object value) => new Comparison(property, ComparisonOperator.Equal, value);

    public static EntityFilter LessThan(string property, object value) => new Comparison(property, ComparisonOperator.LessThan, value);

    public static EntityFilter GreaterThanOrEqual(string property, object value) => new Comparison(property, ComparisonOperator.GreaterThanOrEqual, value);

    public EntityFilter And(EntityFilter other) => new Conjunction(this, other);

    public sealed record Comparison(string Property, ComparisonOperator Operator, object Value) : EntityFilter;

    public sealed record Conjunction(EntityFilter Left, EntityFilter Right) : EntityFilter;
}

public enum ComparisonOperator
{
    Equal,
    LessThan,
    GreaterThanOrEqual,
}

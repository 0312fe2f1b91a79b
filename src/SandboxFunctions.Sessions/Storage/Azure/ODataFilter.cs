using System.Globalization;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>Translates an <see cref="EntityFilter"/> into the Table service's <c>$filter</c> syntax.</summary>
internal static class ODataFilter
{
    public static string Translate(EntityFilter filter)
    {
        StorageValidation.Filter(filter);
        return TranslateValidated(filter);
    }

    private static string TranslateValidated(EntityFilter filter) => filter switch
    {
        EntityFilter.Comparison comparison => $"{comparison.Property} {Operator(comparison.Operator)} {Literal(comparison.Value)}",
        EntityFilter.Conjunction conjunction => $"({TranslateValidated(conjunction.Left)}) and ({TranslateValidated(conjunction.Right)})",
        _ => throw new ArgumentException($"Unsupported filter {filter.GetType().Name}.", nameof(filter)),
    };

    private static string Operator(ComparisonOperator comparison) => comparison switch
    {
        ComparisonOperator.Equal => "eq",
        ComparisonOperator.LessThan => "lt",
        ComparisonOperator.GreaterThanOrEqual => "ge",
        _ => throw new ArgumentOutOfRangeException(nameof(comparison), comparison, "Unknown comparison."),
    };

    private static string Literal(object value) => value switch
    {
        string text => $"'{text.Replace("'", "''", StringComparison.Ordinal)}'",
        long number => number.ToString(CultureInfo.InvariantCulture) + "L",
        int number => number.ToString(CultureInfo.InvariantCulture),
        double number => DoubleLiteral(number),
        bool flag => flag ? "true" : "false",
        DateTimeOffset time => $"datetime'{TableEntityJson.FormatDateTime(time)}'",
        _ => throw new ArgumentException($"A filter cannot compare with {value?.GetType().Name ?? "null"}.", nameof(value)),
    };

    /// <summary>A double literal always has a decimal point or exponent, so the service does not read it as Int32.</summary>
    private static string DoubleLiteral(double number)
    {
        var text = number.ToString("R", CultureInfo.InvariantCulture);
        return text.AsSpan().IndexOfAny('.', 'E') >= 0 ? text : text + ".0";
    }
}

using System.Runtime.CompilerServices;
using Azure.Data.Tables;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// Translates an <see cref="EntityFilter"/> into the Table service's query syntax. Property names are checked
/// to be plain identifiers; values are formatted and escaped by <see cref="TableClient.CreateQueryFilter(FormattableString)"/>.
/// </summary>
internal static class TableFilter
{
    public static string Translate(EntityFilter filter)
    {
        StorageValidation.Filter(filter);
        return TranslateValidated(filter);
    }

    private static string TranslateValidated(EntityFilter filter) => filter switch
    {
        EntityFilter.Comparison comparison => TableClient.CreateQueryFilter(
            FormattableStringFactory.Create($"{comparison.Property} {Operator(comparison.Operator)} {{0}}", comparison.Value)),
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
}

using System.Text.Json.Serialization;

namespace SandboxFunctions.Benchmarks.Reporting;

internal enum Unit
{
    Milliseconds,
    Ratio,
    Bytes,
    PerSecond,
    Cores,
    Count,
}

/// <summary>One measurement: the order statistics of its samples, or a single value when <see cref="Count"/> is 1.</summary>
internal sealed record ReportRow(string Group, string Measurement, Unit Unit, double Median, double? P10, double? P90, int Count, IReadOnlyList<double> Samples);

internal sealed record ReportSection(string Scenario, string Title, IReadOnlyList<ReportRow> Rows, IReadOnlyList<string> Notes);

internal sealed record EnvironmentFact(string Name, string Value);

internal sealed record BenchmarkReport(
    DateTimeOffset StartedAt,
    TimeSpan Duration,
    string CommandLine,
    IReadOnlyList<EnvironmentFact> Environment,
    IReadOnlyList<ReportSection> Sections);

[JsonSerializable(typeof(BenchmarkReport))]
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
internal sealed partial class ReportJson : JsonSerializerContext;

using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SandboxFunctions.Benchmarks.Reporting;

/// <summary>The report as a console table, as Markdown, and as JSON (with every sample).</summary>
internal static class ReportWriter
{
    private static readonly string[] Header = ["median", "p10", "p90", "n"];

    public static string ToText(BenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"SandboxFunctions benchmarks, {report.StartedAt:yyyy-MM-dd HH:mm} UTC, {FormatDuration(report.Duration)}");
        var nameWidth = report.Environment.Max(f => f.Name.Length);
        foreach (var fact in report.Environment)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {fact.Name.PadRight(nameWidth)}  {fact.Value}");
        }

        foreach (var section in report.Sections)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"== {section.Scenario}: {section.Title}");
            var labels = section.Rows.Select(r => "    " + r.Measurement).Concat(section.Rows.Select(r => "  " + r.Group)).Append(string.Empty);
            var labelWidth = labels.Max(l => l.Length);
            var cells = section.Rows.Select(Cells).ToList();
            var widths = Enumerable.Range(0, Header.Length).Select(i => cells.Select(c => c[i].Length).Append(Header[i].Length).Max()).ToArray();

            text.Append(new string(' ', labelWidth));
            AppendCells(text, Header, widths);
            string? group = null;
            for (var i = 0; i < section.Rows.Count; i++)
            {
                var row = section.Rows[i];
                if (row.Group != group)
                {
                    group = row.Group;
                    text.AppendLine(CultureInfo.InvariantCulture, $"  {group}");
                }

                text.Append(("    " + row.Measurement).PadRight(labelWidth));
                AppendCells(text, cells[i], widths);
            }

            foreach (var note in section.Notes)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  * {note}");
            }
        }

        return text.ToString();
    }

    public static string ToMarkdown(BenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# SandboxFunctions benchmarks, {report.StartedAt:yyyy-MM-dd HH:mm} UTC");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"`{report.CommandLine}` ran for {FormatDuration(report.Duration)}.");
        text.AppendLine();
        foreach (var fact in report.Environment)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {fact.Name}: {fact.Value}");
        }

        foreach (var section in report.Sections)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"## {section.Scenario}: {section.Title}");
            text.AppendLine();
            text.AppendLine("| measurement | median | p10 | p90 | n |");
            text.AppendLine("|---|---:|---:|---:|---:|");
            string? group = null;
            foreach (var row in section.Rows)
            {
                if (row.Group != group)
                {
                    group = row.Group;
                    text.AppendLine(CultureInfo.InvariantCulture, $"| **{group}** | | | | |");
                }

                text.AppendLine(CultureInfo.InvariantCulture, $"| {row.Measurement} | {string.Join(" | ", Cells(row))} |");
            }

            if (section.Notes.Count > 0)
            {
                text.AppendLine();
                foreach (var note in section.Notes)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
                }
            }
        }

        return text.ToString();
    }

    public static string ToJson(BenchmarkReport report) => JsonSerializer.Serialize(report, ReportJson.Default.BenchmarkReport);

    private static string[] Cells(ReportRow row) =>
    [
        Format(row.Median, row.Unit),
        row.P10 is { } p10 ? Format(p10, row.Unit) : string.Empty,
        row.P90 is { } p90 ? Format(p90, row.Unit) : string.Empty,
        row.Count.ToString(CultureInfo.InvariantCulture),
    ];

    private static void AppendCells(StringBuilder text, string[] cells, int[] widths)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            text.Append("  ").Append(cells[i].PadLeft(widths[i]));
        }

        text.AppendLine();
    }

    private static string Format(double value, Unit unit) => unit switch
    {
        Unit.Milliseconds => $"{Significant(value)} ms",
        Unit.Ratio => value.ToString("0.00", CultureInfo.InvariantCulture) + "x",
        Unit.PerSecond => $"{Significant(value)} /s",
        Unit.Cores => value.ToString("0.00", CultureInfo.InvariantCulture) + " cores",
        Unit.Count => value.ToString("0.#", CultureInfo.InvariantCulture),
        Unit.Bytes => value switch
        {
            < 1024 => $"{value.ToString("0", CultureInfo.InvariantCulture)} B",
            < 1024 * 1024 => $"{(value / 1024).ToString("0.0", CultureInfo.InvariantCulture)} KiB",
            _ => $"{(value / (1024 * 1024)).ToString("0.0", CultureInfo.InvariantCulture)} MiB",
        },
        _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, null),
    };

    /// <summary>Three significant digits, and never fewer than the whole number.</summary>
    private static string Significant(double value) => Math.Abs(value) switch
    {
        < 1 => value.ToString("0.000", CultureInfo.InvariantCulture),
        < 10 => value.ToString("0.00", CultureInfo.InvariantCulture),
        < 100 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0", CultureInfo.InvariantCulture),
    };

    private static string FormatDuration(TimeSpan duration) =>
        duration.TotalMinutes >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalMinutes} min {duration.Seconds} s")
            : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0} s");
}

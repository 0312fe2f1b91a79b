using SandboxFunctions.Benchmarks.Measurement;

namespace SandboxFunctions.Benchmarks.Reporting;

/// <summary>Collects a scenario's rows under group headings, in the order they should be read.</summary>
internal sealed class SectionBuilder(string scenario, string title)
{
    private readonly List<ReportRow> _rows = [];
    private readonly List<string> _notes = [];
    private string _group = string.Empty;

    public SectionBuilder Group(string name)
    {
        _group = name;
        return this;
    }

    public SectionBuilder Add(string measurement, Unit unit, Distribution distribution)
    {
        ArgumentNullException.ThrowIfNull(distribution);
        _rows.Add(new ReportRow(_group, measurement, unit, distribution.Median, distribution.P10, distribution.P90, distribution.Count, distribution.Samples));
        return this;
    }

    public SectionBuilder Add(string measurement, Unit unit, double value)
    {
        _rows.Add(new ReportRow(_group, measurement, unit, value, null, null, 1, [value]));
        return this;
    }

    public SectionBuilder Note(string text)
    {
        _notes.Add(text);
        return this;
    }

    public ReportSection Build() => new(scenario, title, [.. _rows], [.. _notes]);
}

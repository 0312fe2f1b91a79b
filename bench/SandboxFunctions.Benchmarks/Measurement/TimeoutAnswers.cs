using System.Diagnostics;
using SandboxFunctions.Benchmarks.Reporting;

namespace SandboxFunctions.Benchmarks.Measurement;

/// <summary>
/// How soon calls that may run into their timeout answer, per case: the time, its ratio to the timeout, and how
/// each call ended. The limits scenarios share it, so their tables read the same.
/// </summary>
internal sealed class TimeoutAnswers
{
    private readonly Samples _samples = new();
    private readonly Dictionary<string, HashSet<string>> _endings = new(StringComparer.Ordinal);

    /// <summary>Times <paramref name="call"/>, which returns how it ended, and keeps the measurement when <paramref name="record"/> is set.</summary>
    public async Task TimeAsync(string item, TimeSpan timeout, bool record, Func<Task<string>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var started = Stopwatch.GetTimestamp();
        var ending = await call();
        var answered = Rounds.MillisecondsSince(started);
        if (record)
        {
            _samples.Add($"{item}/answered", answered);
            _samples.Add($"{item}/over", answered / timeout.TotalMilliseconds);
            (_endings.TryGetValue(item, out var seen) ? seen : _endings[item] = new HashSet<string>(StringComparer.Ordinal)).Add(ending);
        }
    }

    /// <summary>Adds the case's group, named <paramref name="label"/> with how its calls ended.</summary>
    public void AddTo(SectionBuilder section, string item, string label)
    {
        ArgumentNullException.ThrowIfNull(section);
        section.Group($"{label} ({string.Join("; ", _endings[item])})")
            .Add("answered after", Unit.Milliseconds, _samples[$"{item}/answered"])
            .Add("answer time / timeout", Unit.Ratio, _samples[$"{item}/over"]);
    }
}

namespace SandboxFunctions.Benchmarks.Measurement;

/// <summary>
/// Where the server's time goes in a set of requests: the server's own step spans, each request's total, the part of the
/// total outside every step, and how many outgoing HTTP calls (storage round trips) each request made.
/// </summary>
internal sealed class StageBreakdown
{
    /// <summary>The server's step spans, in the order a call runs them.</summary>
    public static readonly string[] Steps =
    [
        "session.read", "sandbox.load", "session.load", "workspace.scan", "sandbox.execution", "signals.read",
        "session.capture", "session.save", "history.record",
    ];

    private const string HttpScope = "System.Net.Http";

    /// <summary>The spans of each request, one list per trace.</summary>
    private readonly IReadOnlyList<IReadOnlyList<Span>> _requests;

    private StageBreakdown(IReadOnlyList<IReadOnlyList<Span>> requests) => _requests = requests;

    /// <summary>The requests (traces rooted in an incoming request) that started within the window.</summary>
    public static StageBreakdown Of(IEnumerable<Span> spans, DateTimeOffset from, DateTimeOffset to) => new(
        [.. spans.GroupBy(s => s.TraceId)
            .Select(trace => (IReadOnlyList<Span>)[.. trace])
            .Where(trace => Root(trace) is { } root && root.StartNanoseconds >= UnixNanoseconds(from) && root.StartNanoseconds < UnixNanoseconds(to))]);

    private static long UnixNanoseconds(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks * 100;

    public Distribution? Total() => Collect(trace => Root(trace)!.Milliseconds);

    /// <summary>Each request's time in spans named <paramref name="step"/>, summed, for requests that ran the step.</summary>
    public Distribution? Step(string step) => Collect(trace => trace.Any(s => s.Name == step) ? trace.Where(s => s.Name == step).Sum(s => s.Milliseconds) : null);

    /// <summary>
    /// Each request's time in none of its steps: routing, MCP framing, tool arguments and results, waiting. Steps that
    /// overlap (history is written while the state is saved) count once.
    /// </summary>
    public Distribution? OutsideSteps() => Collect(trace =>
    {
        var covered = 0L;
        var end = long.MinValue;
        foreach (var step in trace.Where(s => Steps.Contains(s.Name)).OrderBy(s => s.StartNanoseconds))
        {
            var from = Math.Max(step.StartNanoseconds, end);
            if (step.EndNanoseconds > from)
            {
                covered += step.EndNanoseconds - from;
            }

            end = Math.Max(end, step.EndNanoseconds);
        }

        return Root(trace)!.Milliseconds - (covered / 1e6);
    });

    /// <summary>Outgoing HTTP calls per request; against a storage account each is a network round trip.</summary>
    public Distribution? RoundTrips() => Collect(trace => trace.Count(s => s.Scope == HttpScope));

    /// <summary>Outgoing HTTP calls per request made inside spans named <paramref name="step"/>.</summary>
    public Distribution? RoundTripsIn(string step) => Collect(trace =>
    {
        var byId = trace.ToDictionary(s => s.SpanId);
        return trace.Count(s => s.Scope == HttpScope && Within(s, step, byId));
    });

    private static bool Within(Span span, string step, Dictionary<string, Span> byId)
    {
        for (var parent = span.ParentSpanId; byId.TryGetValue(parent, out var p); parent = p.ParentSpanId)
        {
            if (p.Name == step)
            {
                return true;
            }
        }

        return false;
    }

    private static Span? Root(IReadOnlyList<Span> trace) => trace.FirstOrDefault(s => s.ParentSpanId.Length == 0 && s.Scope == "Microsoft.AspNetCore");

    /// <summary>One sample per request that has the measurement; null when none has it.</summary>
    private Distribution? Collect(Func<IReadOnlyList<Span>, double?> measure)
    {
        List<double> values = [.. _requests.Select(measure).OfType<double>()];
        return values.Count == 0 ? null : new Distribution(values);
    }
}

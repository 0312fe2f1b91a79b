using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SandboxFunctions.Sessions;

/// <summary>
/// Spans and metrics of session storage: how long loading and saving state takes and how large it is, and what
/// the reaper removes. Identifiers only; never snapshot contents.
/// </summary>
public static class SessionDiagnostics
{
    public const string Name = "SandboxFunctions.Sessions";

    internal static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Histogram<double> TransferDuration = Meter.CreateHistogram<double>(
        "sandbox.session.snapshot.duration", "s", "Time to load or save a session snapshot in storage, protection included.");

    private static readonly Histogram<long> TransferSize = Meter.CreateHistogram<long>(
        "sandbox.session.snapshot.size", "By", "Size of a session snapshot as stored (compressed, signed, maybe encrypted).");

    private static readonly Counter<long> Reaped = Meter.CreateCounter<long>(
        "sandbox.session.reaped", "{item}", "Expired sessions and unreferenced snapshots the reaper deleted.");

    internal static Activity? StartTransfer(string operation, SessionRecord record)
    {
        var activity = Source.StartActivity($"session.{operation}");
        activity?.SetTag("sandbox.session.operation", operation);
        activity?.SetTag("sandbox.session.version", record.Version);
        return activity;
    }

    /// <summary>A span around a storage step that is not a snapshot transfer, e.g. reading a record or writing history.</summary>
    internal static Activity? StartStep(string name) => Source.StartActivity(name);

    internal static void RecordTransfer(Activity? activity, string operation, TimeSpan duration, long bytes)
    {
        activity?.SetTag("sandbox.session.snapshot.size", bytes);
        var tag = new KeyValuePair<string, object?>("sandbox.session.operation", operation);
        TransferDuration.Record(duration.TotalSeconds, tag);
        TransferSize.Record(bytes, tag);
    }

    internal static void RecordReaped(ReapResult result)
    {
        Reaped.Add(result.ExpiredSessions, new KeyValuePair<string, object?>("sandbox.reaped.kind", "session"));
        Reaped.Add(result.OrphanedSnapshots, new KeyValuePair<string, object?>("sandbox.reaped.kind", "snapshot"));
    }
}

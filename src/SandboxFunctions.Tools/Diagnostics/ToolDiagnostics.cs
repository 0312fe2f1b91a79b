using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Tools.Diagnostics;

/// <summary>
/// Spans and metrics of what the tools do: executions by runtime, flavor and outcome, how sandboxes are loaded,
/// and how tool calls end. Code and output stay out unless <see cref="TelemetryOptions.IncludeCode"/> is set.
/// </summary>
public sealed class ToolDiagnostics(IOptions<TelemetryOptions> options)
{
    public const string Name = "SandboxFunctions.Tools";

    private const int MaxCodeChars = 4096;

    private static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    private static readonly Histogram<double> ExecutionDuration = Meter.CreateHistogram<double>(
        "sandbox.execution.duration", "s", "Wall-clock time of code executions, commands and jobs.");

    private static readonly Histogram<long> ExecutionMemory = Meter.CreateHistogram<long>(
        "sandbox.execution.memory", "By", "Interpreter memory after an execution.");

    private static readonly Histogram<double> LoadDuration = Meter.CreateHistogram<double>(
        "sandbox.session.load.duration", "s", "Time to get a session's sandbox ready: from the warm cache, restored from its snapshot, or new.");

    private static readonly Counter<long> ToolCalls = Meter.CreateCounter<long>(
        "sandbox.tool.calls", "{call}", "Tool calls by tool and outcome (ok, or the error code).");

    public Activity? StartExecution(ExecutionKind kind, string sessionId, string language, string flavor, string code)
    {
        var activity = Source.StartActivity($"sandbox.{Describe(kind)}");
        if (activity is not null)
        {
            activity.SetTag("sandbox.kind", Describe(kind));
            activity.SetTag("sandbox.session.id", sessionId);
            activity.SetTag("sandbox.runtime", language);
            activity.SetTag("sandbox.flavor", flavor);
            if (options.Value.IncludeCode)
            {
                activity.SetTag("sandbox.code", code.Length <= MaxCodeChars ? code : code[..MaxCodeChars]);
            }
        }

        return activity;
    }

    public static void RecordExecution(Activity? activity, ExecutionKind kind, string language, string flavor, string status, TimeSpan duration, long memoryBytes)
    {
        TagList tags = new()
        {
            { "sandbox.kind", Describe(kind) },
            { "sandbox.runtime", language },
            { "sandbox.flavor", flavor },
        };
        ExecutionMemory.Record(memoryBytes, tags);
        tags.Add("sandbox.status", status);
        ExecutionDuration.Record(duration.TotalSeconds, tags);
        if (activity is not null)
        {
            activity.SetTag("sandbox.status", status);
            activity.SetTag("sandbox.memory", memoryBytes);
            if (status != "ok")
            {
                activity.SetStatus(ActivityStatusCode.Error, status);
            }
        }
    }

    internal static Activity? StartLoad(string language, string flavor)
    {
        var activity = Source.StartActivity("sandbox.load");
        activity?.SetTag("sandbox.runtime", language);
        activity?.SetTag("sandbox.flavor", flavor);
        return activity;
    }

    /// <summary>A span around one step of a call (e.g. capturing the snapshot), so traces show where a call's time goes.</summary>
    internal static Activity? StartStep(string name) => Source.StartActivity(name);

    internal static void RecordLoad(Activity? activity, string language, string source, TimeSpan duration)
    {
        activity?.SetTag("sandbox.load.source", source);
        LoadDuration.Record(duration.TotalSeconds, new TagList { { "sandbox.runtime", language }, { "sandbox.load.source", source } });
    }

    internal static void RecordToolCall(string tool, string outcome) =>
        ToolCalls.Add(1, new TagList { { "mcp.tool.name", tool }, { "sandbox.outcome", outcome } });

    private static string Describe(ExecutionKind kind) => kind switch
    {
        ExecutionKind.Execution => "execution",
        ExecutionKind.Command => "command",
        _ => "job",
    };
}

/// <summary>What telemetry may carry, bound from <c>Telemetry</c>.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>Adds the code of executions (first 4096 characters) to their spans. Off by default: code may hold secrets.</summary>
    public bool IncludeCode { get; set; }
}

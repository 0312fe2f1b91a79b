using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using OpenTelemetry;

namespace SandboxFunctions.Host.Telemetry;

/// <summary>
/// Spans as Application Insights requests (where work enters the app) and dependencies (everything else), with
/// operation ids taken from the trace so the portal shows each request with what it did.
/// </summary>
internal sealed class ApplicationInsightsTraceExporter(ApplicationInsightsIngestion ingestion, ApplicationInsightsConnection connection) : BaseExporter<Activity>
{
    public override ExportResult Export(in Batch<Activity> batch)
    {
        var role = TelemetryRole.Of(ParentProvider);
        var items = new List<JsonObject>();
        foreach (var activity in batch)
        {
            items.Add(ToItem(activity, role));
        }

        return ingestion.Send(items) ? ExportResult.Success : ExportResult.Failure;
    }

    private JsonObject ToItem(Activity activity, TelemetryRole role)
    {
        // Only where work enters the app is a request; a server span inside another (the MCP SDK's operation
        // inside the HTTP request) is a step of it.
        var isRequest = activity.Kind is ActivityKind.Server or ActivityKind.Consumer && (activity.ParentSpanId == default || activity.HasRemoteParent);
        var statusCode = activity.GetTagItem("http.response.status_code")?.ToString();
        var success = activity.Status != ActivityStatusCode.Error && (statusCode is null || !statusCode.StartsWith('5'));
        var properties = new JsonObject();
        foreach (var (key, value) in activity.EnumerateTagObjects())
        {
            if (value is not null)
            {
                properties[key] = Convert.ToString(value, CultureInfo.InvariantCulture);
            }
        }

        var data = new JsonObject
        {
            ["ver"] = 2,
            ["id"] = activity.SpanId.ToHexString(),
            ["name"] = activity.DisplayName,
            ["duration"] = activity.Duration.ToString("c", CultureInfo.InvariantCulture),
            ["success"] = success,
            ["properties"] = properties,
        };
        if (isRequest)
        {
            data["responseCode"] = statusCode ?? (success ? "0" : "1");
            if (activity.GetTagItem("url.path") is { } path)
            {
                data["url"] = path.ToString();
            }
        }
        else
        {
            data["resultCode"] = success ? "0" : "1";
            data["type"] = "InProc";
            data["target"] = activity.Source.Name;
        }

        var tags = role.Tags();
        tags["ai.operation.id"] = activity.TraceId.ToHexString();
        tags["ai.operation.name"] = activity.DisplayName;
        if (activity.ParentSpanId != default)
        {
            tags["ai.operation.parentId"] = activity.ParentSpanId.ToHexString();
        }

        return TelemetryItems.Envelope(isRequest ? "Request" : "RemoteDependency", isRequest ? "RequestData" : "RemoteDependencyData", connection.InstrumentationKey, activity.StartTimeUtc, tags, data);
    }
}

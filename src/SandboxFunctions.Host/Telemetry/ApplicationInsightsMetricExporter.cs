using System.Text.Json.Nodes;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace SandboxFunctions.Host.Telemetry;

/// <summary>Metrics as Application Insights custom metrics: one aggregated item per metric point and interval.</summary>
internal sealed class ApplicationInsightsMetricExporter(ApplicationInsightsIngestion ingestion, ApplicationInsightsConnection connection) : BaseExporter<Metric>
{
    public override ExportResult Export(in Batch<Metric> batch)
    {
        var role = TelemetryRole.Of(ParentProvider);
        var items = new List<JsonObject>();
        foreach (var metric in batch)
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                if (ToDataPoint(metric, point) is { } dataPoint)
                {
                    var properties = new JsonObject();
                    foreach (var tag in point.Tags)
                    {
                        properties[tag.Key] = tag.Value?.ToString();
                    }

                    var data = new JsonObject { ["ver"] = 2, ["metrics"] = new JsonArray(dataPoint), ["properties"] = properties };
                    items.Add(TelemetryItems.Envelope("Metric", "MetricData", connection.InstrumentationKey, point.EndTime.UtcDateTime, role.Tags(), data));
                }
            }
        }

        return ingestion.Send(items) ? ExportResult.Success : ExportResult.Failure;
    }

    private static JsonObject? ToDataPoint(Metric metric, in MetricPoint point)
    {
        var dataPoint = new JsonObject { ["name"] = metric.Name, ["ns"] = metric.MeterName };
        switch (metric.MetricType)
        {
            case MetricType.Histogram:
                var count = point.GetHistogramCount();
                if (count == 0)
                {
                    return null;
                }

                dataPoint["kind"] = 1;
                dataPoint["value"] = point.GetHistogramSum();
                dataPoint["count"] = count;
                if (point.TryGetHistogramMinMaxValues(out var min, out var max))
                {
                    dataPoint["min"] = min;
                    dataPoint["max"] = max;
                }

                return dataPoint;
            case MetricType.LongSum or MetricType.LongSumNonMonotonic:
                dataPoint["value"] = point.GetSumLong();
                return dataPoint;
            case MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic:
                dataPoint["value"] = point.GetSumDouble();
                return dataPoint;
            case MetricType.LongGauge:
                dataPoint["value"] = point.GetGaugeLastValueLong();
                return dataPoint;
            case MetricType.DoubleGauge:
                dataPoint["value"] = point.GetGaugeLastValueDouble();
                return dataPoint;
            default:
                return null;
        }
    }
}

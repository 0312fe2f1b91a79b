using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SandboxFunctions.Sessions;
using SandboxFunctions.Tools.Diagnostics;

namespace SandboxFunctions.Host.Telemetry;

/// <summary>
/// Exports the app's spans, metrics and logs when an exporter is configured: OTLP through the standard
/// <c>OTEL_EXPORTER_OTLP_*</c> settings, Application Insights through <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c>.
/// With neither, nothing listens, so instrumentation costs next to nothing.
/// </summary>
internal static class TelemetryExtensions
{
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ApplicationInsightsSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string ApplicationInsightsAuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";
    public const string MetricIntervalSetting = "OTEL_METRIC_EXPORT_INTERVAL";

    /// <summary>Sources and meters of this app, of the MCP SDK, and of ASP.NET Core's request handling.</summary>
    private static readonly string[] Sources = [ToolDiagnostics.Name, SessionDiagnostics.Name, "Experimental.ModelContextProtocol", "Microsoft.AspNetCore"];
    private static readonly string[] Meters = [ToolDiagnostics.Name, SessionDiagnostics.Name, "Experimental.ModelContextProtocol", "Microsoft.AspNetCore.Hosting"];

    public static IHostApplicationBuilder AddSandboxTelemetry(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpointSetting]);
        var applicationInsights = ApplicationInsightsConnection.Parse(configuration[ApplicationInsightsSetting], configuration[ApplicationInsightsAuthenticationSetting]);
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.SectionName);
        if (!otlp && applicationInsights is null)
        {
            return builder;
        }

        var resource = ResourceBuilder.CreateDefault().AddService("sandboxfunctions", serviceVersion: ServerVersion.Current, serviceInstanceId: Environment.MachineName);
        var metricInterval = int.TryParse(configuration[MetricIntervalSetting], out var milliseconds) && milliseconds > 0 ? milliseconds : 60_000;
        var ingestion = applicationInsights is null ? null : new ApplicationInsightsIngestion(applicationInsights);

        var tracing = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(resource).AddSource(Sources);
        var metrics = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddMeter(Meters);
        if (otlp)
        {
            tracing.AddOtlpExporter();
            metrics.AddOtlpExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = metricInterval);
            builder.Logging.AddOpenTelemetry(logging =>
            {
                logging.SetResourceBuilder(resource);
                logging.IncludeScopes = true;
                logging.AddOtlpExporter();
            });
        }

        if (ingestion is not null)
        {
            tracing.AddProcessor(new BatchActivityExportProcessor(new ApplicationInsightsTraceExporter(ingestion, applicationInsights!)));
            metrics.AddReader(new PeriodicExportingMetricReader(new ApplicationInsightsMetricExporter(ingestion, applicationInsights!), metricInterval)
            {
                TemporalityPreference = MetricReaderTemporalityPreference.Delta,
            });
        }

        builder.Services.AddSingleton(new TelemetryProviders(tracing.Build(), metrics.Build(), ingestion));
        builder.Services.AddHostedService<TelemetryFlush>();
        return builder;
    }
}

/// <summary>Keeps the providers alive for the app's lifetime; disposing them flushes what is still buffered.</summary>
internal sealed class TelemetryProviders(TracerProvider tracing, MeterProvider metrics, ApplicationInsightsIngestion? ingestion) : IDisposable
{
    public void Flush()
    {
        tracing.ForceFlush(5000);
        metrics.ForceFlush(5000);
    }

    public void Dispose()
    {
        tracing.Dispose();
        metrics.Dispose();
        ingestion?.Dispose();
    }
}

/// <summary>Flushes telemetry when the app stops, so the last requests before a scale-in are not lost.</summary>
internal sealed class TelemetryFlush(TelemetryProviders providers) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.Run(providers.Flush, cancellationToken);
}

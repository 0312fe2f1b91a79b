using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Options;
using OpenTelemetry;
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
public static class TelemetryExtensions
{
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ApplicationInsightsSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string ApplicationInsightsAuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";
    public const string MetricIntervalSetting = "OTEL_METRIC_EXPORT_INTERVAL";

    /// <summary>
    /// Sources and meters of this app, of the MCP SDK, and of ASP.NET Core's request handling; outgoing HTTP shows each
    /// call to session storage as a dependency of the request that made it.
    /// </summary>
    private static readonly string[] Sources = [ToolDiagnostics.Name, SessionDiagnostics.Name, "Experimental.ModelContextProtocol", "Microsoft.AspNetCore", "System.Net.Http"];
    private static readonly string[] Meters = [ToolDiagnostics.Name, SessionDiagnostics.Name, "Experimental.ModelContextProtocol", "Microsoft.AspNetCore.Hosting"];

    /// <param name="builder">The app being composed.</param>
    /// <param name="logsReachApplicationInsights">
    /// True under the Functions host, which already sends the worker's logs to Application Insights; the app then
    /// sends only its spans and metrics there, so that no log line arrives twice.
    /// </param>
    public static IHostApplicationBuilder AddSandboxTelemetry(this IHostApplicationBuilder builder, bool logsReachApplicationInsights = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpointSetting]);
        var applicationInsights = ApplicationInsightsConnection.Parse(configuration[ApplicationInsightsSetting], configuration[ApplicationInsightsAuthenticationSetting]);
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.SectionName);
        if (!otlp && applicationInsights is null)
        {
            return builder;
        }

        var metricInterval = int.TryParse(configuration[MetricIntervalSetting], out var milliseconds) && milliseconds > 0 ? milliseconds : 60_000;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("sandboxfunctions", serviceVersion: ServerVersion.Current, serviceInstanceId: Environment.MachineName))
            .WithTracing(tracing => tracing.AddSource(Sources))
            .WithMetrics(metrics => metrics.AddMeter(Meters));

        if (otlp)
        {
            telemetry
                .WithTracing(tracing => tracing.AddOtlpExporter())
                .WithMetrics(metrics => metrics.AddOtlpExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = metricInterval))
                .WithLogging(logging => logging.AddOtlpExporter(), options => options.IncludeScopes = true);
        }

        if (applicationInsights is not null)
        {
            builder.Services.Configure<AzureMonitorExporterOptions>(options =>
            {
                options.ConnectionString = applicationInsights.ConnectionString;
                options.Credential = applicationInsights.Credential;

                // Every span, as with OTLP: the exporter's default keeps only five traces a second.
                options.SamplingRatio = 1;
                options.TracesPerSecond = null;

                // Live Metrics needs the distro; the exporter would only warn that it is off.
                options.EnableLiveMetrics = false;
            });
            telemetry
                .WithTracing(tracing => tracing.AddAzureMonitorTraceExporter())
                // The exporter's own reader exports once a minute whatever OTEL_METRIC_EXPORT_INTERVAL says.
                .WithMetrics(metrics => metrics.AddReader(services => new PeriodicExportingMetricReader(
                    new AzureMonitorMetricExporter(services.GetRequiredService<IOptionsMonitor<AzureMonitorExporterOptions>>().CurrentValue), metricInterval)
                {
                    TemporalityPreference = MetricReaderTemporalityPreference.Delta,
                }));
            if (!logsReachApplicationInsights)
            {
                telemetry.WithLogging(logging => logging.AddAzureMonitorLogExporter(), options => options.IncludeScopes = true);
            }
        }

        return builder;
    }
}

using SandboxFunctions.Host.Telemetry;

namespace SandboxFunctions.Host;

/// <summary>Serves the same tools over stdin/stdout for desktop clients that start the server themselves.</summary>
internal static class StdioServer
{
    private const string Switch = "--stdio";

    public static bool IsRequested(string[] args) => args.Contains(Switch, StringComparer.Ordinal);

    public static async Task RunAsync(string[] args)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [.. args.Where(a => a != Switch)],
            ContentRootPath = AppContext.BaseDirectory,
        });

        // stdout carries the protocol, so every log line goes to stderr.
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);

        builder.Services.AddSandboxCore(runBackgroundWork: true);
        builder.AddSandboxTelemetry();
        builder.Services.AddMcpServer().WithStdioServerTransport();

        await builder.Build().RunAsync();
    }
}

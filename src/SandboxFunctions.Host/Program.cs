using SandboxFunctions.Host;
using SandboxFunctions.Host.Endpoints;
using SandboxFunctions.Host.Telemetry;

if (StdioServer.IsRequested(args))
{
    await StdioServer.RunAsync(args);
    return;
}

// Settings ship next to the binary, which may be started from any directory.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddSandboxHttpServer();
builder.AddSandboxTelemetry();

var app = builder.Build();
app.UseRequestTelemetry();
app.MapHealth();
app.MapMcp();

await app.RunAsync();

public partial class Program;

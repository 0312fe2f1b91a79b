using SandboxFunctions.Host;
using SandboxFunctions.Host.Endpoints;
using SandboxFunctions.Host.Telemetry;

if (StdioServer.IsRequested(args))
{
    await StdioServer.RunAsync(args);
    return;
}

// Settings ship next to the binary, and the Functions host may start it from another directory.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddSandboxHttpServer();
builder.AddSandboxTelemetry();

var app = builder.Build();
app.UseRequestTelemetry();
app.UseAuthentication();
app.UseAuthorization();
app.MapHealth();
app.MapMcp();
app.MapFunctionTriggers();

await app.RunAsync();

public partial class Program;

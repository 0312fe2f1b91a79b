using SandboxFunctions.Host;
using SandboxFunctions.Host.Endpoints;

if (StdioServer.IsRequested(args))
{
    await StdioServer.RunAsync(args);
    return;
}

// Settings ship next to the binary, and the Functions host may start it from another directory.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddSandboxHttpServer();

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
app.MapHealth();
app.MapMcp();
app.MapFunctionTriggers();

await app.RunAsync();

public partial class Program;

using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using SandboxFunctions.Functions;
using SandboxFunctions.Host.Telemetry;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.AddSandboxFunctions();
builder.AddSandboxTelemetry(logsReachApplicationInsights: true);

await builder.Build().RunAsync();

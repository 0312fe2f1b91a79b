using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SandboxFunctions.Host;

namespace SandboxFunctions.Functions;

public static class FunctionsHostingExtensions
{
    /// <summary>
    /// Registers what the functions call: the same engine, storage, tools and MCP request handling as the standalone
    /// server. The Functions host runs the background work (its timer and queue triggers) and checks function keys.
    /// </summary>
    public static IHostApplicationBuilder AddSandboxFunctions(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSandboxCore(runBackgroundWork: false);
        builder.Services.AddSandboxMcpHttp(behindFunctionsHost: true);
        return builder;
    }
}

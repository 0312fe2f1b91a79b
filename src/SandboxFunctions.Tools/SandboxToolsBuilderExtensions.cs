using SandboxFunctions.Tools;

namespace Microsoft.Extensions.DependencyInjection;

public static class SandboxToolsBuilderExtensions
{
    /// <summary>Adds the sandbox tools to an MCP server.</summary>
    public static IMcpServerBuilder WithSandboxTools(this IMcpServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSandbox();
        builder.Services.AddSessionStorage();
        return builder.WithTools<RuntimeTools>(ToolJson.Options);
    }
}

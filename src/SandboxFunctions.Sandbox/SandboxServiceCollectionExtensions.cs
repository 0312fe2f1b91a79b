using Microsoft.Extensions.DependencyInjection.Extensions;
using SandboxFunctions.Sandbox;

namespace Microsoft.Extensions.DependencyInjection;

public static class SandboxServiceCollectionExtensions
{
    /// <summary>Registers the sandbox engine and the guest runtimes it finds.</summary>
    public static IServiceCollection AddSandbox(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<RuntimeCatalog>();
        return services;
    }
}

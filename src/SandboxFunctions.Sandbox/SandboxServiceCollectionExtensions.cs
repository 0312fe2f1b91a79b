using Microsoft.Extensions.DependencyInjection.Extensions;
using SandboxFunctions.Sandbox;

namespace Microsoft.Extensions.DependencyInjection;

public static class SandboxServiceCollectionExtensions
{
    /// <summary>Registers the sandbox engine and the guest runtimes it finds.</summary>
    public static IServiceCollection AddSandbox(this IServiceCollection services, Action<SandboxOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<SandboxOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RuntimeCatalog>();
        return services;
    }
}

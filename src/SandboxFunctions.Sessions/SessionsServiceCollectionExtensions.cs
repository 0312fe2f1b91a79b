using Microsoft.Extensions.DependencyInjection.Extensions;
using SandboxFunctions.Sessions;

namespace Microsoft.Extensions.DependencyInjection;

public static class SessionsServiceCollectionExtensions
{
    /// <summary>Registers session storage.</summary>
    public static IServiceCollection AddSessionStorage(this IServiceCollection services, Action<SessionStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<SessionStorageOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton<IStorageHealthProbe, FileStorageHealthProbe>();
        return services;
    }
}

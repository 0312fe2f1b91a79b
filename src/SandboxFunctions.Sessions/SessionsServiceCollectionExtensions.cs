using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sessions;
using SandboxFunctions.Sessions.Storage;

namespace Microsoft.Extensions.DependencyInjection;

public static class SessionsServiceCollectionExtensions
{
    /// <summary>
    /// Registers session storage: the store chosen from configuration (the <c>SessionStorage</c> connection,
    /// else <c>AzureWebJobsStorage</c>, else the embedded file store), snapshot protection, and the reaper.
    /// </summary>
    public static IServiceCollection AddSessionStorage(this IServiceCollection services, Action<SessionStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var storage = services.AddOptions<SessionStorageOptions>();
        if (configure is not null)
        {
            storage.Configure(configure);
        }

        services.AddOptions<SessionStoreOptions>();
        services.AddOptions<SnapshotProtectionOptions>();
        services.AddOptions<OwnerIdOptions>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OwnerIdOptions>, OwnerIdOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SessionStoreOptions>, SessionStoreOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IStorageProvider>(provider => StorageProviderFactory.Create(
            provider.GetRequiredService<IConfiguration>(),
            provider.GetRequiredService<IOptions<SessionStorageOptions>>().Value.DataPath,
            provider.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<SnapshotProtection>();
        services.TryAddSingleton<SessionStore>();
        services.TryAddSingleton<JobStore>();
        services.TryAddSingleton<SignalStore>();
        services.TryAddSingleton<ExecutionHistory>();
        services.TryAddSingleton<SessionReaper>();
        services.TryAddSingleton<OwnerIds>();
        services.TryAddSingleton<OwnerMigration>();
        services.TryAddSingleton<IStorageHealthProbe, StorageHealthProbe>();
        return services;
    }
}

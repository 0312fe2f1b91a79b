using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SandboxFunctions.Host.Http;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sessions;
using SandboxFunctions.Tools;
using SandboxFunctions.Tools.Data;
using SandboxFunctions.Tools.Packages;
using SandboxFunctions.Tools.Jobs;

namespace SandboxFunctions.Host;

public static class HostingExtensions
{
    public const string FunctionKeysSetting = "Auth:FunctionKeys";

    /// <summary>Registers everything the standalone HTTP server needs: MCP over HTTP, the tools, background work, and where to listen.</summary>
    public static WebApplicationBuilder AddSandboxHttpServer(this WebApplicationBuilder builder)
    {
        var keys = FunctionKeyOptions.ParseKeys(builder.Configuration[FunctionKeysSetting]);
        var plan = ListenPlan.Create(builder.Configuration, keysConfigured: keys.Count > 0);
        builder.WebHost.UseUrls([.. plan.Urls]);

        builder.Services.AddSandboxCore(runBackgroundWork: true);
        builder.Services.AddSandboxMcpHttp(behindFunctionsHost: false);
        builder.Services.AddSingleton(plan);
        builder.Services.AddHostedService<StartupNotice>();
        return builder;
    }

    /// <summary>
    /// Registers the MCP endpoint's request handling (origins, callers by function key, the stateless MCP handler),
    /// which the standalone server and the Functions app share. <paramref name="behindFunctionsHost"/> says that the
    /// Functions host has already checked each request's function key.
    /// </summary>
    public static IServiceCollection AddSandboxMcpHttp(this IServiceCollection services, bool behindFunctionsHost)
    {
        services.AddOptions<McpHttpOptions>().BindConfiguration(McpHttpOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<McpHttpOptions>, McpHttpOptionsValidator>());
        services.AddOptions<FunctionKeyOptions>().Configure<IConfiguration>((options, configuration) =>
        {
            options.Keys = FunctionKeyOptions.ParseKeys(configuration[FunctionKeysSetting]);
            options.BehindFunctionsHost = behindFunctionsHost;
        });
        services.TryAddSingleton<OriginPolicy>();
        services.TryAddSingleton<StatelessMcpHandler>();
        services.TryAddSingleton<CallerIdentity>();
        services.TryAddSingleton(provider => new McpRequests(
            provider.GetRequiredService<OriginPolicy>(),
            provider.GetRequiredService<CallerIdentity>(),
            provider.GetRequiredService<StatelessMcpHandler>()));
        return services;
    }

    /// <summary>
    /// Registers what both the HTTP and the stdio server need: the engine, session storage, the MCP server with its
    /// tools, and their options. <paramref name="runBackgroundWork"/> is false under a Functions host, whose timer
    /// trigger reaps and whose queue trigger delivers jobs instead.
    /// </summary>
    public static IServiceCollection AddSandboxCore(this IServiceCollection services, bool runBackgroundWork)
    {
        services.AddOptions<SandboxOptions>().BindConfiguration(SandboxOptions.SectionName).ValidateOnStart();
        services.AddOptions<WarmCacheOptions>().BindConfiguration(SandboxOptions.SectionName).ValidateOnStart();
        services.AddOptions<DataCacheOptions>().BindConfiguration(SandboxOptions.SectionName).ValidateOnStart();
        services.AddOptions<DataVolumeOptions>()
            .Configure<IConfiguration>((options, configuration) => configuration.GetSection(DataVolumeOptions.SectionName).Bind(options.Volumes))
            .ValidateOnStart();
        services.AddOptions<SessionStorageOptions>().BindConfiguration("Storage").ValidateOnStart();
        services.AddOptions<SessionStoreOptions>().BindConfiguration(SessionStoreOptions.SectionName).ValidateOnStart();
        services.AddOptions<SnapshotProtectionOptions>().BindConfiguration(SnapshotProtectionOptions.SectionName).ValidateOnStart();
        services.AddOptions<OwnerIdOptions>().BindConfiguration(OwnerIdOptions.SectionName).ValidateOnStart();
        services.AddOptions<PackageIndexOptions>().BindConfiguration(PackageIndexOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<JobOptions>().BindConfiguration(JobOptions.SectionName).ValidateOnStart();
        services.AddOptions<FlavorOptions>()
            .Configure<IConfiguration>((options, configuration) => configuration.GetSection(FlavorOptions.SectionName).Bind(options.Flavors))
            .ValidateOnStart();

        services.AddSandbox();
        services.AddSessionStorage();
        services.AddHostedService<RuntimeWarmUp>();
        if (runBackgroundWork)
        {
            services.AddHostedService<SessionReaperService>();
            services.AddHostedService<JobQueueWorker>();
        }

        services.AddMcpServer(options =>
            {
                options.ServerInfo = new() { Name = "SandboxFunctions", Title = "Sandbox Functions", Version = ServerVersion.Current };
                options.ServerInstructions =
                    "Runs Python and JavaScript in isolated WebAssembly sandboxes whose state (variables, imports, files in /workspace) persists across calls in a session. " +
                    "Use execute_code; pass the session_id it returns to keep working in the same session. Call list_runtimes for languages, packages and limits. " +
                    "execute_command runs shell-style command lines (ls, grep, pipes, python/node scripts) over the session's files; submit_job runs work of up to an hour in the background; install_package adds pure-Python packages.";
            })
            .WithSandboxTools();
        return services;
    }

}

using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SandboxFunctions.Host.Http;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sessions;
using SandboxFunctions.Tools;
using SandboxFunctions.Tools.Packages;
using SandboxFunctions.Tools.Jobs;

namespace SandboxFunctions.Host;

internal static class HostingExtensions
{
    public const string FunctionKeysSetting = "Auth:FunctionKeys";

    /// <summary>Registers everything the HTTP server needs: MCP, tools, authentication, and where to listen.</summary>
    public static WebApplicationBuilder AddSandboxHttpServer(this WebApplicationBuilder builder)
    {
        var keys = ParseKeys(builder.Configuration[FunctionKeysSetting]);
        var plan = ListenPlan.Create(builder.Configuration, keysConfigured: keys.Count > 0);
        builder.WebHost.UseUrls([.. plan.Urls]);

        builder.Services.AddSandboxCore(runBackgroundWork: !plan.BehindFunctionsHost);
        builder.Services.AddSingleton(plan);
        builder.Services.AddHostedService<StartupNotice>();

        builder.Services.AddOptions<McpHttpOptions>().BindConfiguration(McpHttpOptions.SectionName).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<McpHttpOptions>, McpHttpOptionsValidator>());
        builder.Services.TryAddSingleton<OriginPolicy>();
        builder.Services.TryAddSingleton<StatelessMcpHandler>();

        // Core authentication only: function keys need no cookies, so no data-protection key ring either.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddWebEncoders();
        builder.Services.AddAuthenticationCore(options => options.DefaultScheme = FunctionKeyAuthenticationHandler.SchemeName);
        new AuthenticationBuilder(builder.Services)
            .AddScheme<FunctionKeyAuthenticationOptions, FunctionKeyAuthenticationHandler>(FunctionKeyAuthenticationHandler.SchemeName, options =>
            {
                options.Keys = keys;
                options.BehindFunctionsHost = plan.BehindFunctionsHost;
            });
        builder.Services.AddAuthorization();
        return builder;
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

    internal static IReadOnlyList<string> ParseKeys(string? setting) =>
        (setting ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

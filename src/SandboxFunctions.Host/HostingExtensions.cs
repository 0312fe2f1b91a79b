using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SandboxFunctions.Host.Http;
using SandboxFunctions.Sessions;

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

        builder.Services.AddSandboxCore(builder.Configuration);
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

    /// <summary>Registers what both the HTTP and the stdio server need: the MCP server, its tools and their options.</summary>
    public static IServiceCollection AddSandboxCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SessionStorageOptions>().BindConfiguration("Storage");
        services.AddMcpServer(options =>
            {
                options.ServerInfo = new() { Name = "SandboxFunctions", Title = "Sandbox Functions", Version = ServerVersion.Current };
                options.ServerInstructions =
                    "Runs Python and JavaScript in isolated WebAssembly sandboxes. Call list_runtimes to see what is available.";
            })
            .WithSandboxTools();
        return services;
    }

    internal static IReadOnlyList<string> ParseKeys(string? setting) =>
        (setting ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

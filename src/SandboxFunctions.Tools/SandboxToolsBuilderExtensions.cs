using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sessions;
using SandboxFunctions.Tools;
using SandboxFunctions.Tools.Cancellation;
using SandboxFunctions.Tools.Data;
using SandboxFunctions.Tools.Diagnostics;
using SandboxFunctions.Tools.History;
using SandboxFunctions.Tools.Jobs;

namespace Microsoft.Extensions.DependencyInjection;

public static class SandboxToolsBuilderExtensions
{
    /// <summary>
    /// Adds the sandbox tools and workspace resources to an MCP server. The sandbox engine and session storage
    /// must be registered too (<c>AddSandbox</c>, <c>AddSessionStorage</c>).
    /// </summary>
    public static IMcpServerBuilder WithSandboxTools(this IMcpServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<FlavorOptions>();
        services.AddOptions<WarmCacheOptions>();
        services.AddOptions<DataVolumeOptions>();
        services.AddOptions<DataCacheOptions>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DataVolumeOptions>, DataVolumeOptionsValidator>());
        services.TryAddSingleton<DataFileCache>();
        services.TryAddSingleton<DataVolumes>();

        // The engine mounts every configured volume; each sandbox sees those its flavor allows.
        services.TryAddSingleton<IEnumerable<SandboxFunctions.Sandbox.Data.IDataVolume>>(provider => provider.GetRequiredService<DataVolumes>().All);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FlavorOptions>, FlavorOptionsValidator>());
        services.TryAddSingleton<WarmSandboxCache>();
        services.TryAddSingleton<SandboxSessions>();
        services.TryAddSingleton<WorkspaceResources>();
        services.AddOptions<JobOptions>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobOptions>, JobOptionsValidator>());
        services.TryAddSingleton<RunningExecutions>();
        services.TryAddSingleton<SessionHistory>();
        services.AddOptions<TelemetryOptions>();
        services.TryAddSingleton<ToolDiagnostics>();
        services.TryAddSingleton<JobRunner>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<McpServerOptions>, ToolOutputSchemas>());

        return builder
            .WithTools<RuntimeTools>(ToolJson.Options)
            .WithTools<ExecutionTools>(ToolJson.Options)
            .WithTools<SessionTools>(ToolJson.Options)
            .WithTools<FileTools>(ToolJson.Options)
            .WithTools<ShellTools>(ToolJson.Options)
            .WithTools<PackageTools>(ToolJson.Options)
            .WithTools<CancellationTools>(ToolJson.Options)
            .WithTools<JobTools>(ToolJson.Options)
            .WithTools<HistoryTools>(ToolJson.Options)
            .WithListResourcesHandler(async (context, cancellationToken) =>
            {
                await AdoptLegacySessionsAsync(context.User, context.Services!, cancellationToken).ConfigureAwait(false);
                return await context.Services!.GetRequiredService<WorkspaceResources>().ListAsync(context, cancellationToken).ConfigureAwait(false);
            })
            .WithListResourceTemplatesHandler(WorkspaceResources.ListTemplatesAsync)
            .WithReadResourceHandler(async (context, cancellationToken) =>
            {
                await AdoptLegacySessionsAsync(context.User, context.Services!, cancellationToken).ConfigureAwait(false);
                return await context.Services!.GetRequiredService<WorkspaceResources>().ReadAsync(context, cancellationToken).ConfigureAwait(false);
            })
            .WithRequestFilters(filters => filters.AddCallToolFilter(next => async (context, cancellationToken) =>
            {
                ToolArguments.Validate(context);
                if (context.Params?.Name != RuntimeTools.ListRuntimesName)
                {
                    await AdoptLegacySessionsAsync(context.User, context.Services!, cancellationToken).ConfigureAwait(false);
                }

                var result = await CallAsync(next, context, cancellationToken).ConfigureAwait(false);
                ToolDiagnostics.RecordToolCall(context.Params?.Name ?? string.Empty, result.IsError == true ? ErrorCodeOf(result) : "ok");
                return result;
            }));
    }

    /// <summary>
    /// Moves the sessions stored under the caller's legacy owner id (see <see cref="Callers.LegacyOwnerClaimType"/>)
    /// to its current one before anything looks for them. Only requests that use sessions wait for it, and a storage
    /// failure here leaves the move for the next request and the error to the call itself.
    /// </summary>
    private static Task AdoptLegacySessionsAsync(ClaimsPrincipal? user, IServiceProvider services, CancellationToken cancellationToken) =>
        user?.FindFirst(Callers.LegacyOwnerClaimType)?.Value is { } legacyOwner
            ? services.GetRequiredService<OwnerMigration>().EnsureMovedAsync(legacyOwner, Callers.GetOwner(user), cancellationToken)
            : Task.CompletedTask;

    private static async ValueTask<CallToolResult> CallAsync(McpRequestHandler<CallToolRequestParams, CallToolResult> next, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        try
        {
            return await next(context, cancellationToken).ConfigureAwait(false);
        }
        catch (ToolFailureException failure)
        {
            return ToolResults.Failure(failure.Error);
        }
        catch (WorkspaceException ex)
        {
            return ToolResults.Failure(WorkspaceErrors.From(ex).Error);
        }
        catch (SandboxException ex) when (ex.Kind == SandboxErrorKind.Busy)
        {
            return ToolResults.Failure(ToolErrors.ServerBusy(ex.Message).Error);
        }
    }

    private static string ErrorCodeOf(CallToolResult result) =>
        result.StructuredContent is { } structured && structured.TryGetProperty("error", out var error) && error.TryGetProperty("code", out var code)
            ? code.GetString() ?? "error"
            : "error";
}

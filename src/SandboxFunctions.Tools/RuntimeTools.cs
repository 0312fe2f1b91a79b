using System.ComponentModel;
using System.Text;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Tools.Data;

namespace SandboxFunctions.Tools;

[McpServerToolType]
public sealed class RuntimeTools(RuntimeCatalog catalog, SandboxSessions sessions, DataVolumes dataVolumes)
{
    /// <summary>The one tool that touches no session.</summary>
    public const string ListRuntimesName = "list_runtimes";

    [McpServerTool(Name = ListRuntimesName, Title = "List runtimes", ReadOnly = true, Idempotent = true, UseStructuredContent = true, OutputSchemaType = typeof(RuntimeList))]
    [Description("Lists the languages this server runs code in (the values execute_code accepts as `language`), with versions, engines, preinstalled packages, the limits of each flavor (small, medium, large), and the shared read-only data volumes sessions find under /data.")]
    public async Task<CallToolResult> ListRuntimesAsync(CancellationToken cancellationToken = default)
    {
        var runtimes = catalog.Runtimes.Select(r => new RuntimeEntry(r.Language, r.Version, r.Engine, r.BuildId, r.Packages)).ToList();
        var flavors = sessions.Flavors
            .OrderBy(f => f.Value.MemoryMiB)
            .Select(f => new FlavorEntry(f.Key, f.Value.MemoryMiB, f.Value.DefaultTimeoutSeconds, f.Value.MaxTimeoutSeconds, f.Value.OutputKiB, f.Value.WorkspaceMiB, f.Value.MaxFiles))
            .ToList();
        var options = sessions.Options;
        var message = runtimes.Count == 0 ? "No guest runtimes are installed on this server, so code cannot be executed yet." : null;
        var volumes = await dataVolumes.DescribeAsync(cancellationToken).ConfigureAwait(false);
        var list = new RuntimeList(runtimes, flavors, (long)options.DefaultTtl.TotalSeconds, (long)options.MaxTtl.TotalSeconds, options.MaxSessionsPerOwner, message, volumes.Count == 0 ? null : volumes);
        return ToolResults.Success(list, Summarize(list));
    }

    private static string Summarize(RuntimeList list)
    {
        if (list.Message is { } message)
        {
            return message;
        }

        var text = new StringBuilder("Runtimes:");
        foreach (var runtime in list.Runtimes ?? [])
        {
            text.Append($"\n- {runtime.Language} {runtime.Version}: {runtime.Engine}");
            if (runtime.Packages.Count > 0)
            {
                text.Append($"; packages: {string.Join(", ", runtime.Packages)}");
            }
        }

        text.Append("\nFlavors:");
        foreach (var flavor in list.Flavors ?? [])
        {
            text.Append($"\n- {flavor.Name}: {flavor.MemoryMiB} MiB memory, timeout {flavor.DefaultTimeoutSeconds} s (max {flavor.MaxTimeoutSeconds} s), {flavor.OutputKiB} KiB output per stream, {flavor.WorkspaceMiB} MiB / {flavor.MaxFiles} files of workspace");
        }

        if (list.DataVolumes is { } volumes)
        {
            text.Append("\nData volumes (read-only):");
            foreach (var volume in volumes)
            {
                text.Append(volume.Error is { } error ? $"\n- {volume.Path}: {error}" : $"\n- {volume.Path}: {volume.Files} files, {volume.Bytes} bytes{(volume.Flavors is { } only ? $" (flavors: {string.Join(", ", only)})" : string.Empty)}");
            }
        }

        text.Append($"\nSessions expire after {list.DefaultTtlSeconds} idle seconds by default (at most {list.MaxTtlSeconds}); up to {list.MaxSessionsPerCredential} per credential.");
        return text.ToString();
    }

    public sealed record RuntimeList(
        [property: Description("The runtimes available on this server.")] IReadOnlyList<RuntimeEntry>? Runtimes = null,
        [property: Description("The flavors a session can have, with their limits.")] IReadOnlyList<FlavorEntry>? Flavors = null,
        [property: Description("Idle seconds after which a session expires by default.")] long? DefaultTtlSeconds = null,
        [property: Description("The longest ttl_seconds a session may have.")] long? MaxTtlSeconds = null,
        [property: Description("Sessions one credential may hold at once.")] int? MaxSessionsPerCredential = null,
        [property: Description("Present when there is something to know about the list, e.g. that it is empty.")] string? Message = null,
        [property: Description("Shared read-only files sessions find under /data, by volume; absent when the server has none.")] IReadOnlyList<DataVolumeInfo>? DataVolumes = null,
        [property: Description("Set when the call failed.")] ToolError? Error = null);

    public sealed record RuntimeEntry(
        [property: Description("Value to pass as `language` to execute_code.")] string Language,
        [property: Description("Language version.")] string Version,
        [property: Description("Interpreter and how it is executed.")] string Engine,
        [property: Description("Exact runtime build; sessions are bound to it.")] string BuildId,
        [property: Description("Packages that ship with the runtime, as name==version.")] IReadOnlyList<string> Packages);

    public sealed record FlavorEntry(
        [property: Description("Value to pass as `flavor`.")] string Name,
        [property: Description("Interpreter memory limit in MiB.")] int MemoryMiB,
        [property: Description("Timeout of a call that asks for none, in seconds.")] int DefaultTimeoutSeconds,
        [property: Description("Longest timeout_seconds a call may ask for.")] int MaxTimeoutSeconds,
        [property: Description("stdout and stderr each kept in a result, in KiB; the rest is saved to a workspace file.")] int OutputKiB,
        [property: Description("Workspace size limit in MiB.")] int WorkspaceMiB,
        [property: Description("Most files and folders the workspace may hold.")] int MaxFiles);
}

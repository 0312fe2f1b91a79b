using System.ComponentModel;
using System.Text;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Tools;

[McpServerToolType]
public sealed class RuntimeTools(RuntimeCatalog catalog)
{
    [McpServerTool(Name = "list_runtimes", Title = "List runtimes", ReadOnly = true, Idempotent = true, UseStructuredContent = true, OutputSchemaType = typeof(RuntimeList))]
    [Description("Lists the languages this server can run code in, with each runtime's version, engine and preinstalled packages. Call it first to learn which `language` values execute_code accepts.")]
    public CallToolResult ListRuntimes()
    {
        var runtimes = catalog.Runtimes.Select(r => new RuntimeEntry(r.Language, r.Version, r.Engine, r.BuildId, r.Packages)).ToList();
        var message = runtimes.Count == 0
            ? "No guest runtimes are installed on this server, so code cannot be executed yet."
            : null;
        return ToolResults.Success(new RuntimeList(runtimes, message), Summarize(runtimes, message));
    }

    private static string Summarize(IReadOnlyList<RuntimeEntry> runtimes, string? message)
    {
        if (message is not null)
        {
            return message;
        }

        var text = new StringBuilder("Available runtimes:");
        foreach (var runtime in runtimes)
        {
            text.Append($"\n- {runtime.Language} {runtime.Version} ({runtime.Engine})");
        }

        return text.ToString();
    }

    public sealed record RuntimeList(
        [property: Description("The runtimes available on this server.")] IReadOnlyList<RuntimeEntry> Runtimes,
        [property: Description("Present when there is something to know about the list, e.g. that it is empty.")] string? Message = null);

    public sealed record RuntimeEntry(
        [property: Description("Value to pass as `language` to execute_code.")] string Language,
        [property: Description("Language version.")] string Version,
        [property: Description("Interpreter and how it is executed.")] string Engine,
        [property: Description("Exact runtime build; sessions are bound to it.")] string BuildId,
        [property: Description("Packages that ship with the runtime, as name==version.")] IReadOnlyList<string> Packages);
}

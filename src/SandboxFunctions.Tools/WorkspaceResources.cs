using System.Text;
using System.Text.Unicode;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Tools;

/// <summary>
/// Workspace files as MCP resources: <c>sandbox://sessions/{session_id}/workspace/{path}</c>. Listing reads
/// the session records (no sandbox is loaded); reading loads the session and returns text or bytes.
/// </summary>
public sealed class WorkspaceResources(SandboxSessions sessions)
{
    public const string Scheme = "sandbox";
    private const string Prefix = "sandbox://sessions/";
    private const string WorkspaceSegment = "/workspace/";
    private const int MaxResourceBytes = 4 * 1024 * 1024;

    public static string UriOf(string sessionId, string path) =>
        $"{Prefix}{Uri.EscapeDataString(sessionId)}{WorkspaceSegment}{string.Join('/', SandboxWorkspace.Normalize(path)[(SandboxWorkspace.Root.Length + 1)..].Split('/').Select(Uri.EscapeDataString))}";

    /// <summary>Resource links to files a call wrote, so clients fetch their content instead of receiving it inline.</summary>
    public static IEnumerable<ContentBlock> LinksTo(string sessionId, IEnumerable<WorkspaceEntry> files) =>
        files.Select(f => new ResourceLinkBlock
        {
            Uri = UriOf(sessionId, f.Path),
            Name = f.Path,
            MimeType = MimeTypeOf(f.Path),
            Size = f.Size,
        });

    public static string MimeTypeOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".txt" or ".log" or ".md" => "text/plain",
        ".csv" => "text/csv",
        ".json" => "application/json",
        ".py" => "text/x-python",
        ".js" or ".mjs" => "text/javascript",
        ".html" or ".htm" => "text/html",
        ".xml" => "application/xml",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".gif" => "image/gif",
        ".pdf" => "application/pdf",
        ".zip" => "application/zip",
        _ => "application/octet-stream",
    };

    public async ValueTask<ListResourcesResult> ListAsync(RequestContext<ListResourcesRequestParams> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var records = await sessions.ListAsync(Callers.GetOwner(context.User), cancellationToken).ConfigureAwait(false);
        return new ListResourcesResult
        {
            Resources = [.. records.SelectMany(r => r.Files.Select(f => new Resource
            {
                Uri = UriOf(r.Id, f.Path),
                Name = f.Path[(SandboxWorkspace.Root.Length + 1)..],
                Title = $"{f.Path} in session {r.Id}",
                MimeType = MimeTypeOf(f.Path),
                Size = f.Size,
            }))],
        };
    }

    public static ValueTask<ListResourceTemplatesResult> ListTemplatesAsync(RequestContext<ListResourceTemplatesRequestParams> context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new ListResourceTemplatesResult
        {
            ResourceTemplates =
            [
                new ResourceTemplate
                {
                    UriTemplate = Prefix + "{session_id}/workspace/{+path}",
                    Name = "workspace-file",
                    Title = "A file in a session's /workspace",
                    Description = "Any file in the /workspace folder of one of your sessions, e.g. a CSV an execution wrote.",
                },
            ],
        });

    public async ValueTask<ReadResourceResult> ReadAsync(RequestContext<ReadResourceRequestParams> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var uri = context.Params?.Uri ?? throw new McpProtocolException("resources/read needs a uri.", McpErrorCode.InvalidParams);
        if (!TryParse(uri, out var sessionId, out var path))
        {
            throw new McpProtocolException($"'{uri}' is not a workspace resource; its form is {Prefix}{{session_id}}/workspace/{{path}}.", McpErrorCode.InvalidParams);
        }

        byte[] data;
        try
        {
            var outcome = await sessions.UseAsync(Callers.GetOwner(context.User), sessionId, async (_, sandbox) =>
                new SessionStep<byte[]>(await sandbox.Workspace.ReadAsync(path, 0, MaxResourceBytes, cancellationToken).ConfigureAwait(false), Commit: false),
                cancellationToken).ConfigureAwait(false);
            data = outcome.Value;
        }
        catch (ToolFailureException failure)
        {
            throw new McpProtocolException(failure.Error.Message, McpErrorCode.ResourceNotFound);
        }
        catch (WorkspaceException ex)
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.ResourceNotFound);
        }

        var mimeType = MimeTypeOf(path);
        ResourceContents contents = !data.AsSpan().Contains((byte)0) && Utf8.IsValid(data)
            ? new TextResourceContents { Uri = uri, MimeType = mimeType, Text = Encoding.UTF8.GetString(data) }
            : BlobResourceContents.FromBytes(data, uri, mimeType);
        return new ReadResourceResult { Contents = [contents] };
    }

    private static bool TryParse(string uri, out string sessionId, out string path)
    {
        sessionId = path = string.Empty;
        if (!uri.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = uri[Prefix.Length..];
        var split = rest.IndexOf(WorkspaceSegment, StringComparison.Ordinal);
        if (split <= 0)
        {
            return false;
        }

        sessionId = Uri.UnescapeDataString(rest[..split]);
        path = string.Join('/', rest[(split + WorkspaceSegment.Length)..].Split('/').Select(Uri.UnescapeDataString));
        return path.Length > 0;
    }
}

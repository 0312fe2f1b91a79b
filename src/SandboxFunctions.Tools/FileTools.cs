using System.ComponentModel;
using System.Text;
using System.Text.Unicode;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Tools;

[McpServerToolType]
public sealed class FileTools(SandboxSessions sessions)
{
    /// <summary>The most read_file returns at once; larger files are read in ranges.</summary>
    private const int MaxReadBytes = 1024 * 1024;

    [McpServerTool(Name = "write_file", Title = "Write file", Destructive = true, Idempotent = true, UseStructuredContent = true, OutputSchemaType = typeof(FileWriteResult))]
    [Description("Writes a file into a session's /workspace (creating folders as needed, replacing an existing file), where the session's code can read it, e.g. a CSV to analyse.")]
    public async Task<CallToolResult> WriteFileAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The session whose workspace receives the file.")] string session_id,
        [Description("Path relative to /workspace (e.g. 'data/input.csv'), or absolute under /workspace.")] string path,
        [Description("The file's content: text for encoding 'utf8', base64 for encoding 'base64'.")] string content,
        [Description("'utf8' (default) for text, or 'base64' for binary content.")] string encoding = "utf8",
        CancellationToken cancellationToken = default)
    {
        var bytes = Decode(content, encoding);
        var outcome = await sessions.UseAsync(Callers.GetOwner(context.User), session_id, async (_, sandbox) =>
            new SessionStep<WorkspaceEntry>(await sandbox.Workspace.WriteAsync(path, bytes, cancellationToken).ConfigureAwait(false), Commit: true),
            cancellationToken).ConfigureAwait(false);
        var entry = outcome.Value;
        var result = new FileWriteResult(outcome.Record.Id, entry.Path, entry.Size, WorkspaceResources.UriOf(outcome.Record.Id, entry.Path), outcome.SaveError);
        return outcome.SaveError is null
            ? ToolResults.Success(result, $"Wrote {entry.Size} bytes to {entry.Path} in session {outcome.Record.Id}.")
            : ToolResults.Failure(result, ToolResults.Describe(outcome.SaveError));
    }

    [McpServerTool(Name = "read_file", Title = "Read file", ReadOnly = true, Idempotent = true, UseStructuredContent = true, OutputSchemaType = typeof(FileReadResult))]
    [Description("Reads a file from a session's /workspace, as text or base64, whole or a byte range (at most 1 MiB per call).")]
    public async Task<CallToolResult> ReadFileAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The session whose workspace holds the file.")] string session_id,
        [Description("Path relative to /workspace, or absolute under /workspace.")] string path,
        [Description("'utf8' for text or 'base64' for bytes. When omitted, text files come back as utf8 and others as base64.")] string? encoding = null,
        [Description("Byte offset to start reading at (default 0).")] long offset = 0,
        [Description("Bytes to read (default: the rest of the file, up to 1 MiB).")] long? length = null,
        CancellationToken cancellationToken = default)
    {
        if (encoding is not (null or "utf8" or "base64"))
        {
            throw ToolErrors.InvalidContent($"encoding must be 'utf8' or 'base64', not '{encoding}'.");
        }

        if (length is < 0)
        {
            throw ToolErrors.InvalidRange($"length must not be negative; got {length}.");
        }

        var count = Math.Min(length ?? MaxReadBytes, MaxReadBytes);
        var outcome = await sessions.UseAsync(Callers.GetOwner(context.User), session_id, async (_, sandbox) =>
        {
            var bytes = await sandbox.Workspace.ReadAsync(path, offset, count, cancellationToken).ConfigureAwait(false);
            var entries = await sandbox.Workspace.ListAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new SessionStep<(byte[] Bytes, long Size)>((bytes, entries.Single().Size), Commit: false);
        }, cancellationToken).ConfigureAwait(false);

        var (data, size) = outcome.Value;
        var normalized = SandboxWorkspace.Normalize(path);
        var asText = encoding == "utf8" || (encoding is null && IsText(data));
        string text;
        if (asText)
        {
            try
            {
                text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(data);
            }
            catch (DecoderFallbackException)
            {
                throw ToolErrors.InvalidContent($"{normalized} is not valid UTF-8 text at this range; read it with encoding 'base64'.");
            }
        }
        else
        {
            text = Convert.ToBase64String(data);
        }

        var end = offset + data.Length;
        var result = new FileReadResult(outcome.Record.Id, normalized, asText ? "utf8" : "base64", text, offset, data.Length, size, end < size);
        var summary = asText
            ? $"{normalized} (bytes {offset}-{end} of {size}{(end < size ? $"; more from offset {end}" : string.Empty)}):\n{text}"
            : $"{normalized} (bytes {offset}-{end} of {size}, base64{(end < size ? $"; more from offset {end}" : string.Empty)}):\n{text}";
        return ToolResults.Success(result, summary);
    }

    [McpServerTool(Name = "list_files", Title = "List files", ReadOnly = true, Idempotent = true, UseStructuredContent = true, OutputSchemaType = typeof(FileListResult))]
    [Description("Lists the files and folders in a session's /workspace (recursively), with sizes and resource URIs.")]
    public async Task<CallToolResult> ListFilesAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The session whose workspace to list.")] string session_id,
        [Description("Folder to list, relative to /workspace (default: the whole workspace).")] string? path = null,
        CancellationToken cancellationToken = default)
    {
        var outcome = await sessions.UseAsync(Callers.GetOwner(context.User), session_id, async (_, sandbox) =>
            new SessionStep<IReadOnlyList<WorkspaceEntry>>(await sandbox.Workspace.ListAsync(path, recursive: true, cancellationToken).ConfigureAwait(false), Commit: false),
            cancellationToken).ConfigureAwait(false);
        var files = outcome.Value.Select(e => new WorkspaceFileInfo(e.Path, e.Size, WorkspaceResources.UriOf(outcome.Record.Id, e.Path), e.IsDirectory ? true : null)).ToList();
        var text = new StringBuilder(files.Count == 0 ? "The workspace is empty." : $"{files.Count} entries:");
        foreach (var file in files)
        {
            text.Append(file.IsDirectory == true ? $"\n- {file.Path}/" : $"\n- {file.Path} ({file.Size} bytes)");
        }

        return ToolResults.Success(new FileListResult(outcome.Record.Id, files), text.ToString());
    }

    [McpServerTool(Name = "delete_file", Title = "Delete file", Destructive = true, Idempotent = false, UseStructuredContent = true, OutputSchemaType = typeof(FileDeleteResult))]
    [Description("Deletes a file, or a folder with everything in it, from a session's /workspace.")]
    public async Task<CallToolResult> DeleteFileAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The session whose workspace holds the file.")] string session_id,
        [Description("Path of the file or folder, relative to /workspace.")] string path,
        CancellationToken cancellationToken = default)
    {
        var outcome = await sessions.UseAsync(Callers.GetOwner(context.User), session_id, async (_, sandbox) =>
        {
            await sandbox.Workspace.DeleteAsync(path, cancellationToken).ConfigureAwait(false);
            return new SessionStep<string>(SandboxWorkspace.Normalize(path), Commit: true);
        }, cancellationToken).ConfigureAwait(false);
        var result = new FileDeleteResult(outcome.Record.Id, outcome.Value, outcome.SaveError is null, outcome.SaveError);
        return outcome.SaveError is null
            ? ToolResults.Success(result, $"Deleted {outcome.Value} from session {outcome.Record.Id}.")
            : ToolResults.Failure(result, ToolResults.Describe(outcome.SaveError));
    }

    private static byte[] Decode(string content, string encoding) => encoding switch
    {
        "utf8" => Encoding.UTF8.GetBytes(content),
        "base64" => TryBase64(content) ?? throw ToolErrors.InvalidContent("content is not valid base64."),
        _ => throw ToolErrors.InvalidContent($"encoding must be 'utf8' or 'base64', not '{encoding}'."),
    };

    private static byte[]? TryBase64(string content)
    {
        var buffer = new byte[(content.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(content, buffer, out var written) ? buffer[..written] : null;
    }

    private static bool IsText(ReadOnlySpan<byte> data) =>
        !data.Contains((byte)0) && Utf8.IsValid(data);
}

public sealed record FileWriteResult(
    [property: Description("The session written to.")] string? SessionId = null,
    [property: Description("Absolute path of the file.")] string? Path = null,
    [property: Description("Size in bytes.")] long? Size = null,
    [property: Description("MCP resource URI of the file.")] string? Uri = null,
    [property: Description("Set when the call failed.")] ToolError? Error = null);

public sealed record FileReadResult(
    [property: Description("The session read from.")] string? SessionId = null,
    [property: Description("Absolute path of the file.")] string? Path = null,
    [property: Description("utf8 or base64: how content is encoded.")] string? Encoding = null,
    [property: Description("The bytes read, as text or base64.")] string? Content = null,
    [property: Description("Offset the read started at.")] long? Offset = null,
    [property: Description("Bytes read.")] long? Length = null,
    [property: Description("The file's total size in bytes.")] long? Size = null,
    [property: Description("True when the file continues past this read; read again from offset + length.")] bool? More = null,
    [property: Description("Set when the call failed.")] ToolError? Error = null);

public sealed record FileListResult(
    [property: Description("The session listed.")] string? SessionId = null,
    [property: Description("Files and folders, recursively.")] IReadOnlyList<WorkspaceFileInfo>? Files = null,
    [property: Description("Set when the call failed.")] ToolError? Error = null);

public sealed record FileDeleteResult(
    [property: Description("The session changed.")] string? SessionId = null,
    [property: Description("Absolute path deleted.")] string? Path = null,
    [property: Description("True when the deletion was saved.")] bool? Deleted = null,
    [property: Description("Set when the call failed.")] ToolError? Error = null);

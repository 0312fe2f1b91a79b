using System.Text.Json;
using System.Text.Json.Nodes;
using SandboxFunctions.Sandbox.Vfs;
using SandboxFunctions.Sandbox.Wasi;

namespace SandboxFunctions.Sandbox.Runtimes;

/// <summary>
/// File operations for guests without WASI file imports (the JavaScript reactor): JSON requests from the
/// guest's Node-style fs, served by the same virtual file system and limits as WASI.
/// </summary>
internal static class GuestFileSystem
{
    public static string Handle(VirtualFileSystem files, string requestJson)
    {
        var request = JsonNode.Parse(requestJson) as JsonObject ?? throw new JsonException("The fs request is not an object.");
        var op = request["op"]?.GetValue<string>() ?? throw new JsonException("The fs request has no op.");
        var path = request["path"]?.GetValue<string>() ?? throw new JsonException("The fs request has no path.");
        try
        {
            JsonNode? value = op switch
            {
                "read" => Convert.ToBase64String(RequireFile(files, path).Content),
                "write" => Write(files, path, Convert.FromBase64String(request["data"]?.GetValue<string>() ?? string.Empty), request["append"]?.GetValue<bool>() ?? false),
                "exists" => files.Lookup(files.Root, path, out _) == Errno.Success,
                "stat" => Stat(Require(files, path)),
                "list" => List(files, path),
                "mkdir" => MakeDirectory(files, path, request["recursive"]?.GetValue<bool>() ?? false),
                "remove" => Remove(files, path, request["recursive"]?.GetValue<bool>() ?? false, request["directory"]?.GetValue<bool?>()),
                "rename" => Rename(files, path, request["to"]?.GetValue<string>() ?? throw new JsonException("rename needs 'to'.")),
                _ => throw new JsonException($"Unknown fs operation '{op}'."),
            };
            return new JsonObject { ["value"] = value }.ToJsonString();
        }
        catch (FileSystemError error)
        {
            return new JsonObject { ["error"] = new JsonObject { ["code"] = error.Code, ["message"] = error.Message } }.ToJsonString();
        }
    }

    private static VfsNode Require(VirtualFileSystem files, string path)
    {
        Check(files, files.Lookup(files.Root, path, out var node));
        return node!;
    }

    private static VfsFile RequireFile(VirtualFileSystem files, string path)
    {
        var file = Require(files, path) as VfsFile ?? throw new FileSystemError("EISDIR", "illegal operation on a directory");
        Check(files, VirtualFileSystem.Open(file));
        return file;
    }

    private static JsonNode? Write(VirtualFileSystem files, string path, byte[] data, bool append)
    {
        VfsFile file;
        if (files.Lookup(files.Root, path, out var node) == Errno.Success)
        {
            file = node as VfsFile ?? throw new FileSystemError("EISDIR", "illegal operation on a directory");
            if (!append)
            {
                Check(files, files.SetLength(file, 0));
            }
        }
        else
        {
            Check(files, files.LookupParent(files.Root, path, out var parent, out var name));
            Check(files, files.CreateFile(parent, name, out var created));
            file = created!;
        }

        Check(files, files.Write(file, file.Size, data));
        return null;
    }

    private static JsonObject Stat(VfsNode node) => new()
    {
        ["size"] = node.Size,
        ["mtimeMs"] = node.ModifiedNanoseconds / 1_000_000,
        ["isDirectory"] = node is VfsDirectory,
    };

    private static JsonArray List(VirtualFileSystem files, string path)
    {
        var directory = Require(files, path) as VfsDirectory ?? throw new FileSystemError("ENOTDIR", "not a directory");
        return [.. directory.Children.Select(c => (JsonNode)new JsonObject { ["name"] = c.Key, ["isDirectory"] = c.Value is VfsDirectory })];
    }

    private static JsonNode? MakeDirectory(VirtualFileSystem files, string path, bool recursive)
    {
        if (!recursive)
        {
            Check(files, files.LookupParent(files.Root, path, out var parent, out var name));
            Check(files, files.CreateDirectory(parent, name));
            return null;
        }

        var current = files.Root;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!current.Children.TryGetValue(part, out var next))
            {
                Check(files, files.CreateDirectory(current, part));
                next = current.Children[part];
            }

            current = next as VfsDirectory ?? throw new FileSystemError("ENOTDIR", "not a directory");
        }

        return null;
    }

    private static JsonNode? Remove(VirtualFileSystem files, string path, bool recursive, bool? directory)
    {
        var node = Require(files, path);
        if (directory == false && node is VfsDirectory)
        {
            throw new FileSystemError("EISDIR", "illegal operation on a directory");
        }

        if (directory == true && node is not VfsDirectory)
        {
            throw new FileSystemError("ENOTDIR", "not a directory");
        }

        if (node is VfsDirectory folder && folder.Children.Count > 0 && !recursive)
        {
            throw new FileSystemError("ENOTEMPTY", "directory not empty");
        }

        RemoveTree(files, node);
        return null;
    }

    private static void RemoveTree(VirtualFileSystem files, VfsNode node)
    {
        if (node is VfsDirectory directory)
        {
            foreach (var child in directory.Children.Values.ToList())
            {
                RemoveTree(files, child);
            }
        }

        Check(files, files.Remove(node.Parent ?? throw new FileSystemError("EBUSY", "resource busy"), node.Name, node is VfsDirectory));
    }

    private static JsonNode? Rename(VirtualFileSystem files, string from, string to)
    {
        Check(files, files.LookupParent(files.Root, from, out var fromParent, out var fromName));
        Check(files, files.LookupParent(files.Root, to, out var toParent, out var toName));
        Check(files, files.Rename(fromParent, fromName, toParent, toName));
        return null;
    }

    private static void Check(VirtualFileSystem files, Errno status)
    {
        if (status == Errno.Success)
        {
            return;
        }

        var (code, message) = status switch
        {
            Errno.NoEntry => ("ENOENT", "no such file or directory"),
            Errno.Exists => ("EEXIST", "file already exists"),
            Errno.IsDirectory => ("EISDIR", "illegal operation on a directory"),
            Errno.NotDirectory => ("ENOTDIR", "not a directory"),
            Errno.NotEmpty => ("ENOTEMPTY", "directory not empty"),
            Errno.ReadOnlyFileSystem => ("EROFS", "read-only file system (write under /workspace or /tmp; to change a file from /data, copy it into /workspace first)"),
            Errno.IO => ("EIO", $"i/o error: {files.LastLimitViolation}"),
            Errno.NoSpace => ("ENOSPC", $"no space left: {files.LastLimitViolation}"),
            Errno.FileTooLarge => ("EFBIG", $"file too large: {files.LastLimitViolation}"),
            Errno.QuotaExceeded => ("EDQUOT", $"quota exceeded: {files.LastLimitViolation}"),
            Errno.NameTooLong => ("ENAMETOOLONG", "name too long"),
            Errno.Busy => ("EBUSY", "resource busy"),
            _ => ("EINVAL", "invalid argument"),
        };
        throw new FileSystemError(code, message);
    }

    private sealed class FileSystemError(string code, string message) : Exception(message)
    {
        public string Code { get; } = code;
    }
}

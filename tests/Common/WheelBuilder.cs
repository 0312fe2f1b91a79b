using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace SandboxFunctions.Testing;

/// <summary>Builds wheels the way packaging tools write them: the package's files plus METADATA, WHEEL and RECORD.</summary>
internal static class WheelBuilder
{
    private static readonly DateTimeOffset FixedTime = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The file name of a wheel, e.g. <c>demo_lib-1.0-py3-none-any.whl</c>.</summary>
    public static string FileName(string project, string version, string tag = "py3-none-any") =>
        $"{Escape(project)}-{version}-{tag}.whl";

    /// <param name="files">Paths inside the wheel (e.g. <c>demo_lib/__init__.py</c>) and their text.</param>
    /// <param name="requiresDist">Requires-Dist lines for the metadata.</param>
    /// <param name="withMetadata">False to leave out METADATA, making a broken wheel.</param>
    public static byte[] Build(
        string project,
        string version,
        IReadOnlyDictionary<string, string> files,
        IEnumerable<string>? requiresDist = null,
        string tag = "py3-none-any",
        string? requiresPython = null,
        bool withMetadata = true)
    {
        var distInfo = $"{Escape(project)}-{version}.dist-info";
        var metadata = new StringBuilder($"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n");
        if (requiresPython is not null)
        {
            metadata.Append($"Requires-Python: {requiresPython}\n");
        }

        foreach (var requirement in requiresDist ?? [])
        {
            metadata.Append($"Requires-Dist: {requirement}\n");
        }

        metadata.Append("\nA package built by the tests.\n");
        var entries = new List<(string Path, byte[] Content)>(files.Select(f => (f.Key, Encoding.UTF8.GetBytes(f.Value))));
        if (withMetadata)
        {
            entries.Add(($"{distInfo}/METADATA", Encoding.UTF8.GetBytes(metadata.ToString())));
        }

        entries.Add(($"{distInfo}/WHEEL", Encoding.UTF8.GetBytes($"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n")));
        var record = new StringBuilder();
        foreach (var (path, content) in entries)
        {
            var digest = Convert.ToBase64String(SHA256.HashData(content)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            record.Append($"{path},sha256={digest},{content.Length}\n");
        }

        record.Append($"{distInfo}/RECORD,,\n");
        entries.Add(($"{distInfo}/RECORD", Encoding.UTF8.GetBytes(record.ToString())));

        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, content) in entries)
            {
                var entry = zip.CreateEntry(path, CompressionLevel.Optimal);
                entry.LastWriteTime = FixedTime;
                using var stream = entry.Open();
                stream.Write(content);
            }
        }

        return buffer.ToArray();
    }

    private static string Escape(string project) => project.Replace('-', '_').Replace('.', '_');
}

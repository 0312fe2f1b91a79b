using System.IO.Compression;
using System.Text;

namespace SandboxFunctions.Tools.Packages;

/// <summary>A downloaded wheel, checked before it goes anywhere near a session: its core metadata and its file list.</summary>
internal sealed class WheelArchive
{
    private static readonly string[] NativeSuffixes = [".so", ".pyd", ".dylib", ".dll"];

    private WheelArchive(string distInfo, string name, PackageVersion version, string? requiresPython, IReadOnlyList<string> requiresDist)
    {
        DistInfo = distInfo;
        Name = name;
        Version = version;
        RequiresPython = requiresPython;
        RequiresDist = requiresDist;
    }

    /// <summary>The wheel's .dist-info folder, e.g. <c>demo-1.0.dist-info</c>.</summary>
    public string DistInfo { get; }

    public string Name { get; }

    public PackageVersion Version { get; }

    public string? RequiresPython { get; }

    /// <summary>The Requires-Dist lines of the metadata, in their order.</summary>
    public IReadOnlyList<string> RequiresDist { get; }

    /// <summary>Reads and checks a wheel of <paramref name="file"/>; throws a tool error when it cannot be installed.</summary>
    public static WheelArchive Open(byte[] content, DistributionFile file, string project)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
        }
        catch (InvalidDataException)
        {
            throw ToolErrors.PackageInvalid(file.Filename, "it is not a valid zip archive");
        }

        using (zip)
        {
            var names = zip.Entries.Select(e => e.FullName).ToList();
            if (names.FirstOrDefault(n => n.StartsWith('/') || n.Contains('\\', StringComparison.Ordinal) || n.Split('/').Any(p => p is "." or "..")) is { } unsafePath)
            {
                throw ToolErrors.PackageInvalid(file.Filename, $"it holds a file outside its own folders ('{unsafePath}')");
            }

            if (names.FirstOrDefault(n => NativeSuffixes.Any(s => n.EndsWith(s, StringComparison.OrdinalIgnoreCase))) is { } native)
            {
                throw ToolErrors.PackageNotPurePython(project, $"its wheel {file.Filename} is tagged as pure Python but holds compiled code ('{native}')");
            }

            var canonical = PackageName.Canonicalize(project);
            var metadataEntry = zip.Entries.FirstOrDefault(e =>
                e.FullName.EndsWith(".dist-info/METADATA", StringComparison.Ordinal) &&
                e.FullName.Count(c => c == '/') == 1 &&
                PackageName.Canonicalize(e.FullName.Split('-')[0]) == canonical)
                ?? throw ToolErrors.PackageInvalid(file.Filename, "it has no .dist-info/METADATA for the project");

            string metadata;
            using (var reader = new StreamReader(metadataEntry.Open(), Encoding.UTF8))
            {
                metadata = reader.ReadToEnd();
            }

            var fields = ReadHeaders(metadata);
            var name = fields.GetValueOrDefault("name")?.FirstOrDefault();
            var versionText = fields.GetValueOrDefault("version")?.FirstOrDefault();
            if (name is null || PackageName.Canonicalize(name) != canonical || !PackageVersion.TryParse(versionText, out var version) || version != file.Wheel!.Version)
            {
                throw ToolErrors.PackageInvalid(file.Filename, "its metadata names another project or version than its file name");
            }

            return new WheelArchive(
                metadataEntry.FullName[..metadataEntry.FullName.IndexOf('/', StringComparison.Ordinal)],
                name,
                version,
                fields.GetValueOrDefault("requires-python")?.FirstOrDefault(),
                fields.GetValueOrDefault("requires-dist") ?? []);
        }
    }

    /// <summary>The header fields of core metadata (an email-style header block), lowercased, each with all its values.</summary>
    private static Dictionary<string, List<string>> ReadHeaders(string metadata)
    {
        var fields = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        List<string>? current = null;
        foreach (var line in metadata.Split('\n').Select(l => l.TrimEnd('\r')))
        {
            if (line.Length == 0)
            {
                break;
            }

            if (line[0] is ' ' or '\t')
            {
                if (current is { Count: > 0 })
                {
                    current[^1] += " " + line.Trim();
                }

                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var key = line[..colon].Trim().ToLowerInvariant();
            if (!fields.TryGetValue(key, out current))
            {
                fields[key] = current = [];
            }

            current.Add(line[(colon + 1)..].Trim());
        }

        return fields;
    }
}

using System.Globalization;

namespace SandboxFunctions.Tools.Packages;

/// <summary>One file a project page of the index lists: a wheel, a source distribution or something else.</summary>
/// <param name="Filename">The file's name, which carries the version and, for a wheel, its tags.</param>
/// <param name="Url">Where to download it.</param>
/// <param name="Sha256">The SHA-256 the index states for it, in lowercase hex; null when it states none.</param>
/// <param name="RequiresPython">The file's Requires-Python, when the index states it.</param>
/// <param name="Yanked">True when the release was withdrawn (PEP 592).</param>
/// <param name="Size">The size in bytes, when the index states it.</param>
internal sealed record DistributionFile(string Filename, Uri Url, string? Sha256, string? RequiresPython, bool Yanked, long? Size)
{
    private static readonly string[] SourceSuffixes = [".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar"];

    public WheelFileName? Wheel { get; } = WheelFileName.TryParse(Filename);

    public bool IsSourceDistribution => Wheel is null && SourceSuffixes.Any(s => Filename.EndsWith(s, StringComparison.OrdinalIgnoreCase));

    /// <summary>The version the file is for, read from its name; null when the name does not say.</summary>
    public PackageVersion? VersionFor(string project)
    {
        if (Wheel is not null)
        {
            return PackageName.Canonicalize(Wheel.Distribution) == PackageName.Canonicalize(project) ? Wheel.Version : null;
        }

        if (!IsSourceDistribution)
        {
            return null;
        }

        var stem = Filename[..^SourceSuffixes.First(s => Filename.EndsWith(s, StringComparison.OrdinalIgnoreCase)).Length];
        var canonical = PackageName.Canonicalize(project);
        // The project part of an sdist name may itself hold '-', so try each split.
        for (var dash = stem.IndexOf('-', StringComparison.Ordinal); dash > 0; dash = stem.IndexOf('-', dash + 1))
        {
            if (PackageName.Canonicalize(stem[..dash]) == canonical && PackageVersion.TryParse(stem[(dash + 1)..], out var version))
            {
                return version;
            }
        }

        return null;
    }
}

/// <summary>A wheel's file name (<c>name-version[-build]-python-abi-platform.whl</c>) and what its tags allow.</summary>
internal sealed record WheelFileName(string Distribution, PackageVersion Version, string? BuildTag, IReadOnlyList<string> PythonTags, IReadOnlyList<string> AbiTags, IReadOnlyList<string> PlatformTags)
{
    // The newest Python the sandbox's interpreter satisfies, for tags such as py38 or cp311.
    private const int SandboxPythonMinor = 11;

    public string Tags => $"{string.Join('.', PythonTags)}-{string.Join('.', AbiTags)}-{string.Join('.', PlatformTags)}";

    /// <summary>Pure Python that runs on CPython 3.11 anywhere: e.g. py3-none-any or py2.py3-none-any.</summary>
    public bool IsPurePython => AbiTags.Contains("none") && PlatformTags.Contains("any") && PythonTags.Any(IsCompatiblePythonTag);

    public static WheelFileName? TryParse(string filename)
    {
        if (!filename.EndsWith(".whl", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var parts = filename[..^4].Split('-');
        if (parts.Length is not (5 or 6) || !PackageVersion.TryParse(parts[1], out var version))
        {
            return null;
        }

        var tags = parts[^3..];
        return new WheelFileName(parts[0], version, parts.Length == 6 ? parts[2] : null,
            tags[0].ToLowerInvariant().Split('.'), tags[1].ToLowerInvariant().Split('.'), tags[2].ToLowerInvariant().Split('.'));
    }

    private static bool IsCompatiblePythonTag(string tag)
    {
        if (tag is "py3")
        {
            return true;
        }

        var digits = tag.StartsWith("py3", StringComparison.Ordinal) || tag.StartsWith("cp3", StringComparison.Ordinal) ? tag[3..] : null;
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var minor) && minor <= SandboxPythonMinor;
    }
}

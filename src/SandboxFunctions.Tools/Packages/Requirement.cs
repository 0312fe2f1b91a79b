using System.Text.RegularExpressions;

namespace SandboxFunctions.Tools.Packages;

/// <summary>A PEP 508 dependency specification: <c>name[extras] specifier; marker</c>.</summary>
internal sealed partial class Requirement
{
    public Requirement(string name, IReadOnlyCollection<string> extras, VersionSpecifierSet specifier, EnvironmentMarker? marker, string text)
    {
        Name = name;
        Extras = new SortedSet<string>(extras.Select(PackageName.Canonicalize), StringComparer.Ordinal);
        Specifier = specifier;
        Marker = marker;
        Text = text;
    }

    public string Name { get; }

    public string CanonicalName => PackageName.Canonicalize(Name);

    public IReadOnlySet<string> Extras { get; }

    public VersionSpecifierSet Specifier { get; }

    public EnvironmentMarker? Marker { get; }

    /// <summary>The requirement as it was written, for messages.</summary>
    public string Text { get; }

    /// <summary>Parses a requirement; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static Requirement Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        var (body, markerText) = trimmed.IndexOf(';', StringComparison.Ordinal) is var semicolon and >= 0
            ? (trimmed[..semicolon], trimmed[(semicolon + 1)..])
            : (trimmed, null);
        var match = Pattern().Match(body);
        if (!match.Success)
        {
            throw new FormatException($"'{trimmed}' is not a requirement; write a project name, optionally with [extras] and a version specifier, e.g. 'requests[socks]>=2.0'.");
        }

        if (match.Groups["url"].Success)
        {
            throw new FormatException($"'{trimmed}' points at a URL; only projects on the package index can be installed.");
        }

        var extras = match.Groups["extras"].Success
            ? match.Groups["extras"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : [];
        if (extras.FirstOrDefault(e => !PackageName.IsValid(e)) is { } badExtra)
        {
            throw new FormatException($"'{badExtra}' in '{trimmed}' is not a valid extra name.");
        }

        var specifier = VersionSpecifierSet.Parse(match.Groups["spec"].Value.Trim().TrimStart('(').TrimEnd(')'));
        var marker = string.IsNullOrWhiteSpace(markerText) ? null : EnvironmentMarker.Parse(markerText.Trim());
        return new Requirement(match.Groups["name"].Value, extras, specifier, marker, trimmed);
    }

    /// <summary>Whether the requirement applies here, for a project installed with <paramref name="extras"/>.</summary>
    public bool AppliesTo(MarkerEnvironment environment, IEnumerable<string> extras) =>
        Marker is null || Marker.Evaluate(environment, string.Empty) || extras.Any(extra => Marker.Evaluate(environment, extra));

    public override string ToString() => Text;

    [GeneratedRegex("""
        ^\s*
        (?<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)
        \s*
        (?:\[(?<extras>[^\]]*)\])?
        \s*
        (?:@\s*(?<url>\S.*)|(?<spec>\(?\s*(?:(?:===|==|!=|~=|<=|>=|<|>)\s*[^\s,;()]+\s*,?\s*)*\)?))
        \s*$
        """, RegexOptions.IgnorePatternWhitespace | RegexOptions.ExplicitCapture)]
    private static partial Regex Pattern();
}

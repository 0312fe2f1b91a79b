using System.Text.RegularExpressions;

namespace SandboxFunctions.Tools.Packages;

/// <summary>One clause of a PEP 440 version specifier, such as <c>&gt;=1.2</c>, <c>~=2.0</c> or <c>==1.4.*</c>.</summary>
internal sealed partial class VersionSpecifier
{
    private VersionSpecifier(string op, string text, PackageVersion? version, bool wildcard)
    {
        Operator = op;
        Text = text;
        Version = version;
        Wildcard = wildcard;
    }

    public string Operator { get; }

    /// <summary>The version as written; for <c>===</c> it need not be a valid version.</summary>
    public string Text { get; }

    public PackageVersion? Version { get; }

    /// <summary>True for a prefix match such as <c>==1.4.*</c>.</summary>
    public bool Wildcard { get; }

    /// <summary>A clause that names a pre-release lets pre-releases match (except as an exclusion).</summary>
    public bool NamesPrerelease => Operator != "!=" && Version is { IsPrerelease: true };

    public static VersionSpecifier Parse(string clause)
    {
        var match = Pattern().Match(clause.Trim());
        if (!match.Success)
        {
            throw new FormatException($"'{clause.Trim()}' is not a version specifier; write e.g. '>=1.2', '==1.4.*' or '~=2.0'.");
        }

        var op = match.Groups["op"].Value;
        var text = match.Groups["version"].Value;
        if (op == "===")
        {
            return new VersionSpecifier(op, text, PackageVersion.TryParse(text, out var arbitrary) ? arbitrary : null, false);
        }

        var wildcard = text.EndsWith(".*", StringComparison.Ordinal);
        if (wildcard && op is not ("==" or "!="))
        {
            throw new FormatException($"'{clause.Trim()}': only == and != take a version ending in '.*'.");
        }

        var version = PackageVersion.TryParse(wildcard ? text[..^2] : text, out var parsed)
            ? parsed
            : throw new FormatException($"'{clause.Trim()}' does not name a valid version.");
        if (wildcard && (version.IsPrerelease || version.IsPostRelease || version.Local.Count > 0))
        {
            throw new FormatException($"'{clause.Trim()}': a '.*' prefix may only hold release numbers.");
        }

        if (op == "~=" && (version.Release.Count < 2 || version.Local.Count > 0))
        {
            throw new FormatException($"'{clause.Trim()}': ~= needs at least two release numbers, e.g. '~=2.0'.");
        }

        if (version.Local.Count > 0 && op is not ("==" or "!="))
        {
            throw new FormatException($"'{clause.Trim()}': only == and != may name a local version.");
        }

        return new VersionSpecifier(op, wildcard ? text[..^2] : text, version, wildcard);
    }

    /// <summary>Whether the clause matches; pre-release policy is the caller's (see <see cref="VersionSpecifierSet"/>).</summary>
    public bool Matches(PackageVersion candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (Operator == "===")
        {
            return string.Equals(candidate.ToString(), Text, StringComparison.OrdinalIgnoreCase);
        }

        var version = Version!;
        return Operator switch
        {
            "==" => IsEqual(candidate, version),
            "!=" => !IsEqual(candidate, version),
            "~=" => candidate.Public >= version && MatchesPrefix(candidate, version.Release.Take(version.Release.Count - 1).ToList(), version.Epoch),
            "<=" => candidate.Public <= version,
            ">=" => candidate.Public >= version,
            // A pre-release of the version itself is not "less than" it (3.0a1 for <3.0), unless asked for.
            "<" => candidate.Public < version && (version.IsPrerelease || !candidate.IsPrerelease || !candidate.HasSameRelease(version)),
            // Nor is a post-release "greater than" it (3.0.post1 for >3.0), unless asked for.
            ">" => candidate.Public > version && (version.IsPostRelease || !candidate.IsPostRelease || !candidate.HasSameRelease(version)),
            _ => false,
        };
    }

    public override string ToString() => Operator + Text + (Wildcard ? ".*" : string.Empty);

    private bool IsEqual(PackageVersion candidate, PackageVersion version)
    {
        if (Wildcard)
        {
            return MatchesPrefix(candidate, version.Release, version.Epoch);
        }

        return version.Local.Count > 0 ? candidate == version : candidate.Public == version;
    }

    private static bool MatchesPrefix(PackageVersion candidate, IReadOnlyList<long> prefix, long epoch)
    {
        if (candidate.Epoch != epoch)
        {
            return false;
        }

        for (var i = 0; i < prefix.Count; i++)
        {
            if ((i < candidate.Release.Count ? candidate.Release[i] : 0) != prefix[i])
            {
                return false;
            }
        }

        return true;
    }

    [GeneratedRegex(@"^(?<op>===|==|!=|~=|<=|>=|<|>)\s*(?<version>[^\s,;]+)$", RegexOptions.ExplicitCapture)]
    private static partial Regex Pattern();
}

/// <summary>A comma-separated set of clauses that must all match, with PEP 440's rules for pre-releases.</summary>
internal sealed class VersionSpecifierSet
{
    public static readonly VersionSpecifierSet Any = new([]);

    public VersionSpecifierSet(IReadOnlyList<VersionSpecifier> clauses)
    {
        Clauses = clauses;
    }

    public IReadOnlyList<VersionSpecifier> Clauses { get; }

    public bool NamesPrerelease => Clauses.Any(c => c.NamesPrerelease);

    public static VersionSpecifierSet Parse(string text) =>
        string.IsNullOrWhiteSpace(text)
            ? Any
            : new([.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(VersionSpecifier.Parse)]);

    /// <summary>
    /// Whether <paramref name="candidate"/> satisfies every clause. Pre-releases only match when
    /// <paramref name="allowPrereleases"/> is set or a clause names a pre-release itself.
    /// </summary>
    public bool Contains(PackageVersion candidate, bool allowPrereleases = false) =>
        (allowPrereleases || !candidate.IsPrerelease || NamesPrerelease) && Clauses.All(c => c.Matches(candidate));

    public VersionSpecifierSet And(VersionSpecifierSet other) => new([.. Clauses, .. other.Clauses]);

    public override string ToString() => string.Join(',', Clauses);
}

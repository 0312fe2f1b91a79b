using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SandboxFunctions.Tools.Packages;

/// <summary>A version as PEP 440 defines it, ordered the way installers order versions.</summary>
internal sealed partial class PackageVersion : IComparable<PackageVersion>, IEquatable<PackageVersion>
{
    private PackageVersion(long epoch, long[] release, string? preLabel, long preNumber, long? post, long? dev, string[] local)
    {
        Epoch = epoch;
        Release = release;
        PreLabel = preLabel;
        PreNumber = preNumber;
        Post = post;
        Dev = dev;
        Local = local;
    }

    public long Epoch { get; }

    public IReadOnlyList<long> Release { get; }

    /// <summary>a, b or rc for a pre-release; null otherwise.</summary>
    public string? PreLabel { get; }

    public long PreNumber { get; }

    public long? Post { get; }

    public long? Dev { get; }

    public IReadOnlyList<string> Local { get; }

    public bool IsPrerelease => PreLabel is not null || Dev is not null;

    public bool IsPostRelease => Post is not null;

    /// <summary>The version without its local label (the part after '+').</summary>
    public PackageVersion Public => Local.Count == 0 ? this : new(Epoch, [.. Release], PreLabel, PreNumber, Post, Dev, []);

    /// <summary>Epoch and release only, e.g. 1.2 for 1.2rc1.post3.</summary>
    public PackageVersion BaseVersion => new(Epoch, [.. Release], null, 0, null, null, []);

    public static PackageVersion Parse(string text) =>
        TryParse(text, out var version) ? version : throw new FormatException($"'{text}' is not a valid version.");

    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PackageVersion? version)
    {
        version = null;
        var match = text is null ? null : Pattern().Match(text.Trim());
        if (match is null || !match.Success)
        {
            return false;
        }

        if (!TryNumber(match.Groups["epoch"], 0, out var epoch) ||
            !TryNumbers(match.Groups["release"].Value, out var release) ||
            !TryNumber(match.Groups["pre_n"], 0, out var preNumber) ||
            !TryNumber(match.Groups["dev_n"], 0, out var devNumber))
        {
            return false;
        }

        string? preLabel = match.Groups["pre_l"].Success
            ? match.Groups["pre_l"].Value.ToLowerInvariant() switch
            {
                "alpha" or "a" => "a",
                "beta" or "b" => "b",
                _ => "rc",
            }
            : null;

        long? post = null;
        if (match.Groups["post_implicit"].Success || match.Groups["post_l"].Success)
        {
            var group = match.Groups["post_implicit"].Success ? match.Groups["post_implicit"] : match.Groups["post_n"];
            if (!TryNumber(group, 0, out var postNumber))
            {
                return false;
            }

            post = postNumber;
        }

        var local = match.Groups["local"].Success
            ? match.Groups["local"].Value.ToLowerInvariant().Split(['-', '_', '.'])
            : [];
        version = new PackageVersion(epoch, release, preLabel, preNumber, post, match.Groups["dev"].Success ? devNumber : null, local);
        return true;
    }

    public int CompareTo(PackageVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var result = Epoch.CompareTo(other.Epoch);
        if (result == 0)
        {
            result = CompareRelease(Release, other.Release);
        }

        if (result == 0)
        {
            result = PreKey().CompareTo(other.PreKey());
        }

        if (result == 0)
        {
            result = (Post ?? -1).CompareTo(other.Post ?? -1);
        }

        if (result == 0)
        {
            result = (Dev ?? long.MaxValue).CompareTo(other.Dev ?? long.MaxValue);
        }

        return result == 0 ? CompareLocal(Local, other.Local) : result;
    }

    /// <summary>True when both have the same epoch and release, compared with zero padding (1.2 and 1.2.0).</summary>
    public bool HasSameRelease(PackageVersion other) =>
        Epoch == other.Epoch && CompareRelease(Release, other.Release) == 0;

    public bool Equals(PackageVersion? other) => other is not null && CompareTo(other) == 0;

    public override bool Equals(object? obj) => obj is PackageVersion other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Epoch);
        var significant = Release.Count;
        while (significant > 1 && Release[significant - 1] == 0)
        {
            significant--;
        }

        for (var i = 0; i < significant; i++)
        {
            hash.Add(Release[i]);
        }

        hash.Add(PreKey());
        hash.Add(Post);
        hash.Add(Dev);
        foreach (var part in Local)
        {
            hash.Add(part);
        }

        return hash.ToHashCode();
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        if (Epoch != 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Epoch}!");
        }

        text.AppendJoin('.', Release);
        if (PreLabel is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"{PreLabel}{PreNumber}");
        }

        if (Post is { } post)
        {
            text.Append(CultureInfo.InvariantCulture, $".post{post}");
        }

        if (Dev is { } dev)
        {
            text.Append(CultureInfo.InvariantCulture, $".dev{dev}");
        }

        if (Local.Count > 0)
        {
            text.Append('+').AppendJoin('.', Local);
        }

        return text.ToString();
    }

    public static bool operator ==(PackageVersion? left, PackageVersion? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(PackageVersion? left, PackageVersion? right) => !(left == right);

    public static bool operator <(PackageVersion left, PackageVersion right) => Compare(left, right) < 0;

    public static bool operator <=(PackageVersion left, PackageVersion right) => Compare(left, right) <= 0;

    public static bool operator >(PackageVersion left, PackageVersion right) => Compare(left, right) > 0;

    public static bool operator >=(PackageVersion left, PackageVersion right) => Compare(left, right) >= 0;

    private static int Compare(PackageVersion left, PackageVersion right)
    {
        ArgumentNullException.ThrowIfNull(left);
        return left.CompareTo(right);
    }

    /// <summary>
    /// Where the pre-release part sorts: a development release of a final version (1.0.dev1) comes before
    /// its pre-releases, which come before the final version and its post-releases.
    /// </summary>
    private (int Rank, long Number) PreKey() => PreLabel switch
    {
        null when Post is null && Dev is not null => (0, 0),
        null => (4, 0),
        "a" => (1, PreNumber),
        "b" => (2, PreNumber),
        _ => (3, PreNumber),
    };

    private static int CompareRelease(IReadOnlyList<long> left, IReadOnlyList<long> right)
    {
        for (var i = 0; i < Math.Max(left.Count, right.Count); i++)
        {
            var result = (i < left.Count ? left[i] : 0).CompareTo(i < right.Count ? right[i] : 0);
            if (result != 0)
            {
                return result;
            }
        }

        return 0;
    }

    // Numeric segments sort after alphanumeric ones and among themselves by value.
    private static int CompareLocal(IReadOnlyList<string> left, IReadOnlyList<string> right)
    {
        for (var i = 0; i < Math.Min(left.Count, right.Count); i++)
        {
            var leftNumeric = long.TryParse(left[i], NumberStyles.None, CultureInfo.InvariantCulture, out var leftNumber);
            var rightNumeric = long.TryParse(right[i], NumberStyles.None, CultureInfo.InvariantCulture, out var rightNumber);
            var result = (leftNumeric, rightNumeric) switch
            {
                (true, true) => leftNumber.CompareTo(rightNumber),
                (true, false) => 1,
                (false, true) => -1,
                _ => string.CompareOrdinal(left[i], right[i]),
            };
            if (result != 0)
            {
                return result;
            }
        }

        return left.Count.CompareTo(right.Count);
    }

    private static bool TryNumber(Group group, long fallback, out long value)
    {
        value = fallback;
        return !group.Success || long.TryParse(group.Value, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryNumbers(string dotted, out long[] numbers)
    {
        var parts = dotted.Split('.');
        numbers = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return false;
            }
        }

        return true;
    }

    [GeneratedRegex("""
        ^v?
        (?:(?<epoch>[0-9]+)!)?
        (?<release>[0-9]+(?:\.[0-9]+)*)
        (?:[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?
        (?:-(?<post_implicit>[0-9]+)|[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n>[0-9]+)?)?
        (?:[-_.]?(?<dev>dev)[-_.]?(?<dev_n>[0-9]+)?)?
        (?:\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
        $
        """, RegexOptions.IgnorePatternWhitespace | RegexOptions.IgnoreCase | RegexOptions.ExplicitCapture)]
    private static partial Regex Pattern();
}

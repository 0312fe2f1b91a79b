using System.Text.RegularExpressions;

namespace SandboxFunctions.Tools.Packages;

/// <summary>Project names as package indexes compare them (PEP 503): case, '-', '_' and '.' do not matter.</summary>
internal static partial class PackageName
{
    public static bool IsValid(string name) => ValidName().IsMatch(name);

    public static string Canonicalize(string name) => Separators().Replace(name, "-").ToLowerInvariant();

    [GeneratedRegex(@"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")]
    private static partial Regex ValidName();

    [GeneratedRegex(@"[-_.]+")]
    private static partial Regex Separators();
}

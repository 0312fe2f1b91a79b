using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Tools.Shell;

/// <summary>
/// Shell patterns: <c>*</c>, <c>?</c> and <c>[...]</c>, matched against names (for <c>find -name</c>) and expanded
/// against the workspace (for arguments). A backslash makes the next character literal; the expander uses it for
/// characters that were quoted. Patterns are matched by a non-backtracking engine, in time linear in the name,
/// because a pattern such as <c>*a*a*a*a*b</c> would otherwise take exponential time on a long name.
/// </summary>
internal static class Glob
{
    private const int MaxCachedPatterns = 256;
    private static readonly ConcurrentDictionary<(string, bool), Regex> Cache = new();

    public static bool HasWildcards(string pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            switch (pattern[i])
            {
                case '\\':
                    i++;
                    break;
                case '*' or '?':
                    return true;
                case '[' when ClassEnd(pattern, i) > 0:
                    return true;
            }
        }

        return false;
    }

    public static bool IsMatch(string name, string pattern, bool ignoreCase = false)
    {
        if (Cache.Count > MaxCachedPatterns)
        {
            Cache.Clear();
        }

        return Cache.GetOrAdd((pattern, ignoreCase), static key => ToRegex(key.Item1, key.Item2)).IsMatch(name);
    }

    /// <summary>The paths that match <paramref name="pattern"/>, sorted, written as the pattern was (relative or absolute).</summary>
    public static async Task<IReadOnlyList<string>> ExpandAsync(ShellFileSystem files, string cwd, string pattern, CancellationToken cancellationToken)
    {
        var absolute = pattern.StartsWith('/');
        var directoriesOnly = pattern.Length > 1 && pattern.EndsWith('/');
        var segments = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var candidates = new List<(string Shown, string Path)> { (absolute ? "/" : string.Empty, absolute ? "/" : cwd) };
        var mustCheck = false;
        foreach (var segment in segments)
        {
            if (!HasWildcards(segment))
            {
                var name = Unescape(segment);
                candidates = [.. candidates.Select(c => (Join(c.Shown, name), Join(c.Path, name)))];
                mustCheck = true;
                continue;
            }

            var matches = new List<(string, string)>();
            var showHidden = segment.StartsWith('.') || segment.StartsWith("\\.", StringComparison.Ordinal);
            var matchedBytes = 0L;
            foreach (var (shown, path) in candidates)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (matchedBytes > ShellLimits.MaxArgumentBytes)
                {
                    // Patterns such as */../*/../* multiply: past what a command may receive, the caller reports the argument list too long.
                    break;
                }

                IReadOnlyList<ShellEntry> entries;
                try
                {
                    entries = await files.ListAsync(path, recursive: false, cancellationToken).ConfigureAwait(false);
                }
                catch (WorkspaceException)
                {
                    continue;
                }

                foreach (var entry in entries)
                {
                    if ((showHidden || !entry.Name.StartsWith('.')) && IsMatch(entry.Name, segment))
                    {
                        var shownPath = Join(shown, entry.Name);
                        matches.Add((shownPath, entry.Path));
                        matchedBytes += shownPath.Length;
                    }
                }
            }

            candidates = matches;
            mustCheck = false;
        }

        var found = new List<string>();
        foreach (var (shown, path) in candidates)
        {
            if (mustCheck || directoriesOnly)
            {
                ShellEntry? entry;
                try
                {
                    entry = await files.StatAsync(SandboxWorkspace.Normalize(path), cancellationToken).ConfigureAwait(false);
                }
                catch (WorkspaceException)
                {
                    entry = null;
                }

                if (entry is null || (directoriesOnly && !entry.IsDirectory))
                {
                    continue;
                }
            }

            found.Add(directoriesOnly ? shown + "/" : shown);
        }

        return found;
    }

    private static string Join(string directory, string name) => directory.Length == 0 ? name : directory.EndsWith('/') ? directory + name : $"{directory}/{name}";

    private static string Unescape(string text)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                i++;
            }

            result.Append(text[i]);
        }

        return result.ToString();
    }

    private static Regex ToRegex(string pattern, bool ignoreCase)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '\\' when i + 1 < pattern.Length:
                    regex.Append(Regex.Escape(pattern[++i].ToString()));
                    break;
                case '*':
                    regex.Append(".*");
                    break;
                case '?':
                    regex.Append('.');
                    break;
                case '[' when ClassEnd(pattern, i) is > 0 and var end:
                    regex.Append(ClassToRegex(pattern[(i + 1)..end]));
                    i = end;
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        regex.Append('$');
        var options = RegexOptions.NonBacktracking | RegexOptions.Singleline | RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None);
        return new Regex(regex.ToString(), options);
    }

    /// <summary>The index of the <c>]</c> closing the bracket expression at <paramref name="start"/>, or -1.</summary>
    private static int ClassEnd(string pattern, int start)
    {
        var i = start + 1;
        if (i < pattern.Length && pattern[i] is '!' or '^')
        {
            i++;
        }

        if (i < pattern.Length && pattern[i] == ']')
        {
            i++;
        }

        for (; i < pattern.Length; i++)
        {
            if (pattern[i] == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
            {
                var close = pattern.IndexOf(":]", i + 2, StringComparison.Ordinal);
                if (close > 0)
                {
                    i = close + 1;
                    continue;
                }
            }

            if (pattern[i] == '\\')
            {
                i++;
            }
            else if (pattern[i] == ']')
            {
                return i;
            }
        }

        return -1;
    }

    private static string ClassToRegex(string body)
    {
        var result = new StringBuilder("[");
        var i = 0;
        if (body.Length > 0 && body[0] is '!' or '^')
        {
            result.Append('^');
            i++;
        }

        for (; i < body.Length; i++)
        {
            var c = body[i];
            if (c == '[' && i + 1 < body.Length && body[i + 1] == ':' && body.IndexOf(":]", i + 2, StringComparison.Ordinal) is > 0 and var close
                && CharacterClasses.ToRegex(body[(i + 2)..close]) is { } named)
            {
                result.Append(named);
                i = close + 1;
                continue;
            }

            if (c == '\\' && i + 1 < body.Length)
            {
                c = body[++i];
            }

            result.Append(c is '\\' or ']' or '[' or '^' ? "\\" + c : c.ToString());
        }

        return result.Append(']').ToString();
    }
}

using System.Text.RegularExpressions;

namespace SandboxFunctions.Tools.Shell;

/// <summary>
/// A caller's regular expression that cannot outlive its command line. Patterns the non-backtracking engine supports
/// match in time linear in the input; the rest (backreferences, lookarounds) backtrack under a match timeout that
/// is renewed as the deadline comes closer, so that no single match runs past it.
/// </summary>
internal sealed class BoundedRegex
{
    private static readonly TimeSpan ShortestTimeout = TimeSpan.FromMilliseconds(1);

    private readonly string _pattern;
    private readonly RegexOptions _options;
    private readonly ShellRun _run;
    private Regex _regex;

    private BoundedRegex(string pattern, RegexOptions options, ShellRun run, Regex regex)
    {
        _pattern = pattern;
        _options = options;
        _run = run;
        _regex = regex;
    }

    /// <summary>Compiles <paramref name="pattern"/>; an invalid pattern throws <see cref="ArgumentException"/>.</summary>
    public static BoundedRegex Create(string pattern, RegexOptions options, ShellRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        try
        {
            return new(pattern, options, run, new Regex(pattern, options | RegexOptions.NonBacktracking));
        }
        catch (NotSupportedException)
        {
            return new(pattern, options, run, new Regex(pattern, options, Timeout(run)));
        }
    }

    public bool IsMatch(string input) => Current().IsMatch(input);

    public MatchCollection Matches(string input) => Current().Matches(input);

    private Regex Current()
    {
        _run.ThrowIfOutOfTime();
        if (_regex.MatchTimeout != Regex.InfiniteMatchTimeout && _run.Remaining < _regex.MatchTimeout * 0.95)
        {
            _regex = new Regex(_pattern, _options, Timeout(_run));
        }

        return _regex;
    }

    private static TimeSpan Timeout(ShellRun run) => run.Remaining > ShortestTimeout ? run.Remaining : ShortestTimeout;
}

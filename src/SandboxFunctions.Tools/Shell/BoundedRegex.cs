using System.Text.RegularExpressions;

namespace SandboxFunctions.Tools.Shell;

/// <summary>
/// A caller's regular expression that cannot outlive its command line. Patterns the non-backtracking engine supports
/// match in time linear in the input; the rest (backreferences, lookarounds) backtrack under a match timeout. A
/// match cannot be cancelled while it runs, so the timeout is also what bounds how long a caller who went away
/// waits to be noticed: one match may take <see cref="MatchLimit"/> at most, as PCRE bounds one match by its
/// backtracking limit, and never past the command line's deadline.
/// </summary>
internal sealed class BoundedRegex
{
    public static readonly TimeSpan MatchLimit = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan ShortestTimeout = TimeSpan.FromMilliseconds(1);

    private readonly string _pattern;
    private readonly RegexOptions _options;
    private readonly ShellRun _run;
    private Regex _regex;

    /// <summary>True when the current timeout is the command line's deadline rather than <see cref="MatchLimit"/>.</summary>
    private bool _untilDeadline;

    /// <param name="linear">The pattern on the non-backtracking engine, or null when that engine cannot run it.</param>
    private BoundedRegex(string pattern, RegexOptions options, ShellRun run, Regex? linear)
    {
        _pattern = pattern;
        _options = options;
        _run = run;
        _regex = linear ?? Backtracking();
    }

    /// <summary>Compiles <paramref name="pattern"/>; an invalid pattern throws <see cref="ArgumentException"/>.</summary>
    public static BoundedRegex Create(string pattern, RegexOptions options, ShellRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        Regex? linear;
        try
        {
            linear = new Regex(pattern, options | RegexOptions.NonBacktracking);
        }
        catch (NotSupportedException)
        {
            linear = null;
        }

        return new(pattern, options, run, linear);
    }

    public bool IsMatch(string input) => Bounded(regex => regex.IsMatch(input));

    public IReadOnlyList<Match> Matches(string input) => Bounded(regex => regex.Matches(input).ToList());

    private T Bounded<T>(Func<Regex, T> match)
    {
        _run.ThrowIfOutOfTime();
        if (_regex.MatchTimeout != Regex.InfiniteMatchTimeout && _run.Remaining < _regex.MatchTimeout * 0.95)
        {
            _regex = Backtracking();
        }

        try
        {
            return match(_regex);
        }
        catch (RegexMatchTimeoutException)
        {
            _run.ThrowIfOutOfTime();
            throw _untilDeadline ? ShellStopException.TimedOut(_run.Limits.Timeout) : new RegexMatchLimitException();
        }
    }

    /// <summary>
    /// A backtracking regex whose timeout is <see cref="MatchLimit"/>, or the deadline when that comes sooner (or
    /// barely later, so that a match is not cut short just before the command line would have timed out anyway).
    /// </summary>
    private Regex Backtracking()
    {
        var remaining = _run.Remaining;
        _untilDeadline = remaining <= MatchLimit * 1.05;
        var timeout = _untilDeadline ? remaining : MatchLimit;
        return new Regex(_pattern, _options, timeout > ShortestTimeout ? timeout : ShortestTimeout);
    }
}

/// <summary>One match of a backtracking pattern ran past <see cref="BoundedRegex.MatchLimit"/> while the command line still had time.</summary>
internal sealed class RegexMatchLimitException()
    : Exception($"a match took longer than {BoundedRegex.MatchLimit.TotalSeconds:0.#} s; simplify the pattern (nested repetition such as (a+)+ backtracks exponentially), or drop -P so that it runs in linear time");

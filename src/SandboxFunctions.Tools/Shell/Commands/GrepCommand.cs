using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Tools.Shell.Commands;

/// <summary>
/// <c>grep</c> with basic (default), extended (-E), fixed (-F) and Perl-style (-P) patterns, run by .NET regular
/// expressions: POSIX brackets and classes are translated, and \d, \w, \s, \b work as in .NET.
/// </summary>
internal static class GrepCommand
{
    private const string LongOptions =
        "extended-regexp=E,fixed-strings=F,basic-regexp=G,perl-regexp=P,ignore-case=i,invert-match=v,word-regexp=w,line-regexp=x," +
        "count=c,line-number=n,files-with-matches=l,files-without-match=L,no-filename=h,with-filename=H,only-matching=o,quiet=q,silent=q," +
        "no-messages=s,recursive=r,dereference-recursive=R,regexp=e:,file=f:,max-count=m:,after-context=A:,before-context=B:,context=C:," +
        "include=include:,exclude=exclude:,exclude-dir=exclude-dir:,color=color,colour=color";

    public static async Task<int> RunAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "EFGPivwxcnlLhHoqsrRe:f:m:A:B:C:", LongOptions, usageStatus: 2);
        if (options is null)
        {
            return 2;
        }

        var operands = options.Operands.ToList();
        var patterns = options.Values("e").ToList();
        foreach (var file in options.Values("f"))
        {
            if (await context.ReadInputAsync(file).ConfigureAwait(false) is not { } data)
            {
                return 2;
            }

            patterns.AddRange(TextLines.Split(data));
        }

        if (patterns.Count == 0 && !options.Has("e") && !options.Has("f"))
        {
            if (operands.Count == 0)
            {
                return context.Fail("no pattern given; usage: grep [OPTION]... PATTERNS [FILE]...", 2);
            }

            patterns.AddRange(operands[0].Split('\n'));
            operands.RemoveAt(0);
        }

        BoundedRegex regex;
        try
        {
            regex = Compile(patterns, options, context.Run);
        }
        catch (ArgumentException ex)
        {
            return context.Fail($"invalid regular expression: {ex.Message}", 2);
        }

        if (!TryNumber(options, "m", -1, out var maxCount) || !TryNumber(options, "A", 0, out var after) || !TryNumber(options, "B", 0, out var before) || !TryNumber(options, "C", 0, out var around))
        {
            return context.Fail("invalid number argument to -m, -A, -B or -C", 2);
        }

        var search = new Search(context, options, regex, maxCount, options.Has("A") ? after : around, options.Has("B") ? before : around);
        var recursive = options.Has("r") || options.Has("R");
        var inputs = operands.Count == 0 ? [recursive ? "." : "-"] : operands;
        var files = new List<string>();
        var problems = false;
        foreach (var operand in inputs)
        {
            if (operand is "-" or ShellFileSystem.DevNull)
            {
                files.Add(operand);
                continue;
            }

            try
            {
                var path = context.Resolve(operand);
                var entry = await context.Files.StatAsync(path, context.CancellationToken).ConfigureAwait(false);
                if (entry is not { IsDirectory: true })
                {
                    files.Add(operand);
                }
                else if (!recursive)
                {
                    problems |= Report(context, options, $"{operand}: Is a directory");
                }
                else
                {
                    // Files found under an implicit "." are shown without the "./", as GNU grep shows them.
                    var prefix = operands.Count == 0 ? string.Empty : operand.TrimEnd('/') + "/";
                    files.AddRange(await TreeAsync(context, options, prefix, path).ConfigureAwait(false));
                }
            }
            catch (WorkspaceException ex)
            {
                problems |= Report(context, options, $"{operand}: {ShellFileSystem.Describe(ex)}");
            }
        }

        search.ShowNames = !options.Has("h") && (options.Has("H") || files.Count > 1 || recursive);
        try
        {
            problems |= await SearchAsync(context, options, search, files).ConfigureAwait(false);
        }
        catch (RegexMatchLimitException ex)
        {
            return context.Fail(ex.Message, 2);
        }

        return problems && !(options.Has("q") && search.Selected) ? 2 : search.Selected ? 0 : 1;
    }

    /// <summary>Searches each file in turn; true when one of them could not be read.</summary>
    private static async Task<bool> SearchAsync(CommandContext context, CommandOptions options, Search search, List<string> files)
    {
        var problems = false;
        foreach (var file in files)
        {
            if (search.Stopped)
            {
                break;
            }

            if (file == "-" || file == ShellFileSystem.DevNull)
            {
                search.Run(file == "-" ? "(standard input)" : file, file == "-" ? context.Stdin : ReadOnlyMemory<byte>.Empty);
                continue;
            }

            try
            {
                search.Run(file, await context.Files.ReadAsync(context.Resolve(file), context.CancellationToken).ConfigureAwait(false));
            }
            catch (WorkspaceException ex)
            {
                problems |= Report(context, options, $"{file}: {ShellFileSystem.Describe(ex)}");
            }
        }

        return problems;
    }

    /// <summary>The files under a directory for -r, filtered by --include, --exclude and --exclude-dir.</summary>
    private static async Task<IEnumerable<string>> TreeAsync(CommandContext context, CommandOptions options, string prefix, string path)
    {
        var includes = options.Values("include").ToList();
        var excludes = options.Values("exclude").ToList();
        var excludedDirectories = options.Values("exclude-dir").ToList();
        var entries = await context.Files.ListAsync(path, recursive: true, context.CancellationToken).ConfigureAwait(false);
        return entries
            .Where(e => !e.IsDirectory)
            .Select(e => (Relative: e.Path[(path.Length + 1)..], Entry: e))
            .Where(e => includes.Count == 0 || includes.Exists(p => Glob.IsMatch(e.Entry.Name, p)))
            .Where(e => !excludes.Exists(p => Glob.IsMatch(e.Entry.Name, p)))
            .Where(e => !e.Relative.Split('/')[..^1].Any(d => excludedDirectories.Exists(p => Glob.IsMatch(d, p))))
            .Select(e => prefix + e.Relative);
    }

    private static bool Report(CommandContext context, CommandOptions options, string message)
    {
        if (!options.Has("s"))
        {
            context.Fail(message, 2);
        }

        return true;
    }

    private static bool TryNumber(CommandOptions options, string name, int fallback, out int value)
    {
        var text = options.Value(name);
        value = fallback;
        return text is null || int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static BoundedRegex Compile(List<string> patterns, CommandOptions options, ShellRun run)
    {
        var translated = patterns.Select(p =>
            options.Has("F") ? Regex.Escape(p)
            : options.Has("P") ? p
            : Translate(p, extended: options.Has("E")));
        var pattern = patterns.Count == 1 ? translated.Single() : string.Join('|', translated.Select(p => $"(?:{p})"));
        if (options.Has("x"))
        {
            pattern = $"^(?:{pattern})$";
        }
        else if (options.Has("w"))
        {
            pattern = $@"(?<!\w)(?:{pattern})(?!\w)";
        }

        var regexOptions = RegexOptions.CultureInvariant | (options.Has("i") ? RegexOptions.IgnoreCase : RegexOptions.None);
        return BoundedRegex.Create(pattern, regexOptions, run);
    }

    /// <summary>A POSIX basic or extended regular expression as a .NET one.</summary>
    private static string Translate(string pattern, bool extended)
    {
        var result = new StringBuilder();
        var atStart = true;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            var start = false;
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var next = pattern[++i];
                if (!extended && next is '(' or ')' or '{' or '}' or '|' or '+' or '?')
                {
                    result.Append(next);
                    start = next is '(' or '|';
                }
                else if (next is '<' or '>')
                {
                    result.Append(@"\b");
                }
                else if (next is 'w' or 'W' or 's' or 'S' or 'b' or 'B' or 'd' or 'D' or 't' or 'n' || (next is >= '1' and <= '9'))
                {
                    result.Append('\\').Append(next);
                }
                else
                {
                    result.Append(Regex.Escape(next.ToString()));
                }
            }
            else if (c == '[')
            {
                i = AppendBracket(pattern, i, result);
            }
            else if (!extended && c is '(' or ')' or '{' or '}' or '|' or '+' or '?')
            {
                result.Append('\\').Append(c);
            }
            else if (c == '*' && atStart)
            {
                result.Append(@"\*");
            }
            else
            {
                result.Append(c);
                start = (c == '^' && atStart) || (extended && c is '(' or '|');
            }

            atStart = start;
        }

        return result.ToString();
    }

    /// <summary>Appends the bracket expression starting at <paramref name="start"/>; returns the index of its closing bracket.</summary>
    private static int AppendBracket(string pattern, int start, StringBuilder result)
    {
        var body = new StringBuilder("[");
        var i = start + 1;
        if (i < pattern.Length && pattern[i] == '^')
        {
            body.Append('^');
            i++;
        }

        for (var first = true; i < pattern.Length; i++, first = false)
        {
            var c = pattern[i];
            if (c == ']' && !first)
            {
                result.Append(body).Append(']');
                return i;
            }

            if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':' && pattern.IndexOf(":]", i + 2, StringComparison.Ordinal) is > 0 and var close)
            {
                var name = pattern[(i + 2)..close];
                body.Append(CharacterClasses.ToRegex(name) ?? throw new ArgumentException($"invalid character class [:{name}:]"));
                i = close + 1;
                continue;
            }

            body.Append(c is '\\' or '[' or ']' or '^' ? "\\" + c : c.ToString());
        }

        throw new ArgumentException("Unmatched [, [^, [:, [., or [=");
    }

    /// <summary>One grep over its inputs: what has been selected so far, and how to print it.</summary>
    private sealed class Search(CommandContext context, CommandOptions options, BoundedRegex regex, int maxCount, int after, int before)
    {
        private readonly bool _invert = options.Has("v");
        private bool _printedAny;

        public bool ShowNames { get; set; }

        public bool Selected { get; private set; }

        /// <summary>Set by -q once something matched: nothing more needs reading.</summary>
        public bool Stopped { get; private set; }

        public void Run(string name, ReadOnlyMemory<byte> data)
        {
            var lines = TextLines.Split(data);
            var binary = data.Span.Contains((byte)0);
            var output = new StringBuilder();
            var count = 0;
            var lastPrinted = -1;
            var afterLeft = 0;
            var summaryOnly = options.Has("c") || options.Has("l") || options.Has("L") || options.Has("q");
            try
            {
                for (var i = 0; i < lines.Count && (maxCount < 0 || count < maxCount); i++)
                {
                    var line = lines[i];
                    if (regex.IsMatch(line) == _invert)
                    {
                        if (afterLeft > 0 && !summaryOnly && !binary)
                        {
                            Emit(output, name, i, line, '-', ref lastPrinted);
                            afterLeft--;
                        }

                        continue;
                    }

                    count++;
                    Selected = true;
                    if (options.Has("q"))
                    {
                        Stopped = true;
                        return;
                    }

                    if (summaryOnly || binary)
                    {
                        continue;
                    }

                    for (var j = Math.Max(lastPrinted + 1, i - before); j < i; j++)
                    {
                        Emit(output, name, j, lines[j], '-', ref lastPrinted);
                    }

                    if (options.Has("o"))
                    {
                        foreach (var match in regex.Matches(line).Where(m => m.Length > 0))
                        {
                            Emit(output, name, i, match.Value, ':', ref lastPrinted);
                        }
                    }
                    else
                    {
                        Emit(output, name, i, line, ':', ref lastPrinted);
                    }

                    afterLeft = after;
                }
            }
            catch (RegexMatchLimitException)
            {
                // What was selected before the match that ran too long is printed, as grep prints it before giving up.
                context.Stdout.Write(output.ToString());
                throw;
            }

            if (options.Has("c"))
            {
                output.Append(ShowNames ? $"{name}:{count}\n" : $"{count}\n");
            }
            else if (options.Has("l") && count > 0)
            {
                output.Append(name).Append('\n');
            }
            else if (options.Has("L") && count == 0)
            {
                output.Append(name).Append('\n');
            }
            else if (binary && count > 0 && !summaryOnly)
            {
                output.Append($"Binary file {name} matches\n");
            }

            context.Stdout.Write(output.ToString());
        }

        /// <summary>Prints a line (':' after the name and number of a selected line, '-' for context), with "--" between groups of context.</summary>
        private void Emit(StringBuilder output, string name, int index, string text, char separator, ref int lastPrinted)
        {
            if ((before > 0 || after > 0) && _printedAny && (lastPrinted < 0 || index > lastPrinted + 1))
            {
                output.Append("--\n");
            }

            if (ShowNames)
            {
                output.Append(name).Append(separator);
            }

            if (options.Has("n"))
            {
                output.Append((index + 1).ToString(CultureInfo.InvariantCulture)).Append(separator);
            }

            output.Append(text).Append('\n');
            lastPrinted = index;
            _printedAny = true;
        }
    }
}

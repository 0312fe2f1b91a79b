using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SandboxFunctions.Tools.Shell.Commands;

/// <summary>head, tail, wc, cut, tr, uniq, echo, basename and dirname.</summary>
internal static partial class TextCommands
{
    private static readonly string[] CutLists = ["b", "c", "f"];

    public static async Task<int> HeadAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, NumericShorthand(context.Arguments), "n:c:qv", "lines=n:,bytes=c:,quiet=q,silent=q,verbose=v");
        if (options is null)
        {
            return 1;
        }

        var bytes = options.Value("c");
        if (!TryCount(bytes ?? options.Value("n") ?? "10", out var count, out var fromEnd, out _))
        {
            return context.Fail(bytes is null ? $"invalid number of lines: '{options.Value("n")}'" : $"invalid number of bytes: '{bytes}'");
        }

        return await EachInputAsync(context, options, data =>
        {
            var span = data.Span;
            var end = bytes is not null
                ? fromEnd ? (int)Math.Max(0, span.Length - count) : (int)Math.Min(count, span.Length)
                : fromEnd ? LineStart(span, LineCount(span) - count) : LineStart(span, count);
            context.Stdout.Write(span[..end]);
        }).ConfigureAwait(false);
    }

    public static async Task<int> TailAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, NumericShorthand(context.Arguments), "n:c:qvfF", "lines=n:,bytes=c:,quiet=q,silent=q,verbose=v,follow=f");
        if (options is null)
        {
            return 1;
        }

        if (options.Has("f") || options.Has("F"))
        {
            return context.Fail("following a file (-f) is not supported: nothing else writes to the workspace while a command runs");
        }

        var bytes = options.Value("c");
        if (!TryCount(bytes ?? options.Value("n") ?? "10", out var count, out _, out var fromStart))
        {
            return context.Fail(bytes is null ? $"invalid number of lines: '{options.Value("n")}'" : $"invalid number of bytes: '{bytes}'");
        }

        return await EachInputAsync(context, options, data =>
        {
            var span = data.Span;
            var start = bytes is not null
                ? fromStart ? (int)Math.Min(Math.Max(0, count - 1), span.Length) : (int)Math.Max(0, span.Length - count)
                : fromStart ? LineStart(span, Math.Max(0, count - 1)) : LineStart(span, LineCount(span) - count);
            context.Stdout.Write(span[start..]);
        }).ConfigureAwait(false);
    }

    public static async Task<int> WcAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "lwcmL", "lines=l,words=w,bytes=c,chars=m,max-line-length=L");
        if (options is null)
        {
            return 1;
        }

        var selected = "lwmcL".Where(c => options.Has(c.ToString())).ToList();
        if (selected.Count == 0)
        {
            selected = ['l', 'w', 'c'];
        }

        var rows = new List<(long[] Counts, string? Name)>();
        var status = 0;
        var inputs = CommandContext.InputsOf(options.Operands);
        foreach (var operand in inputs)
        {
            if (await context.ReadInputAsync(operand).ConfigureAwait(false) is not { } data)
            {
                status = 1;
                continue;
            }

            rows.Add(([.. selected.Select(c => Count(c, data))], options.Operands.Count == 0 ? null : operand));
        }

        if (rows.Count > 1)
        {
            rows.Add(([.. selected.Select((c, i) => c == 'L' ? rows.Max(r => r.Counts[i]) : rows.Sum(r => r.Counts[i]))], "total"));
        }

        // As GNU wc: no padding for a single count of a single input; otherwise columns wide enough for the files' sizes, or 7 for stdin.
        var width = selected.Count == 1 && inputs.Count == 1
            ? 1
            : inputs.Contains("-") ? 7 : Math.Max(1, rows.Max(r => r.Counts.Max()).ToString(CultureInfo.InvariantCulture).Length);
        var text = new StringBuilder();
        foreach (var (counts, name) in rows)
        {
            text.AppendJoin(' ', counts.Select(c => c.ToString(CultureInfo.InvariantCulture).PadLeft(width)));
            text.Append(name is null ? "\n" : $" {name}\n");
        }

        context.Stdout.Write(text.ToString());
        return status;

        static long Count(char what, ReadOnlyMemory<byte> data) => what switch
        {
            'l' => data.Span.Count((byte)'\n'),
            'c' => data.Length,
            'm' => TextLines.Decode(data).EnumerateRunes().LongCount(),
            'w' => Words().Count(TextLines.Decode(data)),
            _ => TextLines.Split(data).Select(l => l.Replace("\t", "        ", StringComparison.Ordinal).Length).DefaultIfEmpty(0).Max(),
        };
    }

    public static async Task<int> CutAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "b:c:d:f:sn", "bytes=b:,characters=c:,delimiter=d:,fields=f:,only-delimited=s,output-delimiter=output:,complement=complement");
        if (options is null)
        {
            return 1;
        }

        var lists = CutLists.Where(options.Has).ToList();
        if (lists.Count != 1)
        {
            return context.Fail(lists.Count == 0 ? "you must specify a list of bytes, characters, or fields" : "only one type of list may be specified");
        }

        var byFields = lists[0] == "f";
        var delimiter = options.Value("d") ?? "\t";
        if (delimiter.Length != 1)
        {
            return context.Fail("the delimiter must be a single character");
        }

        if (!TryRanges(options.Value(lists[0])!, out var ranges, out var problem))
        {
            return context.Fail(problem);
        }

        var complement = options.Has("complement");
        bool Selected(int position) => ranges.Exists(r => position >= r.From && position <= r.To) != complement;
        var outputDelimiter = options.Value("output") ?? delimiter;

        return await EachLineAsync(context, options.Operands, line =>
        {
            if (!byFields)
            {
                var chars = line.EnumerateRunes().Select(r => r.ToString()).ToList();
                return string.Concat(chars.Where((_, i) => Selected(i + 1)));
            }

            if (!line.Contains(delimiter[0], StringComparison.Ordinal))
            {
                return options.Has("s") ? null : line;
            }

            var fields = line.Split(delimiter[0]);
            return string.Join(outputDelimiter, fields.Where((_, i) => Selected(i + 1)));
        }).ConfigureAwait(false);
    }

    public static Task<int> TrAsync(CommandContext context) => Task.FromResult(Translate(context));

    private static int Translate(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "cCdst", "complement=c,delete=d,squeeze-repeats=s,truncate-set1=t");
        if (options is null)
        {
            return 1;
        }

        var delete = options.Has("d");
        var squeeze = options.Has("s");
        var complement = options.Has("c") || options.Has("C");
        var operands = options.Operands;
        var needed = delete && squeeze ? 2 : delete || (squeeze && operands.Count == 1) ? 1 : 2;
        if (operands.Count != needed)
        {
            return context.Fail(operands.Count < needed ? $"missing operand after '{(operands.Count == 0 ? "tr" : operands[^1])}'" : $"extra operand '{operands[needed]}'");
        }

        var set1 = ExpandSet(operands[0]);
        var set2 = operands.Count > 1 ? ExpandSet(operands[1]) : string.Empty;
        if (options.Has("t") && set2.Length < set1.Length)
        {
            set1 = set1[..set2.Length];
        }

        var inSet1 = new HashSet<char>(set1);
        bool Matches(char c) => inSet1.Contains(c) != complement;
        var translate = !delete && operands.Count == 2;
        if (translate && set2.Length == 0)
        {
            return context.Fail("when not truncating set1, string2 must be non-empty");
        }

        var map = new Dictionary<char, char>();
        if (translate && !complement)
        {
            for (var i = 0; i < set1.Length; i++)
            {
                map[set1[i]] = set2[Math.Min(i, set2.Length - 1)];
            }
        }

        var squeezeSet = new HashSet<char>(operands.Count == 2 ? set2 : set1);
        bool Squeezed(char c) => operands.Count == 2 || !complement ? squeezeSet.Contains(c) : !squeezeSet.Contains(c);

        // The input is decoded and translated a piece at a time, so that a large one can stop between pieces.
        const int PieceBytes = 64 * 1024;
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[Encoding.UTF8.GetMaxCharCount(PieceBytes)];
        var output = new StringBuilder(chars.Length);
        var input = context.Stdin;
        char? last = null;
        for (var offset = 0; offset < input.Length || offset == 0; offset += PieceBytes)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            var piece = input.Span[offset..Math.Min(offset + PieceBytes, input.Length)];
            var count = decoder.GetChars(piece, chars, flush: offset + PieceBytes >= input.Length);
            foreach (var original in chars.AsSpan(0, count))
            {
                if (delete && Matches(original))
                {
                    continue;
                }

                var c = original;
                if (translate && Matches(original))
                {
                    c = complement ? set2[^1] : map[original];
                }

                if (squeeze && last == c && Squeezed(c))
                {
                    continue;
                }

                output.Append(c);
                last = c;
            }

            context.Stdout.Write(output.ToString());
            output.Clear();
        }

        return 0;
    }

    public static async Task<int> UniqAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "cdDuif:s:", "count=c,repeated=d,all-repeated=D,unique=u,ignore-case=i,skip-fields=f:,skip-chars=s:");
        if (options is null)
        {
            return 1;
        }

        if (options.Operands.Count > 2)
        {
            return context.Fail($"extra operand '{options.Operands[2]}'");
        }

        if (await context.ReadInputAsync(options.Operands.Count == 0 ? "-" : options.Operands[0]).ConfigureAwait(false) is not { } data)
        {
            return 1;
        }

        var skipFields = int.TryParse(options.Value("f") ?? "0", CultureInfo.InvariantCulture, out var f) ? f : 0;
        var skipChars = int.TryParse(options.Value("s") ?? "0", CultureInfo.InvariantCulture, out var s) ? s : 0;
        var comparer = options.Has("i") ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        string Key(string line)
        {
            var rest = line;
            for (var i = 0; i < skipFields; i++)
            {
                rest = rest.TrimStart(' ', '\t');
                var end = rest.IndexOfAny([' ', '\t']);
                rest = end < 0 ? string.Empty : rest[end..];
            }

            return rest.Length > skipChars ? rest[skipChars..] : string.Empty;
        }

        var groups = new List<(string Line, List<string> All)>();
        foreach (var line in context.LinesOf(data))
        {
            if (groups.Count > 0 && comparer.Equals(Key(groups[^1].Line), Key(line)))
            {
                groups[^1].All.Add(line);
            }
            else
            {
                groups.Add((line, [line]));
            }
        }

        var lines = new List<string>();
        foreach (var (line, all) in groups)
        {
            if ((options.Has("d") || options.Has("D")) && all.Count < 2)
            {
                continue;
            }

            if (options.Has("u") && all.Count > 1)
            {
                continue;
            }

            if (options.Has("D"))
            {
                lines.AddRange(all);
            }
            else
            {
                lines.Add(options.Has("c") ? $"{all.Count,7} {line}" : line);
            }
        }

        if (options.Operands.Count == 2)
        {
            var text = string.Concat(lines.Select(l => l + "\n"));
            await context.Files.WriteAsync(context.Resolve(options.Operands[1]), Encoding.UTF8.GetBytes(text), context.CancellationToken).ConfigureAwait(false);
        }
        else
        {
            TextLines.Write(context, lines);
        }

        return 0;
    }

    public static Task<int> EchoAsync(CommandContext context)
    {
        var arguments = context.Arguments;
        var newline = true;
        var escapes = false;
        var first = 0;
        while (first < arguments.Count && arguments[first].Length > 1 && arguments[first][0] == '-' && arguments[first].Skip(1).All(c => c is 'n' or 'e' or 'E'))
        {
            foreach (var flag in arguments[first].Skip(1))
            {
                newline &= flag != 'n';
                escapes = flag == 'e' || (escapes && flag != 'E');
            }

            first++;
        }

        var text = string.Join(' ', arguments.Skip(first));
        if (escapes)
        {
            text = TextEscapes.Unescape(text, octalNeedsZero: true, out var stopped);
            newline &= !stopped;
        }

        context.Stdout.Write(newline ? text + "\n" : text);
        return Task.FromResult(0);
    }

    public static Task<int> BasenameAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "as:z", "multiple=a,suffix=s:,zero=z");
        if (options is null)
        {
            return Task.FromResult(1);
        }

        if (options.Operands.Count == 0)
        {
            return Task.FromResult(context.Fail("missing operand"));
        }

        var multiple = options.Has("a") || options.Has("s");
        if (!multiple && options.Operands.Count > 2)
        {
            return Task.FromResult(context.Fail($"extra operand '{options.Operands[2]}'"));
        }

        var suffix = options.Value("s") ?? (!multiple && options.Operands.Count == 2 ? options.Operands[1] : null);
        foreach (var name in multiple ? options.Operands : options.Operands.Take(1))
        {
            var trimmed = name.TrimEnd('/');
            var baseName = trimmed.Length == 0 ? (name.Length > 0 ? "/" : string.Empty) : trimmed[(trimmed.LastIndexOf('/') + 1)..];
            if (suffix is { Length: > 0 } && baseName.Length > suffix.Length && baseName.EndsWith(suffix, StringComparison.Ordinal))
            {
                baseName = baseName[..^suffix.Length];
            }

            context.Stdout.WriteLine(baseName);
        }

        return Task.FromResult(0);
    }

    public static Task<int> DirnameAsync(CommandContext context)
    {
        if (context.Arguments.Count == 0)
        {
            return Task.FromResult(context.Fail("missing operand"));
        }

        foreach (var name in context.Arguments)
        {
            var trimmed = name.TrimEnd('/');
            var slash = trimmed.LastIndexOf('/');
            context.Stdout.WriteLine(trimmed.Length == 0 && name.Length > 0 ? "/" : slash < 0 ? "." : slash == 0 ? "/" : trimmed[..slash].TrimEnd('/') is { Length: > 0 } parent ? parent : "/");
        }

        return Task.FromResult(0);
    }

    /// <summary>Runs <paramref name="transform"/> over every line of the inputs; a null result drops the line.</summary>
    public static async Task<int> EachLineAsync(CommandContext context, IReadOnlyList<string> operands, Func<string, string?> transform)
    {
        ArgumentNullException.ThrowIfNull(context);
        var status = 0;
        var output = new List<string>();
        foreach (var operand in CommandContext.InputsOf(operands))
        {
            if (await context.ReadInputAsync(operand).ConfigureAwait(false) is not { } data)
            {
                status = 1;
                continue;
            }

            foreach (var line in context.LinesOf(data))
            {
                if (transform(line) is { } result)
                {
                    output.Add(result);
                }
            }
        }

        TextLines.Write(context, output);
        return status;
    }

    /// <summary>The characters of a tr set: escapes, ranges such as a-z, and classes such as [:upper:].</summary>
    private static string ExpandSet(string set)
    {
        var text = TextEscapes.Unescape(set.Replace("\\-", "\uE000", StringComparison.Ordinal), octalNeedsZero: false, out _);
        var result = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '[' && text.IndexOf(":]", i + 2, StringComparison.Ordinal) is > 0 and var close && text[i + 1] == ':'
                && CharacterClasses.Characters(text[(i + 2)..close]) is { } members)
            {
                result.Append(members);
                i = close + 1;
            }
            else if (i + 2 < text.Length && text[i + 1] == '-' && text[i + 2] >= text[i])
            {
                for (var c = text[i]; c <= text[i + 2]; c++)
                {
                    result.Append(c);
                }

                i += 2;
            }
            else
            {
                result.Append(text[i] == '\uE000' ? '-' : text[i]);
            }
        }

        return result.ToString();
    }

    /// <summary>Turns <c>-5</c> (as in <c>head -5</c>) into <c>-n 5</c>.</summary>
    private static List<string> NumericShorthand(IReadOnlyList<string> arguments) =>
        [.. arguments.SelectMany((a, i) => a.Length > 1 && a[0] == '-' && a.Skip(1).All(char.IsAsciiDigit) && (i == 0 || arguments[i - 1] is not ("-n" or "-c" or "--lines" or "--bytes"))
            ? new[] { "-n", a[1..] }
            : [a])];

    /// <summary>A head/tail count: <c>N</c>, <c>-N</c> (all but the last N, for head) or <c>+N</c> (from the Nth on, for tail).</summary>
    private static bool TryCount(string text, out long count, out bool fromEnd, out bool fromStart)
    {
        fromEnd = text.StartsWith('-');
        fromStart = text.StartsWith('+');
        var digits = fromEnd || fromStart ? text[1..] : text;
        var multiplier = 1L;
        if (digits.Length > 1 && char.IsAsciiLetter(digits[^1]))
        {
            multiplier = char.ToUpperInvariant(digits[^1]) switch { 'K' => 1024, 'M' => 1024 * 1024, 'G' => 1024 * 1024 * 1024, _ => 0 };
            digits = digits[..^1];
        }

        var ok = long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out count) && multiplier > 0;
        count = Math.Min(count * multiplier, int.MaxValue);
        return ok;
    }

    private static int LineCount(ReadOnlySpan<byte> data) =>
        data.Count((byte)'\n') + (data.Length > 0 && data[^1] != '\n' ? 1 : 0);

    /// <summary>The offset where line <paramref name="line"/> (0-based) starts, or the end when there are fewer lines.</summary>
    private static int LineStart(ReadOnlySpan<byte> data, long line)
    {
        var offset = 0;
        for (var i = 0L; i < line; i++)
        {
            var next = data[offset..].IndexOf((byte)'\n');
            if (next < 0)
            {
                return data.Length;
            }

            offset += next + 1;
        }

        return offset;
    }

    private static async Task<int> EachInputAsync(CommandContext context, CommandOptions options, Action<ReadOnlyMemory<byte>> print)
    {
        var inputs = CommandContext.InputsOf(options.Operands);
        var headers = options.Has("v") || (inputs.Count > 1 && !options.Has("q"));
        var status = 0;
        var first = true;
        foreach (var operand in inputs)
        {
            if (await context.ReadInputAsync(operand).ConfigureAwait(false) is not { } data)
            {
                status = 1;
                continue;
            }

            if (headers)
            {
                context.Stdout.Write($"{(first ? string.Empty : "\n")}==> {(operand == "-" ? "standard input" : operand)} <==\n");
            }

            first = false;
            print(data);
        }

        return status;
    }

    private static bool TryRanges(string list, out List<(int From, int To)> ranges, out string problem)
    {
        ranges = [];
        problem = string.Empty;
        foreach (var item in list.Split(',', ' '))
        {
            var dash = item.IndexOf('-', StringComparison.Ordinal);
            var from = dash == 0 ? "1" : dash < 0 ? item : item[..dash];
            var to = dash < 0 ? item : dash == item.Length - 1 ? int.MaxValue.ToString(CultureInfo.InvariantCulture) : item[(dash + 1)..];
            if (!int.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out var start) || !int.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out var end) || item == "-")
            {
                problem = $"invalid field value '{item}'";
                return false;
            }

            if (start == 0 || end == 0)
            {
                problem = "fields and positions are numbered from 1";
                return false;
            }

            if (end < start)
            {
                problem = "invalid decreasing range";
                return false;
            }

            ranges.Add((start, end));
        }

        return true;
    }

    [GeneratedRegex(@"[^ \t\n\r\f\v]+")]
    private static partial Regex Words();
}

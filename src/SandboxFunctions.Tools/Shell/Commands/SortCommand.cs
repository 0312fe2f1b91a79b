using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.RegularExpressions;

namespace SandboxFunctions.Tools.Shell.Commands;

/// <summary>
/// <c>sort</c> in the C locale (byte order), with -n, -g, -h, -f, -r, -u, -s, -c, -o, -t and -k F[.C][opts][,F[.C][opts]].
/// Fields split on blanks start at their first non-blank character (as with -b), which is what people expect.
/// </summary>
internal static partial class SortCommand
{
    public static async Task<int> RunAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "nrufbghk:t:so:cV",
            "numeric-sort=n,reverse=r,unique=u,ignore-case=f,ignore-leading-blanks=b,general-numeric-sort=g,human-numeric-sort=h,key=k:,field-separator=t:,stable=s,output=o:,check=c,version-sort=V",
            usageStatus: 2);
        if (options is null)
        {
            return 2;
        }

        var separator = options.Value("t");
        if (separator is { Length: not 1 })
        {
            return context.Fail(separator.Length == 0 ? "empty tab" : $"multi-character tab '{separator}'", 2);
        }

        var global = new KeyOrder(options.Has("n"), options.Has("g"), options.Has("h") || options.Has("V"), options.Has("f"), options.Has("r"));
        var keys = new List<SortKey>();
        foreach (var spec in options.Values("k"))
        {
            if (SortKey.TryParse(spec, global) is not { } key)
            {
                return context.Fail($"invalid key specification '{spec}'", 2);
            }

            keys.Add(key);
        }

        var lines = new List<string>();
        var status = 0;
        foreach (var operand in CommandContext.InputsOf(options.Operands))
        {
            if (await context.ReadInputAsync(operand).ConfigureAwait(false) is not { } data)
            {
                status = 2;
                continue;
            }

            lines.AddRange(TextLines.Split(data));
        }

        if (status != 0)
        {
            return status;
        }

        var comparer = new LineComparer(keys.Count == 0 ? [new SortKey(1, 1, null, 0, global)] : keys, separator?[0], options.Has("s") || options.Has("u"), global.Reverse, context);
        if (options.Has("c"))
        {
            for (var i = 1; i < lines.Count; i++)
            {
                var order = comparer.Compare(lines[i - 1], lines[i]);
                if (order > 0 || (order == 0 && options.Has("u")))
                {
                    return context.Fail($"{(options.Operands.Count == 0 ? "-" : options.Operands[0])}:{i + 1}: disorder: {lines[i]}");
                }
            }

            return 0;
        }

        IEnumerable<string> sorted = Sort(lines, comparer);
        if (options.Has("u"))
        {
            var unique = new List<string>();
            foreach (var line in sorted)
            {
                if (unique.Count == 0 || comparer.Compare(unique[^1], line) != 0)
                {
                    unique.Add(line);
                }
            }

            sorted = unique;
        }

        if (options.Value("o") is { } output)
        {
            var text = new StringBuilder();
            foreach (var line in sorted)
            {
                text.Append(line).Append('\n');
            }

            await context.Files.WriteAsync(context.Resolve(output), Encoding.UTF8.GetBytes(text.ToString()), context.CancellationToken).ConfigureAwait(false);
            return 0;
        }

        TextLines.Write(context, sorted);
        return 0;
    }

    /// <summary>The lines in order, kept stable for -s and -u.</summary>
    private static List<string> Sort(List<string> lines, LineComparer comparer)
    {
        try
        {
            return [.. lines.Order(comparer)];
        }
        catch (InvalidOperationException ex) when (ex.InnerException is OperationCanceledException cancelled)
        {
            // The sort wraps what the comparer throws; the command line must see the cancellation itself.
            ExceptionDispatchInfo.Throw(cancelled);
            throw;
        }
    }

    /// <summary>How one key compares: numerically (-n, -g, -h), case-folded (-f), and/or reversed (-r).</summary>
    private sealed record KeyOrder(bool Numeric, bool General, bool Human, bool FoldCase, bool Reverse)
    {
        public int Compare(string a, string b)
        {
            var order = Numeric || Human ? Number(a, Human).CompareTo(Number(b, Human))
                : General ? GeneralNumber(a).CompareTo(GeneralNumber(b))
                : FoldCase ? string.CompareOrdinal(a.ToUpperInvariant(), b.ToUpperInvariant())
                : string.CompareOrdinal(a, b);
            return Reverse ? -order : order;
        }

        private static decimal Number(string text, bool human)
        {
            var match = NumberPattern().Match(text);
            if (!match.Success || !decimal.TryParse(match.Groups["number"].Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return 0;
            }

            if (human && match.Groups["unit"].Success)
            {
                var exponent = "KMGTPE".IndexOf(char.ToUpperInvariant(match.Groups["unit"].Value[0]), StringComparison.Ordinal) + 1;
                for (var i = 0; i < exponent; i++)
                {
                    value *= 1024;
                }
            }

            return value;
        }

        private static double GeneralNumber(string text)
        {
            var match = GeneralPattern().Match(text);
            return match.Success && double.TryParse(match.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : double.NegativeInfinity;
        }
    }

    /// <summary>A -k key: from field <c>StartField</c>, character <c>StartChar</c>, to field <c>EndField</c> (null: end of line), character <c>EndChar</c> (0: end of field).</summary>
    private sealed record SortKey(int StartField, int StartChar, int? EndField, int EndChar, KeyOrder Order)
    {
        public static SortKey? TryParse(string spec, KeyOrder global)
        {
            var match = KeyPattern().Match(spec);
            if (!match.Success)
            {
                return null;
            }

            var flags = match.Groups["flags1"].Value + match.Groups["flags2"].Value;
            var order = flags.Length == 0
                ? global
                : new KeyOrder(flags.Contains('n', StringComparison.Ordinal), flags.Contains('g', StringComparison.Ordinal), flags.Contains('h', StringComparison.Ordinal) || flags.Contains('V', StringComparison.Ordinal), flags.Contains('f', StringComparison.Ordinal), flags.Contains('r', StringComparison.Ordinal));
            var startField = Parse(match.Groups["field1"].Value);
            var startChar = match.Groups["char1"].Success ? Parse(match.Groups["char1"].Value) : 1;
            int? endField = match.Groups["field2"].Success ? Parse(match.Groups["field2"].Value) : null;
            var endChar = match.Groups["char2"].Success ? Parse(match.Groups["char2"].Value) : 0;
            return startField < 1 || startChar < 1 || endField is < 1 ? null : new SortKey(startField, startChar, endField, endChar, order);

            static int Parse(string digits) => int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
        }

        public string Extract(string line, char? separator)
        {
            var fields = Fields(line, separator);
            if (StartField > fields.Count)
            {
                return string.Empty;
            }

            var start = Math.Min(fields[StartField - 1].Start + StartChar - 1, line.Length);
            var end = line.Length;
            if (EndField is { } endField && endField <= fields.Count)
            {
                var field = fields[endField - 1];
                end = EndChar == 0 ? field.End : Math.Min(field.Start + EndChar, field.End);
            }

            return end > start ? line[start..end] : string.Empty;
        }

        /// <summary>Where each field starts (past leading blanks when fields split on blanks) and ends.</summary>
        private static List<(int Start, int End)> Fields(string line, char? separator)
        {
            var fields = new List<(int, int)>();
            if (separator is { } tab)
            {
                var start = 0;
                for (var i = 0; i <= line.Length; i++)
                {
                    if (i == line.Length || line[i] == tab)
                    {
                        fields.Add((start, i));
                        start = i + 1;
                    }
                }

                return fields;
            }

            for (var i = 0; i < line.Length;)
            {
                while (i < line.Length && line[i] is ' ' or '\t')
                {
                    i++;
                }

                var start = i;
                while (i < line.Length && line[i] is not (' ' or '\t'))
                {
                    i++;
                }

                if (i > start)
                {
                    fields.Add((start, i));
                }
            }

            return fields;
        }
    }

    /// <summary>Orders lines by their keys, checking every few thousand comparisons whether the command line may go on.</summary>
    private sealed class LineComparer(IReadOnlyList<SortKey> keys, char? separator, bool stable, bool reverse, CommandContext context) : IComparer<string>
    {
        private long _comparisons;

        public int Compare(string? x, string? y)
        {
            context.CheckStep(++_comparisons);

            var a = x ?? string.Empty;
            var b = y ?? string.Empty;
            foreach (var key in keys)
            {
                var order = key.Order.Compare(key.Extract(a, separator), key.Extract(b, separator));
                if (order != 0)
                {
                    return order;
                }
            }

            // As GNU sort: lines whose keys are equal are ordered by their whole text, unless -s or -u.
            if (stable)
            {
                return 0;
            }

            var last = string.CompareOrdinal(a, b);
            return reverse ? -last : last;
        }
    }

    [GeneratedRegex(@"^[ \t]*(?<number>[-+]?(\d+\.?\d*|\.\d+))(?<unit>[KMGTPEkmgtpe])?")]
    private static partial Regex NumberPattern();

    [GeneratedRegex(@"^[ \t]*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")]
    private static partial Regex GeneralPattern();

    [GeneratedRegex(@"^(?<field1>\d+)(\.(?<char1>\d+))?(?<flags1>[bdfghinMrRV]*)(,(?<field2>\d+)(\.(?<char2>\d+))?(?<flags2>[bdfghinMrRV]*))?$")]
    private static partial Regex KeyPattern();
}

namespace SandboxFunctions.Tools.Shell;

/// <summary>
/// getopt-style options of a command: clustered short flags (<c>-rf</c>), values attached or separate
/// (<c>-n5</c>, <c>-n 5</c>), long options (<c>--lines=5</c>), <c>--</c>, and options after operands as GNU allows.
/// </summary>
internal sealed class CommandOptions
{
    private readonly List<(string Name, string? Value)> _options = [];
    private readonly List<string> _operands = [];

    private CommandOptions()
    {
    }

    public IReadOnlyList<string> Operands => _operands;

    /// <summary>Parses the context's arguments, or reports the misuse and returns null.</summary>
    /// <param name="shortOptions">Letters, each followed by ':' when it takes a value, e.g. <c>"n:c:qv"</c>.</param>
    /// <param name="longOptions">Comma-separated <c>long=name</c> pairs, name followed by ':' when it takes a value, e.g. <c>"lines=n:,quiet=q"</c>.</param>
    /// <param name="permute">False for commands whose first operand ends the options (python, node, find).</param>
    public static CommandOptions? Parse(CommandContext context, IReadOnlyList<string> arguments, string shortOptions, string longOptions = "", bool permute = true, int usageStatus = 1)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(arguments);
        var longNames = longOptions.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
        var parsed = new CommandOptions();
        var onlyOperands = false;
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (onlyOperands || argument == "-" || !argument.StartsWith('-'))
            {
                parsed._operands.Add(argument);
                onlyOperands |= !permute;
                continue;
            }

            if (argument == "--")
            {
                onlyOperands = true;
                continue;
            }

            if (argument.StartsWith("--", StringComparison.Ordinal))
            {
                var equals = argument.IndexOf('=', StringComparison.Ordinal);
                var longName = equals < 0 ? argument[2..] : argument[2..equals];
                if (!longNames.TryGetValue(longName, out var name))
                {
                    context.Fail($"unrecognized option '{argument}'", usageStatus);
                    return null;
                }

                if (!name.EndsWith(':'))
                {
                    parsed._options.Add((name, null));
                    continue;
                }

                if (equals >= 0)
                {
                    parsed._options.Add((name[..^1], argument[(equals + 1)..]));
                }
                else if (i + 1 < arguments.Count)
                {
                    parsed._options.Add((name[..^1], arguments[++i]));
                }
                else
                {
                    context.Fail($"option '{argument}' requires an argument", usageStatus);
                    return null;
                }

                continue;
            }

            for (var j = 1; j < argument.Length; j++)
            {
                var letter = argument[j];
                var at = shortOptions.IndexOf(letter, StringComparison.Ordinal);
                if (at < 0 || letter == ':')
                {
                    context.Fail($"invalid option -- '{letter}'", usageStatus);
                    return null;
                }

                if (at + 1 >= shortOptions.Length || shortOptions[at + 1] != ':')
                {
                    parsed._options.Add((letter.ToString(), null));
                    continue;
                }

                if (j + 1 < argument.Length)
                {
                    parsed._options.Add((letter.ToString(), argument[(j + 1)..]));
                }
                else if (i + 1 < arguments.Count)
                {
                    parsed._options.Add((letter.ToString(), arguments[++i]));
                }
                else
                {
                    context.Fail($"option requires an argument -- '{letter}'", usageStatus);
                    return null;
                }

                break;
            }
        }

        return parsed;
    }

    public bool Has(string name) => _options.Exists(o => o.Name == name);

    /// <summary>The value of the last occurrence of an option, as GNU tools take it.</summary>
    public string? Value(string name) => _options.FindLast(o => o.Name == name).Value;

    public IEnumerable<string> Values(string name) => _options.Where(o => o.Name == name).Select(o => o.Value!);
}

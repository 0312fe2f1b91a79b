using System.Globalization;

namespace SandboxFunctions.Tools.Shell.Commands;

/// <summary>env, printenv, export, unset, exit, test / [ and help.</summary>
internal static class ShellBuiltins
{
    /// <summary>What the shell understands, for <c>help</c> and for the tool's description.</summary>
    public const string Syntax =
        "Syntax: pipes (a | b), redirections (> file, >> file, < file, 2> file, 2>&1, &> file, <<< text), sequencing (;, &&, ||), " +
        "'single' and \"double\" quotes, backslash escapes, variables (NAME=value, export NAME=value, $NAME, ${NAME}, ${NAME:-default}, $?), " +
        "~ for /workspace, and globs (*, ?, [...]) matched against the workspace. Not supported: $(...) and backquotes, $((...)), subshells, " +
        "if/for/while/case, functions, here-documents and background jobs (&). Variables and cd last for one command line.";

    public static async Task<int> EnvAsync(CommandContext context)
    {
        var state = context.Shell.Clone();
        var arguments = context.Arguments;
        var i = 0;
        for (; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            var equals = argument.IndexOf('=', StringComparison.Ordinal);
            if (argument is "-i" or "--ignore-environment")
            {
                foreach (var name in state.Environment.Keys)
                {
                    state.Unset(name);
                }
            }
            else if (argument is "-u" && i + 1 < arguments.Count)
            {
                state.Unset(arguments[++i]);
            }
            else if (equals > 0)
            {
                state.Set(argument[..equals], argument[(equals + 1)..], export: true);
            }
            else
            {
                break;
            }
        }

        if (i == arguments.Count)
        {
            TextLines.Write(context, state.Environment.Select(v => $"{v.Key}={v.Value}"));
            return 0;
        }

        var command = new CommandContext(arguments[i], [.. arguments.Skip(i + 1)], state, context.Stdin, context.Stdout, context.Stderr);
        return await ShellCommands.RunAsync(command).ConfigureAwait(false);
    }

    public static Task<int> PrintenvAsync(CommandContext context)
    {
        var environment = context.Shell.Environment;
        if (context.Arguments.Count == 0)
        {
            TextLines.Write(context, environment.Select(v => $"{v.Key}={v.Value}"));
            return Task.FromResult(0);
        }

        var status = 0;
        foreach (var name in context.Arguments)
        {
            if (environment.TryGetValue(name, out var value))
            {
                context.Stdout.WriteLine(value);
            }
            else
            {
                status = 1;
            }
        }

        return Task.FromResult(status);
    }

    public static Task<int> ExportAsync(CommandContext context)
    {
        var names = context.Arguments.Where(a => a != "-p").ToList();
        if (names.Count == 0)
        {
            TextLines.Write(context, context.Shell.Environment.Select(v => $"export {v.Key}='{v.Value.Replace("'", "'\\''", StringComparison.Ordinal)}'"));
            return Task.FromResult(0);
        }

        var status = 0;
        foreach (var argument in names)
        {
            var equals = argument.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? argument : argument[..equals];
            if (!ShellParser.IsName(name))
            {
                status = context.Fail($"`{argument}': not a valid identifier");
            }
            else if (equals < 0)
            {
                context.Shell.Export(name);
            }
            else
            {
                context.Shell.Set(name, argument[(equals + 1)..], export: true);
            }
        }

        return Task.FromResult(status);
    }

    public static Task<int> UnsetAsync(CommandContext context)
    {
        foreach (var name in context.Arguments.Where(a => a is not ("-v" or "-f")))
        {
            context.Shell.Unset(name);
        }

        return Task.FromResult(0);
    }

    public static Task<int> ExitAsync(CommandContext context)
    {
        if (context.Arguments.Count > 1)
        {
            return Task.FromResult(context.Fail("too many arguments"));
        }

        if (context.Arguments.Count == 0)
        {
            throw new ShellExitException(context.Shell.LastStatus);
        }

        if (!int.TryParse(context.Arguments[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var status))
        {
            context.Fail($"{context.Arguments[0]}: numeric argument required");
            throw new ShellExitException(2);
        }

        throw new ShellExitException(status & 0xFF);
    }

    public static Task<int> HelpAsync(CommandContext context)
    {
        context.Stdout.WriteLine(Syntax);
        context.Stdout.WriteLine($"Commands: {string.Join(", ", ShellCommands.Names)}.");
        context.Stdout.WriteLine("python FILE|-c CODE|-m MODULE [ARGS] and node FILE|-e CODE [ARGS] run in this session's own interpreter.");
        return Task.FromResult(0);
    }

    /// <summary><c>test EXPR</c> and <c>[ EXPR ]</c>: 0 when true, 1 when false, 2 when the expression is malformed.</summary>
    public static async Task<int> TestAsync(CommandContext context)
    {
        var arguments = context.Arguments.ToList();
        if (context.Name == "[")
        {
            if (arguments.Count == 0 || arguments[^1] != "]")
            {
                return context.Fail("missing `]'", 2);
            }

            arguments.RemoveAt(arguments.Count - 1);
        }

        try
        {
            var evaluator = new TestEvaluator(context, arguments);
            return await evaluator.EvaluateAsync().ConfigureAwait(false) ? 0 : 1;
        }
        catch (FormatException ex)
        {
            return context.Fail(ex.Message, 2);
        }
    }

    /// <summary>POSIX test: the argument count decides the reading for up to four arguments; longer ones use -a, -o and !.</summary>
    private sealed class TestEvaluator(CommandContext context, List<string> arguments)
    {
        private static readonly HashSet<string> Unary = new(StringComparer.Ordinal) { "-e", "-f", "-d", "-s", "-r", "-w", "-x", "-n", "-z", "-L", "-h", "-a" };
        private static readonly HashSet<string> Binary = new(StringComparer.Ordinal) { "=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot" };
        private int _position;

        public Task<bool> EvaluateAsync() => arguments.Count switch
        {
            0 => Task.FromResult(false),
            1 => Task.FromResult(arguments[0].Length > 0),
            2 when arguments[0] == "!" => Task.FromResult(arguments[1].Length == 0),
            2 when Unary.Contains(arguments[0]) => UnaryAsync(arguments[0], arguments[1]),
            2 => throw new FormatException($"{arguments[0]}: unary operator expected"),
            3 when Binary.Contains(arguments[1]) => BinaryAsync(arguments[0], arguments[1], arguments[2]),
            3 when arguments[0] == "!" => Not(new TestEvaluator(context, arguments[1..]).EvaluateAsync()),
            3 when arguments[0] == "(" && arguments[2] == ")" => Task.FromResult(arguments[1].Length > 0),
            4 when arguments[0] == "!" => Not(new TestEvaluator(context, arguments[1..]).EvaluateAsync()),
            _ => ExpressionAsync(),
        };

        private static async Task<bool> Not(Task<bool> value) => !await value.ConfigureAwait(false);

        private async Task<bool> ExpressionAsync()
        {
            var value = await OrAsync().ConfigureAwait(false);
            return _position == arguments.Count ? value : throw new FormatException($"{arguments[_position]}: unexpected argument");
        }

        private async Task<bool> OrAsync()
        {
            var value = await AndAsync().ConfigureAwait(false);
            while (Take("-o"))
            {
                value = await AndAsync().ConfigureAwait(false) || value;
            }

            return value;
        }

        private async Task<bool> AndAsync()
        {
            var value = await PrimaryAsync().ConfigureAwait(false);
            while (Take("-a"))
            {
                value = await PrimaryAsync().ConfigureAwait(false) && value;
            }

            return value;
        }

        private async Task<bool> PrimaryAsync()
        {
            if (_position >= arguments.Count)
            {
                throw new FormatException("argument expected");
            }

            if (Take("!"))
            {
                return !await PrimaryAsync().ConfigureAwait(false);
            }

            if (Take("("))
            {
                var value = await OrAsync().ConfigureAwait(false);
                return Take(")") ? value : throw new FormatException("missing `)'");
            }

            if (_position + 2 < arguments.Count && Binary.Contains(arguments[_position + 1]))
            {
                _position += 3;
                return await BinaryAsync(arguments[_position - 3], arguments[_position - 2], arguments[_position - 1]).ConfigureAwait(false);
            }

            if (Unary.Contains(arguments[_position]) && _position + 1 < arguments.Count)
            {
                _position += 2;
                return await UnaryAsync(arguments[_position - 2], arguments[_position - 1]).ConfigureAwait(false);
            }

            return arguments[_position++].Length > 0;
        }

        private bool Take(string token)
        {
            if (_position < arguments.Count && arguments[_position] == token)
            {
                _position++;
                return true;
            }

            return false;
        }

        private async Task<bool> UnaryAsync(string op, string operand)
        {
            switch (op)
            {
                case "-n":
                    return operand.Length > 0;
                case "-z":
                    return operand.Length == 0;
                case "-L" or "-h":
                    return false;
            }

            var entry = await StatAsync(operand).ConfigureAwait(false);
            return op switch
            {
                "-f" => entry is { IsDirectory: false },
                "-d" or "-x" => entry is { IsDirectory: true },
                "-s" => entry is { IsDirectory: false, Size: > 0 } || entry is { IsDirectory: true },
                _ => entry is not null,
            };
        }

        private async Task<bool> BinaryAsync(string left, string op, string right)
        {
            switch (op)
            {
                case "=" or "==":
                    return left == right;
                case "!=":
                    return left != right;
                case "<":
                    return string.CompareOrdinal(left, right) < 0;
                case ">":
                    return string.CompareOrdinal(left, right) > 0;
                case "-nt" or "-ot":
                    var a = await StatAsync(left).ConfigureAwait(false);
                    var b = await StatAsync(right).ConfigureAwait(false);
                    return op == "-nt"
                        ? a is not null && (b is null || a.Modified > b.Modified)
                        : b is not null && (a is null || a.Modified < b.Modified);
            }

            var x = Integer(left);
            var y = Integer(right);
            return op switch
            {
                "-eq" => x == y,
                "-ne" => x != y,
                "-lt" => x < y,
                "-le" => x <= y,
                "-gt" => x > y,
                _ => x >= y,
            };
        }

        private async Task<ShellEntry?> StatAsync(string path)
        {
            if (path.Length == 0)
            {
                return null;
            }

            try
            {
                return await context.StatAsync(path).ConfigureAwait(false);
            }
            catch (SandboxFunctions.Sandbox.WorkspaceException)
            {
                return null;
            }
        }

        private static long Integer(string text) =>
            long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new FormatException($"{text}: integer expression expected");
    }
}

using System.Globalization;
using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Tools.Shell.Commands;

/// <summary>
/// <c>find [path...] [tests]</c> with -name, -iname, -path, -type f|d, -maxdepth, -mindepth, -empty, -print and
/// ! / -not; the tests all have to hold. Actions such as -exec and -delete are refused.
/// </summary>
internal static class FindCommand
{
    private static readonly HashSet<string> Actions = new(StringComparer.Ordinal)
    {
        "-exec", "-execdir", "-ok", "-okdir", "-delete", "-printf", "-fprint", "-fprintf", "-ls", "-fls", "-print0",
    };

    public static async Task<int> RunAsync(CommandContext context)
    {
        var arguments = context.Arguments;
        var starts = arguments.TakeWhile(a => !a.StartsWith('-') && a is not ("!" or "(")).ToList();
        if (Parse(context, arguments.Skip(starts.Count).ToList()) is not { } query)
        {
            return 1;
        }

        var status = 0;
        foreach (var start in starts.Count == 0 ? ["."] : starts)
        {
            ShellEntry? entry;
            try
            {
                entry = await context.Files.StatAsync(context.Resolve(start), context.CancellationToken).ConfigureAwait(false);
            }
            catch (WorkspaceException ex)
            {
                status = context.Fail($"'{start}': {ShellFileSystem.Describe(ex)}");
                continue;
            }

            if (entry is null)
            {
                status = context.Fail($"'{start}': No such file or directory");
                continue;
            }

            await VisitAsync(context, query, start, entry, 0).ConfigureAwait(false);
        }

        return status;
    }

    private static async Task VisitAsync(CommandContext context, Query query, string shown, ShellEntry entry, int depth)
    {
        context.CancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<ShellEntry>? children = entry.IsDirectory
            ? await context.Files.ListAsync(entry.Path, recursive: false, context.CancellationToken).ConfigureAwait(false)
            : null;
        if (depth >= query.MinDepth && query.Tests.All(test => test(new Item(shown, entry, children?.Count ?? 0))))
        {
            context.Stdout.WriteLine(shown);
        }

        if (children is null || depth >= query.MaxDepth)
        {
            return;
        }

        foreach (var child in children)
        {
            await VisitAsync(context, query, shown.EndsWith('/') ? shown + child.Name : $"{shown}/{child.Name}", child, depth + 1).ConfigureAwait(false);
        }
    }

    private static Query? Parse(CommandContext context, List<string> expression)
    {
        var tests = new List<Func<Item, bool>>();
        var maxDepth = int.MaxValue;
        var minDepth = 0;
        var negate = false;
        for (var i = 0; i < expression.Count; i++)
        {
            var primary = expression[i];
            if (primary is "!" or "-not")
            {
                negate = !negate;
                continue;
            }

            if (primary is "-a" or "-and" or "-print")
            {
                continue;
            }

            if (primary is "-o" or "-or" or "(" or ")" or ",")
            {
                context.Fail($"'{primary}' is not supported; all tests must hold (run find once per alternative)");
                return null;
            }

            if (Actions.Contains(primary))
            {
                context.Fail($"{primary} is not supported; pipe find's output to other commands, or use python or node for per-file work");
                return null;
            }

            if (primary is "-empty")
            {
                tests.Add(Negated(item => item.Entry.IsDirectory ? item.Children == 0 : item.Entry.Size == 0, ref negate));
                continue;
            }

            if (primary is not ("-name" or "-iname" or "-path" or "-wholename" or "-ipath" or "-type" or "-maxdepth" or "-mindepth"))
            {
                context.Fail(primary.StartsWith('-') ? $"unknown predicate `{primary}'" : $"paths must precede expression: `{primary}'");
                return null;
            }

            if (i + 1 >= expression.Count)
            {
                context.Fail($"missing argument to `{primary}'");
                return null;
            }

            var value = expression[++i];
            switch (primary)
            {
                case "-name":
                    tests.Add(Negated(item => Glob.IsMatch(item.Name, value), ref negate));
                    break;
                case "-iname":
                    tests.Add(Negated(item => Glob.IsMatch(item.Name, value, ignoreCase: true), ref negate));
                    break;
                case "-path" or "-wholename":
                    tests.Add(Negated(item => Glob.IsMatch(item.Shown, value), ref negate));
                    break;
                case "-ipath":
                    tests.Add(Negated(item => Glob.IsMatch(item.Shown, value, ignoreCase: true), ref negate));
                    break;
                case "-type" when value is "f" or "d":
                    var directory = value == "d";
                    tests.Add(Negated(item => item.Entry.IsDirectory == directory, ref negate));
                    break;
                case "-type" when value is "l" or "b" or "c" or "p" or "s":
                    tests.Add(Negated(_ => false, ref negate));
                    break;
                case "-type":
                    context.Fail($"Unknown argument to -type: {value}");
                    return null;
                case "-maxdepth" or "-mindepth" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var depth):
                    if (primary == "-maxdepth")
                    {
                        maxDepth = depth;
                    }
                    else
                    {
                        minDepth = depth;
                    }

                    break;
                default:
                    context.Fail($"Expected a positive decimal integer argument to {primary}, but got `{value}'");
                    return null;
            }
        }

        return new Query(tests, minDepth, maxDepth);
    }

    private static Func<Item, bool> Negated(Func<Item, bool> test, ref bool negate)
    {
        var inverted = negate;
        negate = false;
        return inverted ? item => !test(item) : test;
    }

    private sealed record Query(IReadOnlyList<Func<Item, bool>> Tests, int MinDepth, int MaxDepth);

    private sealed record Item(string Shown, ShellEntry Entry, int Children)
    {
        public string Name => Shown.TrimEnd('/') is var trimmed && trimmed.LastIndexOf('/') is var slash && slash >= 0 && trimmed.Length > 1 ? trimmed[(slash + 1)..] : trimmed;
    }
}

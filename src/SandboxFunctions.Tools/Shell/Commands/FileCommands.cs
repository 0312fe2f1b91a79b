using System.Globalization;
using System.Text;
using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Tools.Shell.Commands;

/// <summary>cat, cd, cp, mkdir, mv, pwd, rm, rmdir, touch and tee over the workspace.</summary>
internal static class FileCommands
{
    public static async Task<int> CatAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "nbEsuA", "number=n,number-nonblank=b,show-ends=E,squeeze-blank=s,show-all=A");
        if (options is null)
        {
            return 1;
        }

        var number = options.Has("n") || options.Has("b");
        var status = 0;
        var line = 0;
        foreach (var operand in CommandContext.InputsOf(options.Operands))
        {
            if (await context.ReadInputAsync(operand).ConfigureAwait(false) is not { } data)
            {
                status = 1;
                continue;
            }

            if (!number && !options.Has("E") && !options.Has("A") && !options.Has("s"))
            {
                context.Stdout.Write(data.Span);
                continue;
            }

            var text = Encoding.UTF8.GetString(data.Span);
            var lines = TextLines.Split(text);
            var previousBlank = false;
            for (var i = 0; i < lines.Count; i++)
            {
                context.CheckStep(i);
                var blank = lines[i].Length == 0;
                if (options.Has("s") && blank && previousBlank)
                {
                    continue;
                }

                previousBlank = blank;
                var numbered = number && !(options.Has("b") && blank) ? $"{++line,6}\t" : string.Empty;
                var end = options.Has("E") || options.Has("A") ? "$" : string.Empty;
                var newline = i < lines.Count - 1 || text.EndsWith('\n') ? "\n" : string.Empty;
                context.Stdout.Write(numbered + lines[i] + end + newline);
            }
        }

        return status;
    }

    public static Task<int> PwdAsync(CommandContext context)
    {
        context.Stdout.WriteLine(context.Shell.Cwd);
        return Task.FromResult(0);
    }

    public static async Task<int> CdAsync(CommandContext context)
    {
        var arguments = context.Arguments.Where(a => a is not ("-L" or "-P")).ToList();
        if (arguments.Count > 1)
        {
            return context.Fail("too many arguments");
        }

        var target = arguments.Count == 0 ? context.Shell.Get("HOME") ?? ShellFileSystem.Root : arguments[0];
        if (target == "-")
        {
            target = context.Shell.Get("OLDPWD") ?? context.Shell.Cwd;
            context.Stdout.WriteLine(target);
        }

        string path;
        ShellEntry? entry;
        try
        {
            path = context.Resolve(target);
            entry = await context.Files.StatAsync(path, context.CancellationToken).ConfigureAwait(false);
        }
        catch (WorkspaceException ex)
        {
            return context.Fail(target, ex);
        }

        return entry switch
        {
            null => context.Fail($"{target}: No such file or directory"),
            { IsDirectory: false } => context.Fail($"{target}: Not a directory"),
            _ => ChangeTo(context, path),
        };

        static int ChangeTo(CommandContext context, string path)
        {
            context.Shell.ChangeDirectory(path);
            return 0;
        }
    }

    public static async Task<int> MkdirAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "pvm:", "parents=p,verbose=v,mode=m:");
        return options is null ? 1 : await ForEachOperandAsync(context, options.Operands, "missing operand", "cannot create directory", async (operand, path) =>
        {
            var entry = await context.Files.StatAsync(path, context.CancellationToken).ConfigureAwait(false);
            if (entry is not null)
            {
                return options.Has("p") && entry.IsDirectory ? null : "File exists";
            }

            if (!options.Has("p") && await context.Files.StatAsync(ParentOf(path), context.CancellationToken).ConfigureAwait(false) is not { IsDirectory: true })
            {
                return "No such file or directory";
            }

            await context.Files.CreateDirectoryAsync(path, context.CancellationToken).ConfigureAwait(false);
            if (options.Has("v"))
            {
                context.Stdout.WriteLine($"mkdir: created directory '{operand}'");
            }

            return null;
        }).ConfigureAwait(false);
    }

    public static async Task<int> RmAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "rRfiIdv", "recursive=r,force=f,dir=d,verbose=v");
        if (options is null)
        {
            return 1;
        }

        var recursive = options.Has("r") || options.Has("R");
        var force = options.Has("f");
        if (options.Operands.Count == 0)
        {
            return force ? 0 : context.Fail("missing operand");
        }

        var status = 0;
        foreach (var operand in options.Operands)
        {
            if (operand.TrimEnd('/').Split('/')[^1] is "." or "..")
            {
                status = context.Fail($"refusing to remove '.' or '..' directory: skipping '{operand}'");
                continue;
            }

            try
            {
                var path = context.Resolve(operand);
                if (path == ShellFileSystem.Root)
                {
                    status = context.Fail($"refusing to remove '{operand}': it is the workspace itself; remove what is in it (rm -r {ShellFileSystem.Root}/*)");
                    continue;
                }

                var entry = await context.Files.StatAsync(path, context.CancellationToken).ConfigureAwait(false);
                if (entry is null)
                {
                    if (!force)
                    {
                        status = context.Fail($"cannot remove '{operand}': No such file or directory");
                    }

                    continue;
                }

                if (entry.IsDirectory && !recursive)
                {
                    var empty = (await context.Files.ListAsync(path, recursive: false, context.CancellationToken).ConfigureAwait(false)).Count == 0;
                    if (!(options.Has("d") && empty))
                    {
                        status = context.Fail($"cannot remove '{operand}': Is a directory");
                        continue;
                    }
                }

                await context.Files.DeleteAsync(path, context.CancellationToken).ConfigureAwait(false);
                if (options.Has("v"))
                {
                    context.Stdout.WriteLine($"removed '{operand}'");
                }
            }
            catch (WorkspaceException ex)
            {
                status = context.Fail($"cannot remove '{operand}': {ShellFileSystem.Describe(ex)}");
            }
        }

        return status;
    }

    public static async Task<int> RmdirAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "pv", "parents=p,verbose=v");
        return options is null ? 1 : await ForEachOperandAsync(context, options.Operands, "missing operand", "failed to remove", async (_, path) =>
        {
            var entry = await context.Files.StatAsync(path, context.CancellationToken).ConfigureAwait(false);
            if (entry is null)
            {
                return "No such file or directory";
            }

            if (!entry.IsDirectory)
            {
                return "Not a directory";
            }

            if (path == ShellFileSystem.Root || (await context.Files.ListAsync(path, recursive: false, context.CancellationToken).ConfigureAwait(false)).Count > 0)
            {
                return "Directory not empty";
            }

            await context.Files.DeleteAsync(path, context.CancellationToken).ConfigureAwait(false);
            return null;
        }).ConfigureAwait(false);
    }

    public static async Task<int> TouchAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "cam", "no-create=c");
        return options is null ? 1 : await ForEachOperandAsync(context, options.Operands, "missing file operand", "cannot touch", async (_, path) =>
        {
            var entry = await context.Files.StatAsync(path, context.CancellationToken).ConfigureAwait(false);
            if (entry is null)
            {
                if (options.Has("c"))
                {
                    return null;
                }

                if (await context.Files.StatAsync(ParentOf(path), context.CancellationToken).ConfigureAwait(false) is not { IsDirectory: true })
                {
                    return "No such file or directory";
                }

                await context.Files.WriteAsync(path, ReadOnlyMemory<byte>.Empty, context.CancellationToken).ConfigureAwait(false);
            }
            else if (!entry.IsDirectory)
            {
                // Rewriting the same bytes is how the workspace updates a file's time.
                var content = await context.Files.ReadAsync(path, context.CancellationToken).ConfigureAwait(false);
                await context.Files.WriteAsync(path, content, context.CancellationToken).ConfigureAwait(false);
            }

            return null;
        }).ConfigureAwait(false);
    }

    public static async Task<int> TeeAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "ai", "append=a,ignore-interrupts=i");
        if (options is null)
        {
            return 1;
        }

        context.Stdout.Write(context.Stdin.Span);
        var status = 0;
        foreach (var operand in options.Operands)
        {
            if (operand == ShellFileSystem.DevNull)
            {
                continue;
            }

            try
            {
                var path = context.Resolve(operand);
                if (options.Has("a"))
                {
                    await context.Files.AppendAsync(path, context.Stdin, context.CancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await context.Files.WriteAsync(path, context.Stdin, context.CancellationToken).ConfigureAwait(false);
                }
            }
            catch (WorkspaceException ex)
            {
                status = context.Fail(operand, ex);
            }
        }

        return status;
    }

    public static Task<int> CopyAsync(CommandContext context) => TransferAsync(context, move: false);

    public static Task<int> MoveAsync(CommandContext context) => TransferAsync(context, move: true);

    /// <summary>cp and mv: one source to a destination, or several sources into a directory.</summary>
    private static async Task<int> TransferAsync(CommandContext context, bool move)
    {
        var options = move
            ? CommandOptions.Parse(context, context.Arguments, "finvT", "force=f,interactive=i,no-clobber=n,verbose=v,no-target-directory=T")
            : CommandOptions.Parse(context, context.Arguments, "rRafinvpT", "recursive=r,archive=a,force=f,interactive=i,no-clobber=n,verbose=v,preserve=p,no-target-directory=T");
        if (options is null)
        {
            return 1;
        }

        var operands = options.Operands;
        if (operands.Count < 2)
        {
            return context.Fail(operands.Count == 0 ? "missing file operand" : $"missing destination file operand after '{operands[0]}'");
        }

        var recursive = move || options.Has("r") || options.Has("R") || options.Has("a");
        var destination = operands[^1];
        string destinationPath;
        ShellEntry? destinationEntry;
        try
        {
            destinationPath = context.Resolve(destination);
            destinationEntry = await context.Files.StatAsync(destinationPath, context.CancellationToken).ConfigureAwait(false);
        }
        catch (WorkspaceException ex)
        {
            return context.Fail($"cannot create '{destination}': {ShellFileSystem.Describe(ex)}");
        }

        var intoDirectory = destinationEntry is { IsDirectory: true } && !options.Has("T");
        if (operands.Count > 2 && !intoDirectory)
        {
            return context.Fail($"target '{destination}' is not a directory");
        }

        var status = 0;
        foreach (var source in operands.Take(operands.Count - 1))
        {
            try
            {
                var sourcePath = context.Resolve(source);
                var sourceEntry = await context.Files.StatAsync(sourcePath, context.CancellationToken).ConfigureAwait(false);
                if (sourceEntry is null)
                {
                    status = context.Fail($"cannot stat '{source}': No such file or directory");
                    continue;
                }

                var targetPath = intoDirectory ? $"{destinationPath}/{sourceEntry.Name}" : destinationPath;
                var targetEntry = intoDirectory ? await context.Files.StatAsync(targetPath, context.CancellationToken).ConfigureAwait(false) : destinationEntry;
                if (targetPath == sourcePath)
                {
                    status = context.Fail($"'{source}' and '{(intoDirectory ? $"{destination.TrimEnd('/')}/{sourceEntry.Name}" : destination)}' are the same file");
                    continue;
                }

                if (options.Has("n") && targetEntry is not null)
                {
                    continue;
                }

                if (sourceEntry.IsDirectory)
                {
                    if (!recursive)
                    {
                        status = context.Fail($"-r not specified; omitting directory '{source}'");
                        continue;
                    }

                    if (targetPath.StartsWith(sourcePath + "/", StringComparison.Ordinal))
                    {
                        status = context.Fail(move
                            ? $"cannot move '{source}' to a subdirectory of itself, '{destination}'"
                            : $"cannot copy a directory, '{source}', into itself, '{destination}'");
                        continue;
                    }

                    if (targetEntry is { IsDirectory: false })
                    {
                        status = context.Fail($"cannot overwrite non-directory '{destination}' with directory '{source}'");
                        continue;
                    }

                    if (move && targetEntry is not null && (await context.Files.ListAsync(targetPath, recursive: false, context.CancellationToken).ConfigureAwait(false)).Count > 0)
                    {
                        status = context.Fail($"cannot move '{source}' to '{destination}': Directory not empty");
                        continue;
                    }

                    await CopyTreeAsync(context, sourcePath, targetPath).ConfigureAwait(false);
                }
                else
                {
                    if (targetEntry is { IsDirectory: true })
                    {
                        status = context.Fail($"cannot overwrite directory '{destination}' with non-directory");
                        continue;
                    }

                    if (await context.Files.StatAsync(ParentOf(targetPath), context.CancellationToken).ConfigureAwait(false) is not { IsDirectory: true })
                    {
                        status = context.Fail(move
                            ? $"cannot move '{source}' to '{destination}': No such file or directory"
                            : $"cannot create regular file '{destination}': No such file or directory");
                        continue;
                    }

                    var content = await context.Files.ReadAsync(sourcePath, context.CancellationToken).ConfigureAwait(false);
                    await context.Files.WriteAsync(targetPath, content, context.CancellationToken).ConfigureAwait(false);
                }

                if (move)
                {
                    await context.Files.DeleteAsync(sourcePath, context.CancellationToken).ConfigureAwait(false);
                }

                if (options.Has("v"))
                {
                    context.Stdout.WriteLine(move ? $"renamed '{source}' -> '{destination}'" : $"'{source}' -> '{destination}'");
                }
            }
            catch (WorkspaceException ex)
            {
                status = context.Fail($"cannot {(move ? "move" : "copy")} '{source}': {ShellFileSystem.Describe(ex)}");
            }
        }

        return status;
    }

    private static async Task CopyTreeAsync(CommandContext context, string source, string target)
    {
        await context.Files.CreateDirectoryAsync(target, context.CancellationToken).ConfigureAwait(false);
        foreach (var entry in await context.Files.ListAsync(source, recursive: true, context.CancellationToken).ConfigureAwait(false))
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            var path = target + entry.Path[source.Length..];
            if (entry.IsDirectory)
            {
                await context.Files.CreateDirectoryAsync(path, context.CancellationToken).ConfigureAwait(false);
            }
            else
            {
                var content = await context.Files.ReadAsync(entry.Path, context.CancellationToken).ConfigureAwait(false);
                await context.Files.WriteAsync(path, content, context.CancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Applies <paramref name="apply"/> to each operand in turn, as coreutils do: a refused operand is reported as
    /// <c>name: doing 'operand': reason</c> and the rest still run; the status is 1 when any was refused.
    /// </summary>
    /// <param name="missing">The complaint when there are no operands at all.</param>
    /// <param name="apply">Gets the operand and its resolved path; returns why it was refused, or null.</param>
    private static async Task<int> ForEachOperandAsync(CommandContext context, IReadOnlyList<string> operands, string missing, string doing, Func<string, string, Task<string?>> apply)
    {
        if (operands.Count == 0)
        {
            return context.Fail(missing);
        }

        var status = 0;
        foreach (var operand in operands)
        {
            string? refusal;
            try
            {
                refusal = await apply(operand, context.Resolve(operand)).ConfigureAwait(false);
            }
            catch (WorkspaceException ex)
            {
                refusal = ShellFileSystem.Describe(ex);
            }

            if (refusal is not null)
            {
                status = context.Fail($"{doing} '{operand}': {refusal}");
            }
        }

        return status;
    }

    public static string ParentOf(string path) => path.LastIndexOf('/') is > 0 and var slash ? path[..slash] : "/";

    /// <summary>A size as <c>ls -h</c> and <c>du -h</c> show it: 1023, 1.5K, 12M.</summary>
    public static string HumanSize(long bytes)
    {
        if (bytes < 1024)
        {
            return bytes.ToString(CultureInfo.InvariantCulture);
        }

        var value = (double)bytes;
        var unit = 0;
        while (value >= 1024 && unit < 5)
        {
            value /= 1024;
            unit++;
        }

        var suffix = "BKMGTP"[unit];
        return value < 10
            ? (Math.Ceiling(value * 10) / 10).ToString("0.0", CultureInfo.InvariantCulture) + suffix
            : Math.Ceiling(value).ToString("0", CultureInfo.InvariantCulture) + suffix;
    }
}

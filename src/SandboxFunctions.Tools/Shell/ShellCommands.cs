using SandboxFunctions.Sandbox;
using SandboxFunctions.Tools.Shell.Commands;

namespace SandboxFunctions.Tools.Shell;

/// <summary>The commands the interpreter knows; anything else is "command not found" (status 127).</summary>
internal static class ShellCommands
{
    private static readonly Dictionary<string, Func<CommandContext, Task<int>>> Commands = new(StringComparer.Ordinal)
    {
        ["cat"] = FileCommands.CatAsync,
        ["cd"] = FileCommands.CdAsync,
        ["cp"] = FileCommands.CopyAsync,
        ["find"] = FindCommand.RunAsync,
        ["ls"] = ListCommand.RunAsync,
        ["mkdir"] = FileCommands.MkdirAsync,
        ["mv"] = FileCommands.MoveAsync,
        ["pwd"] = FileCommands.PwdAsync,
        ["rm"] = FileCommands.RmAsync,
        ["rmdir"] = FileCommands.RmdirAsync,
        ["touch"] = FileCommands.TouchAsync,
        ["tee"] = FileCommands.TeeAsync,
        ["head"] = TextCommands.HeadAsync,
        ["tail"] = TextCommands.TailAsync,
        ["wc"] = TextCommands.WcAsync,
        ["cut"] = TextCommands.CutAsync,
        ["tr"] = TextCommands.TrAsync,
        ["uniq"] = TextCommands.UniqAsync,
        ["echo"] = TextCommands.EchoAsync,
        ["basename"] = TextCommands.BasenameAsync,
        ["dirname"] = TextCommands.DirnameAsync,
        ["printf"] = PrintfCommand.RunAsync,
        ["grep"] = GrepCommand.RunAsync,
        ["sort"] = SortCommand.RunAsync,
        ["env"] = ShellBuiltins.EnvAsync,
        ["printenv"] = ShellBuiltins.PrintenvAsync,
        ["export"] = ShellBuiltins.ExportAsync,
        ["unset"] = ShellBuiltins.UnsetAsync,
        ["exit"] = ShellBuiltins.ExitAsync,
        ["true"] = static _ => Task.FromResult(0),
        [":"] = static _ => Task.FromResult(0),
        ["false"] = static _ => Task.FromResult(1),
        ["test"] = ShellBuiltins.TestAsync,
        ["["] = ShellBuiltins.TestAsync,
        ["help"] = ShellBuiltins.HelpAsync,
        ["python"] = GuestCommands.PythonAsync,
        ["python3"] = GuestCommands.PythonAsync,
        ["node"] = GuestCommands.NodeAsync,
    };

    private static readonly HashSet<string> NeedNetwork = new(StringComparer.Ordinal)
    {
        "pip", "pip3", "npm", "npx", "yarn", "pnpm", "curl", "wget", "git", "apt", "apt-get", "ssh", "scp", "sudo", "docker",
    };

    public static IEnumerable<string> Names => Commands.Keys.Order(StringComparer.Ordinal);

    public static async Task<int> RunAsync(CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!Commands.TryGetValue(context.Name, out var command))
        {
            return NotFound(context);
        }

        try
        {
            return await command(context).ConfigureAwait(false);
        }
        catch (WorkspaceException ex)
        {
            return context.Fail(ShellFileSystem.Describe(ex));
        }
    }

    private static int NotFound(CommandContext context)
    {
        var name = context.Name;
        var hint = name.Contains('/', StringComparison.Ordinal)
            ? " (files cannot be executed directly; run scripts with python FILE or node FILE)"
            : NeedNetwork.Contains(name) ? " (there is no network and nothing can be installed; use the standard library)" : string.Empty;
        context.Stderr.WriteLine($"sh: {name}: command not found{hint}");
        context.Stderr.WriteLine($"Available commands: {string.Join(", ", Names)}.");
        return 127;
    }
}

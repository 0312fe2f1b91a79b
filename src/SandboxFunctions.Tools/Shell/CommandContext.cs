using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Tools.Shell;

/// <summary>One command as it runs: its name and arguments, its input, and where its output goes.</summary>
internal sealed class CommandContext(string name, IReadOnlyList<string> arguments, ShellState shell, ReadOnlyMemory<byte> stdin, ShellOutput stdout, ShellOutput stderr)
{
    public string Name { get; } = name;

    public IReadOnlyList<string> Arguments { get; } = arguments;

    public ShellState Shell { get; } = shell;

    public ReadOnlyMemory<byte> Stdin { get; } = stdin;

    public ShellOutput Stdout { get; } = stdout;

    public ShellOutput Stderr { get; } = stderr;

    public ShellRun Run => Shell.Run;

    public ShellFileSystem Files => Shell.Run.Files;

    public CancellationToken CancellationToken => Shell.Run.CancellationToken;

    /// <summary>
    /// For loops over input the caller sized (up to what a pipe may carry): every few thousand steps, ends the
    /// command when the command line is out of time or its caller went away.
    /// </summary>
    public void CheckStep(long step)
    {
        if ((step & 4095) == 0)
        {
            CancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>The lines of an input one at a time, checking every few thousand of them that the command line may go on.</summary>
    public IEnumerable<string> LinesOf(ReadOnlyMemory<byte> data)
    {
        var step = 0L;
        foreach (var line in TextLines.Enumerate(data))
        {
            CheckStep(++step);
            yield return line;
        }
    }

    /// <summary>Reports a problem as <c>name: message</c> on stderr and returns the status to exit with.</summary>
    public int Fail(string message, int status = 1)
    {
        Stderr.WriteLine($"{Name}: {message}");
        return status;
    }

    /// <summary>Reports a refused file operation on <paramref name="operand"/> the way coreutils would.</summary>
    public int Fail(string operand, WorkspaceException exception, int status = 1) =>
        Fail($"{operand}: {ShellFileSystem.Describe(exception)}", status);

    public string Resolve(string path) => ShellFileSystem.Resolve(Shell.Cwd, path);

    public async Task<ShellEntry?> StatAsync(string path)
    {
        try
        {
            return await Files.StatAsync(Resolve(path), CancellationToken).ConfigureAwait(false);
        }
        catch (WorkspaceException ex) when (ex.Error is WorkspaceError.NotFound)
        {
            return null;
        }
    }

    /// <summary>An input operand's bytes (<c>-</c> is stdin); null, after reporting why, when it cannot be read.</summary>
    public async Task<ReadOnlyMemory<byte>?> ReadInputAsync(string operand)
    {
        if (operand == "-")
        {
            return Stdin;
        }

        if (operand == ShellFileSystem.DevNull)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        try
        {
            return await Files.ReadAsync(Resolve(operand), CancellationToken).ConfigureAwait(false);
        }
        catch (WorkspaceException ex)
        {
            Fail(operand, ex);
            return null;
        }
    }

    /// <summary>The inputs of a filter: its file operands, or stdin (<c>-</c>) when there are none.</summary>
    public static IReadOnlyList<string> InputsOf(IReadOnlyList<string> operands) => operands.Count == 0 ? ["-"] : operands;
}

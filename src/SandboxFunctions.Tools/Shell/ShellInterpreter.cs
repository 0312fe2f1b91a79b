using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Tools.Shell;

/// <summary>
/// Runs a parsed command line against one sandbox, entirely in this process: builtins work on the session's
/// workspace, and python and node run in the session's own interpreter. Pipeline stages run one after another,
/// each reading what the previous one wrote.
/// </summary>
internal sealed class ShellInterpreter(SandboxInstance sandbox, ShellLimits limits, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Receives the command line's own output (not what goes into pipes or files) as it is written.</summary>
    public Action<OutputChunk>? OnOutput { get; init; }

    public async Task<ShellOutcome> RunAsync(ShellScript script, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        var started = Stopwatch.GetTimestamp();
        using var run = new ShellRun(sandbox, limits, _time, cancellationToken);
        var budget = new OutputBudget(limits.OutputHardLimitBytes);
        var stdout = new CapturedOutput(limits.StdoutBytes, budget, OutputKind.Stdout, OnOutput);
        var stderr = new CapturedOutput(limits.StderrBytes, budget, OutputKind.Stderr, OnOutput);
        var state = new ShellState(run);

        var status = 0;
        ShellStopException? stop = null;
        try
        {
            foreach (var list in script.Lists)
            {
                status = await RunAndOrAsync(list, state, stdout, stderr).ConfigureAwait(false);
            }
        }
        catch (ShellExitException exit)
        {
            status = exit.Status;
        }
        catch (ShellStopException ex)
        {
            stop = ex;
        }
        catch (WorkspaceException ex) when (ex.Error == WorkspaceError.LimitExceeded)
        {
            stop = new ShellStopException(ShellStopReason.WorkspaceLimit, ex.Message);
        }
        catch (Exception ex) when (ex is OperationCanceledException or RegexMatchTimeoutException && !cancellationToken.IsCancellationRequested)
        {
            stop = ShellStopException.TimedOut(limits.Timeout);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            stop = new ShellStopException(ShellStopReason.Cancelled, "The command line was cancelled.");
        }

        if (stop is not null)
        {
            status = stop.Reason switch
            {
                ShellStopReason.Timeout => 124,
                ShellStopReason.Cancelled => 130,
                ShellStopReason.MemoryLimit => 137,
                _ => 125,
            };
        }

        return new ShellOutcome(
            status,
            new ShellText(stdout.GetText(), stdout.Truncated, stdout.TotalBytes),
            new ShellText(stderr.GetText(), stderr.Truncated, stderr.TotalBytes),
            Stopwatch.GetElapsedTime(started),
            run.Executions,
            run.Files.Changed,
            stop?.Reason,
            stop?.Message,
            stop?.StateRolledBack ?? false);
    }

    private static async Task<int> RunAndOrAsync(AndOrList list, ShellState state, ShellOutput stdout, ShellOutput stderr)
    {
        var status = await RunPipelineAsync(list.First, state, stdout, stderr).ConfigureAwait(false);
        foreach (var next in list.Rest)
        {
            if ((next.Operator == ChainOperator.And) == (status == 0))
            {
                status = await RunPipelineAsync(next.Pipeline, state, stdout, stderr).ConfigureAwait(false);
            }
        }

        return status;
    }

    private static async Task<int> RunPipelineAsync(Pipeline pipeline, ShellState state, ShellOutput stdout, ShellOutput stderr)
    {
        int status;
        if (pipeline.Commands.Count == 1)
        {
            status = await RunCommandAsync(pipeline.Commands[0], state, ReadOnlyMemory<byte>.Empty, stdout, stderr).ConfigureAwait(false);
        }
        else
        {
            status = 0;
            var input = ReadOnlyMemory<byte>.Empty;
            for (var i = 0; i < pipeline.Commands.Count; i++)
            {
                var last = i == pipeline.Commands.Count - 1;
                var output = last ? stdout : new BufferedOutput(state.Run.Limits.PipeBytes);
                try
                {
                    status = await RunCommandAsync(pipeline.Commands[i], state.Clone(), input, output, stderr).ConfigureAwait(false);
                }
                catch (ShellExitException exit)
                {
                    // A stage of a pipeline runs in its own subshell, so `exit` ends only that stage.
                    status = exit.Status;
                }

                input = output is BufferedOutput buffered ? buffered.Data : ReadOnlyMemory<byte>.Empty;
            }
        }

        if (pipeline.Negated)
        {
            status = status == 0 ? 1 : 0;
        }

        state.LastStatus = status;
        return status;
    }

    private static async Task<int> RunCommandAsync(SimpleCommand command, ShellState state, ReadOnlyMemory<byte> stdin, ShellOutput stdout, ShellOutput stderr)
    {
        state.Run.ThrowIfOutOfTime();
        var expander = new WordExpander(state);
        var arguments = await expander.ExpandAsync(command.Words).ConfigureAwait(false);
        var assignments = command.Assignments.Select(a => (a.Name, Value: expander.ExpandText(a.Value))).ToList();

        var io = new CommandStreams(stdin, stdout, stderr);
        var status = await RedirectAsync(command.Redirections, expander, state, io).ConfigureAwait(false);
        if (status != 0)
        {
            state.LastStatus = status;
            return status;
        }

        if (arguments.Count == 0)
        {
            foreach (var (name, value) in assignments)
            {
                state.Set(name, value);
            }

            status = 0;
        }
        else if (arguments.Sum(a => (long)a.Length) > ShellLimits.MaxArgumentBytes)
        {
            io.Stderr.WriteLine($"sh: {arguments[0]}: Argument list too long (more than {ShellLimits.MaxArgumentBytes / 1024} KiB of arguments)");
            status = 126;
        }
        else
        {
            var commandState = state;
            if (assignments.Count > 0)
            {
                // NAME=value before a command sets it for that command only, and exports it to it.
                commandState = state.Clone();
                foreach (var (name, value) in assignments)
                {
                    commandState.Set(name, value, export: true);
                }
            }

            var context = new CommandContext(arguments[0], arguments[1..], commandState, io.Stdin, io.Stdout, io.Stderr);
            status = await ShellCommands.RunAsync(context).ConfigureAwait(false);
        }

        foreach (var (path, output) in io.Files)
        {
            try
            {
                await state.Run.Files.AppendAsync(path, output.Data, state.Run.CancellationToken).ConfigureAwait(false);
            }
            catch (WorkspaceException ex) when (ex.Error != WorkspaceError.LimitExceeded)
            {
                stderr.WriteLine($"sh: {path}: {ShellFileSystem.Describe(ex)}");
                status = 1;
            }
        }

        state.LastStatus = status;
        return status;
    }

    /// <summary>Applies redirections left to right; a file that cannot be opened fails the command with status 1.</summary>
    private static async Task<int> RedirectAsync(IReadOnlyList<Redirection> redirections, WordExpander expander, ShellState state, CommandStreams io)
    {
        var files = state.Run.Files;
        var cancellationToken = state.Run.CancellationToken;
        foreach (var redirection in redirections)
        {
            if (redirection.Operator == RedirectionOperator.Duplicate)
            {
                io.Set(redirection.Fd, io.Get(redirection.SourceFd));
                continue;
            }

            var target = expander.ExpandText(redirection.Target!);
            if (redirection.Operator == RedirectionOperator.HereString)
            {
                io.Stdin = Encoding.UTF8.GetBytes(target + "\n");
                continue;
            }

            try
            {
                if (redirection.Operator == RedirectionOperator.Input)
                {
                    io.Stdin = target == ShellFileSystem.DevNull ? ReadOnlyMemory<byte>.Empty : await ReadLimitedAsync(files, ShellFileSystem.Resolve(state.Cwd, target), state.Run.Limits.PipeBytes, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var output = target switch
                {
                    ShellFileSystem.DevNull => DiscardedOutput.Instance,
                    "/dev/stdout" => io.Stdout,
                    "/dev/stderr" => io.Stderr,
                    _ => await OpenFileAsync(files, ShellFileSystem.Resolve(state.Cwd, target), redirection.Operator is RedirectionOperator.Append or RedirectionOperator.AppendOutputAndErrors, state.Run.Limits.PipeBytes, io, cancellationToken).ConfigureAwait(false),
                };

                if (redirection.Operator is RedirectionOperator.OutputAndErrors or RedirectionOperator.AppendOutputAndErrors)
                {
                    io.Stdout = output;
                    io.Stderr = output;
                }
                else
                {
                    io.Set(redirection.Fd, output);
                }
            }
            catch (WorkspaceException ex)
            {
                io.Stderr.WriteLine($"sh: {target}: {ShellFileSystem.Describe(ex)}");
                return 1;
            }
        }

        return 0;
    }

    private static async Task<ReadOnlyMemory<byte>> ReadLimitedAsync(ShellFileSystem files, string path, long limit, CancellationToken cancellationToken)
    {
        var data = await files.ReadAsync(path, cancellationToken).ConfigureAwait(false);
        return data.Length > limit
            ? throw new ShellStopException(ShellStopReason.PipelineLimit, $"'{path}' is larger than the {limit / (1024 * 1024)} MiB a pipe may carry.")
            : data;
    }

    /// <summary>Opens a file for output now (so that it exists, or is emptied, even if the command fails) and collects what goes to it.</summary>
    private static async Task<ShellOutput> OpenFileAsync(ShellFileSystem files, string path, bool append, long limit, CommandStreams io, CancellationToken cancellationToken)
    {
        var entry = await files.StatAsync(path, cancellationToken).ConfigureAwait(false);
        if (entry is { IsDirectory: true })
        {
            throw new WorkspaceException(WorkspaceError.IsDirectory, $"'{path}' is a directory.");
        }

        if (await files.StatAsync(path[..path.LastIndexOf('/')], cancellationToken).ConfigureAwait(false) is not { IsDirectory: true })
        {
            throw new WorkspaceException(WorkspaceError.NotFound, $"The folder of '{path}' does not exist.");
        }

        if (!append || entry is null)
        {
            await files.WriteAsync(path, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }

        var existing = io.Files.FirstOrDefault(f => f.Path == path).Output;
        if (existing is not null)
        {
            return existing;
        }

        var output = new BufferedOutput(limit);
        io.Files.Add((path, output));
        return output;
    }

    /// <summary>A command's descriptors while its redirections are applied.</summary>
    private sealed class CommandStreams(ReadOnlyMemory<byte> stdin, ShellOutput stdout, ShellOutput stderr)
    {
        public ReadOnlyMemory<byte> Stdin { get; set; } = stdin;

        public ShellOutput Stdout { get; set; } = stdout;

        public ShellOutput Stderr { get; set; } = stderr;

        /// <summary>Files opened for output, written when the command ends.</summary>
        public List<(string Path, BufferedOutput Output)> Files { get; } = [];

        public ShellOutput Get(int fd) => fd == 2 ? Stderr : Stdout;

        public void Set(int fd, ShellOutput output)
        {
            if (fd == 2)
            {
                Stderr = output;
            }
            else
            {
                Stdout = output;
            }
        }
    }
}

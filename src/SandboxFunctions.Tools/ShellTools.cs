using System.ComponentModel;
using System.Text;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Tools.Cancellation;
using SandboxFunctions.Tools.Diagnostics;
using SandboxFunctions.Tools.History;
using SandboxFunctions.Tools.Shell;

namespace SandboxFunctions.Tools;

[McpServerToolType]
public sealed class ShellTools(SandboxSessions sessions, RunningExecutions executions, SessionHistory history, ToolDiagnostics diagnostics)
{
    [McpServerTool(Name = "execute_command", Title = "Execute shell command", Destructive = true, Idempotent = false, OpenWorld = false, UseStructuredContent = true, OutputSchemaType = typeof(CommandResultInfo))]
    [Description("""
        Runs a POSIX-shell-like command line over a session's /workspace, e.g. `ls *.csv`, `cat data.csv | grep x | wc -l`, `python report.py --top 5 > out.txt`.
        The shell is built into the server: there are no host processes and no network. Its commands are builtins working on the session's files:
        ls (-l -a -A -R -1 -d -h -r -t -S -F), cat (-n), head/tail (-n N, -c N, tail -n +N), wc (-l -w -c -m), grep (-i -v -n -c -l -L -o -q -w -x -E -F -P -r, -A/-B/-C, --include), sort (-n -g -h -r -u -f -s -k N[,M] -t SEP -o), uniq (-c -d -u -i), cut (-d -f -c), tr (sets, ranges, [:classes:], -d -s -c), echo (-n -e), printf, mkdir (-p), rm (-r -f), rmdir, cp (-r), mv, touch, tee (-a), find (PATH -name -iname -path -type f|d -maxdepth -mindepth -empty), basename, dirname, pwd, cd, env, printenv, export, unset, test/[, true, false, exit, help.
        `python FILE ARGS`, `python -c CODE ARGS`, `python -m MODULE` (also python3) and `node FILE ARGS`, `node -e CODE ARGS` run in the session's own interpreter (Python sessions run python, JavaScript sessions run node) with argv, piped stdin and exit status; each script gets a fresh main namespace, so the session's variables are untouched.
        Syntax: pipes |, redirections > >> < 2> 2>&1 &> <<<, ; && ||, quotes and backslash escapes, variables (NAME=value, export, $NAME, ${NAME:-default}, $?), ~ and globs (* ? [...]). Not supported: $(...) and backquotes, arithmetic, subshells, if/for/while/case, functions, here-documents, background jobs; use python -c or node -e for logic.
        A non-zero exit_code is a normal result (stderr says why); `error` is set only when the command line could not be parsed or hit a limit (time, output, memory).
        Working directory starts at /workspace; variables and cd last for one call, files and interpreter state persist in the session.
        With a progressToken, the command line's own output arrives as progress notifications while it runs (output into pipes and files arrives when it comes out of them).
        """)]
    public async Task<CallToolResult> ExecuteCommandAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The session whose workspace and interpreter the command line uses (create one with create_session or execute_code).")] string session_id,
        [Description("The command line, e.g. \"grep -c error logs/*.txt\" or \"python analyze.py data.csv | sort -k2 -n | head -5\".")] string command,
        [Description("Seconds the whole command line may run; python and node steps share it. Defaults to the flavor's default; list_runtimes shows the maximum.")] double? timeout_seconds = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(command);
        if (command.Length > ShellParser.MaxLength)
        {
            throw ToolErrors.CommandTooLong(command.Length, ShellParser.MaxLength);
        }

        ShellScript script;
        try
        {
            script = ShellParser.Parse(command);
        }
        catch (ShellSyntaxException ex)
        {
            var refused = new CommandResultInfo
            {
                SessionId = session_id,
                Command = command,
                Stdout = string.Empty,
                Stderr = $"sh: {ex.Message}\n",
                ExitCode = 2,
                StdoutTruncated = false,
                StderrTruncated = false,
                DurationMs = 0,
                FilesChanged = [],
                Error = ToolErrors.CommandSyntax(ex.Message, ex.Unsupported).Error,
            };
            return ToolResults.Failure(refused, Summarize(refused, language: null));
        }

        var owner = Callers.GetOwner(context.User);
        var timeout = TimeSpan.Zero;
        var recording = Task.CompletedTask;

        await using var stream = OutputStreamer.For(context);
        var baseline = executions.ReadBaselineAsync(owner, session_id, context.JsonRpcRequest?.Id.ToString(), cancellationToken);
        var outcome = await sessions.UseAsync(owner, session_id, async (current, sandbox) =>
        {
            var changes = await WorkspaceChanges.StartAsync(sandbox).ConfigureAwait(false);
            var shell = new ShellInterpreter(sandbox, ShellLimits.For(sandbox.Limits, timeout))
            {
                OnOutput = stream.OnOutput,
            };
            ShellOutcome result;
            using (var activity = diagnostics.StartExecution(ExecutionKind.Command, current.Id, current.Language, current.Flavor, command))
            await using (var running = executions.Start(await baseline.ConfigureAwait(false), cancellationToken))
            {
                result = await shell.RunAsync(script, running.Token).ConfigureAwait(false);
                ToolDiagnostics.RecordExecution(activity, ExecutionKind.Command, current.Language, current.Flavor, StatusOf(result), result.Duration, sandbox.MemoryBytes);
            }

            recording = Task.Run(() => history.RecordAsync(owner, current.Id, ExecutionKind.Command, current.Language, StatusOf(result), result.Duration, command, result.Stdout.Text + result.Stderr.Text), CancellationToken.None);
            if (result.StopReason == ShellStopReason.Cancelled)
            {
                // As with execute_code, a cancelled call leaves the session at the state its last completed call saved.
                return new SessionStep<(ShellOutcome, IReadOnlyList<WorkspaceEntry>)>((result, []), Commit: false, Discard: true);
            }

            // A command line that only read files leaves the session as it was, so there is nothing to save.
            var changedState = result.WorkspaceChanged || result.Executions > 0;
            var changed = changedState ? await changes.ListChangedAsync().ConfigureAwait(false) : [];

            return new SessionStep<(ShellOutcome, IReadOnlyList<WorkspaceEntry>)>((result, changed), Commit: changedState, Executions: result.Executions);
        }, cancellationToken, admit: current => timeout = sessions.TimeoutFor(current, timeout_seconds)).ConfigureAwait(false);

        var (shellOutcome, changedFiles) = outcome.Value;
        await recording.ConfigureAwait(false);
        var info = new CommandResultInfo
        {
            SessionId = outcome.Record.Id,
            Command = command,
            Stdout = shellOutcome.Stdout.Text,
            Stderr = shellOutcome.Stderr.Text,
            ExitCode = shellOutcome.ExitCode,
            StdoutTruncated = shellOutcome.Stdout.Truncated,
            StderrTruncated = shellOutcome.Stderr.Truncated,
            DurationMs = (long)shellOutcome.Duration.TotalMilliseconds,
            FilesChanged = [.. changedFiles.Select(f => new WorkspaceFileInfo(f.Path, f.Size, WorkspaceResources.UriOf(outcome.Record.Id, f.Path)))],
            Error = outcome.SaveError ?? Describe(shellOutcome, outcome.Record.Flavor, sessions.GetFlavor(outcome.Record.Flavor).MaxTimeoutSeconds),
        };

        var links = WorkspaceResources.LinksTo(outcome.Record.Id, changedFiles);
        var summary = Summarize(info, outcome.Record.Language, shellOutcome);
        return info.Error is null ? ToolResults.Success(info, summary, links) : ToolResults.Failure(info, summary, links);
    }

    /// <summary>How the command line ended, for history and telemetry: ok, exit_N, or what stopped it.</summary>
    private static string StatusOf(ShellOutcome outcome) => outcome.StopReason switch
    {
        null => outcome.ExitCode == 0 ? "ok" : $"exit_{outcome.ExitCode}",
        ShellStopReason.Timeout => "timeout",
        ShellStopReason.Cancelled => "cancelled",
        ShellStopReason.MemoryLimit => "memory_limit",
        ShellStopReason.OutputLimit or ShellStopReason.PipelineLimit or ShellStopReason.WorkspaceLimit => "output_limit",
        _ => "crashed",
    };

    private static ToolError? Describe(ShellOutcome outcome, string flavor, int maxTimeoutSeconds)
    {
        if (outcome.StopReason is not { } reason)
        {
            return null;
        }

        var message = outcome.StopMessage ?? "The command line was stopped.";
        var failure = reason switch
        {
            ShellStopReason.Timeout => ToolErrors.CommandTimedOut(message, maxTimeoutSeconds),
            ShellStopReason.Cancelled => ToolErrors.CommandCancelled(message),
            ShellStopReason.OutputLimit => ToolErrors.CommandOutputLimit(message),
            ShellStopReason.PipelineLimit => ToolErrors.PipelineLimit(message),
            ShellStopReason.WorkspaceLimit => ToolErrors.WorkspaceFull(message),
            ShellStopReason.MemoryLimit => ToolErrors.CommandMemoryLimit(message, flavor),
            _ => ToolErrors.CommandCrashed(message),
        };
        return failure.Error;
    }

    private static string Summarize(CommandResultInfo info, string? language, ShellOutcome? outcome = null)
    {
        var text = new StringBuilder(language is null
            ? $"exit code {info.ExitCode} (the command line was not run)"
            : $"exit code {info.ExitCode} ({info.DurationMs} ms, {language} session {info.SessionId})");
        if (info.Stdout?.Length > 0)
        {
            text.Append($"\nstdout:\n{info.Stdout.TrimEnd('\n')}");
            if (info.StdoutTruncated == true)
            {
                text.Append($"\n[stdout truncated: {outcome?.Stdout.TotalBytes} bytes in all; narrow it with head, tail or grep, or redirect it to a file]");
            }
        }

        if (info.Stderr?.Length > 0)
        {
            text.Append($"\nstderr:\n{info.Stderr.TrimEnd('\n')}");
            if (info.StderrTruncated == true)
            {
                text.Append($"\n[stderr truncated: {outcome?.Stderr.TotalBytes} bytes in all]");
            }
        }

        if (info.Error is { } error)
        {
            text.Append($"\n{ToolResults.Describe(error)}");
        }

        if (info.FilesChanged is { Count: > 0 } files)
        {
            text.Append($"\nfiles written: {string.Join(", ", files.Select(f => f.Path))}");
        }

        return text.ToString();
    }
}

public sealed record CommandResultInfo
{
    [Description("The session the command line ran in.")]
    public string? SessionId { get; init; }

    [Description("The command line as given.")]
    public string? Command { get; init; }

    [Description("What the command line wrote to standard output (possibly truncated).")]
    public string? Stdout { get; init; }

    [Description("What the command line wrote to standard error (possibly truncated): error messages of the commands.")]
    public string? Stderr { get; init; }

    [Description("The exit status of the last command that ran, as in a shell: 0 for success, 1 for failure (grep: nothing matched), 2 for misuse, 127 for an unknown command; 124 when the time ran out and 125 when another limit stopped the command line.")]
    public int? ExitCode { get; init; }

    [Description("True when stdout was longer than the flavor's output limit and was cut.")]
    public bool? StdoutTruncated { get; init; }

    [Description("True when stderr was longer than the flavor's output limit and was cut.")]
    public bool? StderrTruncated { get; init; }

    [Description("Wall-clock duration of the command line in milliseconds.")]
    public long? DurationMs { get; init; }

    [Description("Files the command line created or changed in /workspace, with resource URIs.")]
    public IReadOnlyList<WorkspaceFileInfo>? FilesChanged { get; init; }

    [Description("Set when the command line could not be parsed (COMMAND_SYNTAX_ERROR) or stopped at a limit (TIMEOUT, OUTPUT_LIMIT, PIPELINE_LIMIT, MEMORY_LIMIT, ...); a non-zero exit_code alone is not an error.")]
    public ToolError? Error { get; init; }
}

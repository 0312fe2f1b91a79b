using System.ComponentModel;
using System.Text;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sessions;
using SandboxFunctions.Tools.Cancellation;
using SandboxFunctions.Tools.Diagnostics;
using SandboxFunctions.Tools.History;

namespace SandboxFunctions.Tools;

[McpServerToolType]
public sealed class ExecutionTools(SandboxSessions sessions, RunningExecutions executions, SessionHistory history, ToolDiagnostics diagnostics)
{
    [McpServerTool(Name = "execute_code", Title = "Execute code", Destructive = false, Idempotent = false, OpenWorld = false, UseStructuredContent = true, OutputSchemaType = typeof(ExecutionResultInfo))]
    [Description("""
        Runs Python or JavaScript in a persistent sandbox session and returns stdout, stderr and the value of the last expression (like a notebook cell).
        State persists between calls in the same session: variables, functions, classes, imports and files in /workspace (the working directory).
        Omit session_id to start a new session; its id is returned as session_id, so pass it to later calls.
        Python is CPython 3.11 with the standard library (incl. sqlite3, json, csv, re, asyncio; top-level await works) and popular pure-Python packages (list_runtimes lists them; install_package adds more). JavaScript is QuickJS (ES2023) with console, timers, fetch-free Node-style fs/path/process and ES modules.
        There is no network and no host access. For work longer than the call's maximum timeout, use submit_job. With `event`, the code must define handler(event, context) (Python) or a handler function/export (JavaScript), which is called and its JSON result returned.
        """)]
    public async Task<CallToolResult> ExecuteCodeAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The source code to run. The value of the final expression is returned as `result`.")] string code,
        [Description("'python' or 'javascript'. Defaults to the session's language, or 'python' for a new session.")] string? language = null,
        [Description("The session to run in. Omit to create a new session (its id is returned).")] string? session_id = null,
        [Description("Seconds the code may run before it is stopped with a TimeoutError. Defaults to the flavor's default; list_runtimes shows the maximum.")] double? timeout_seconds = null,
        [Description("Run in handler mode: this JSON value is passed as `event` to the handler the code defines, and the handler's return value becomes the result.")] JsonElement? @event = null,
        [Description("Resources for a new session: 'small' (default), 'medium' or 'large'. Ignored for an existing session.")] string? flavor = null,
        CancellationToken cancellationToken = default)
    {
        var owner = Callers.GetOwner(context.User);
        var sessionId = session_id ?? (await sessions.CreateAsync(owner, language ?? "python", null, flavor, null, cancellationToken).ConfigureAwait(false)).Id;
        var timeout = TimeSpan.Zero;
        var recording = Task.CompletedTask;

        await using var stream = OutputStreamer.For(context);
        var baseline = executions.ReadBaselineAsync(owner, sessionId, context.JsonRpcRequest?.Id.ToString(), cancellationToken);
        var outcome = await sessions.UseAsync(owner, sessionId, async (current, sandbox) =>
        {
            var changes = await WorkspaceChanges.StartAsync(sandbox).ConfigureAwait(false);
            var request = new ExecutionRequest(code)
            {
                Timeout = timeout,
                Event = @event,
                Name = $"<cell {current.ExecutionCount + 1}>",
                OnOutput = stream.OnOutput,
            };

            ExecutionResult result;
            using (var activity = diagnostics.StartExecution(ExecutionKind.Execution, current.Id, current.Language, current.Flavor, code))
            await using (var running = executions.Start(await baseline.ConfigureAwait(false), cancellationToken))
            {
                try
                {
                    result = await sandbox.ExecuteAsync(request, running.Token).ConfigureAwait(false);
                }
                catch (SandboxException ex) when (ex.Kind == SandboxErrorKind.CodeTooLarge)
                {
                    throw ToolErrors.CodeTooLarge(ex.Message);
                }

                ToolDiagnostics.RecordExecution(activity, ExecutionKind.Execution, current.Language, current.Flavor, ExecutionReports.StatusOf(result.Status), result.Duration, result.MemoryBytes);
            }

            // History goes to storage while the state is saved; neither needs the other.
            recording = Task.Run(() => history.RecordAsync(owner, current.Id, ExecutionKind.Execution, current.Language, ExecutionReports.StatusOf(result.Status), result.Duration, code, result.Stdout + result.Stderr), CancellationToken.None);
            if (result.Status == ExecutionStatus.Cancelled)
            {
                // A cancelled call leaves no trace: the session keeps the state its last completed call saved.
                return new SessionStep<(ExecutionResult, IReadOnlyList<WorkspaceEntry>, ExecutionReports.KeptOutput)>((result, [], new ExecutionReports.KeptOutput(null, null)), Commit: false, Discard: true);
            }

            var kept = await ExecutionReports.KeepFullOutputAsync(sandbox, result, current.ExecutionCount + 1).ConfigureAwait(false);
            var changed = await changes.ListChangedAsync().ConfigureAwait(false);
            return new SessionStep<(ExecutionResult, IReadOnlyList<WorkspaceEntry>, ExecutionReports.KeptOutput)>((result, changed, kept), Commit: true, Executions: 1);
        }, cancellationToken, admit: current =>
        {
            if (language is not null && !string.Equals(language, current.Language, StringComparison.OrdinalIgnoreCase))
            {
                throw ToolErrors.LanguageMismatch(current.Id, current.Language, language);
            }

            timeout = sessions.TimeoutFor(current, timeout_seconds);
        }).ConfigureAwait(false);

        var (execution, changedFiles, keptOutput) = outcome.Value;
        var info = ExecutionReports.Describe(outcome.Record, execution, changedFiles, keptOutput, outcome.SaveError);
        await recording.ConfigureAwait(false);
        var links = WorkspaceResources.LinksTo(outcome.Record.Id, changedFiles);
        var summary = ExecutionReports.Summarize(info);
        return info.Error is null ? ToolResults.Success(info, summary, links) : ToolResults.Failure(info, summary, links);
    }
}

public sealed record ExecutionResultInfo
{
    [Description("The session the code ran in; pass it as session_id to continue.")]
    public string? SessionId { get; init; }

    [Description("python or javascript.")]
    public string? Language { get; init; }

    [Description("ok, error (the code raised), timeout, memory_limit, output_limit, cancelled or crashed.")]
    public string? Status { get; init; }

    [Description("What the code printed to standard output (possibly truncated).")]
    public string? Stdout { get; init; }

    [Description("What the code printed to standard error (possibly truncated).")]
    public string? Stderr { get; init; }

    [Description("True when stdout was longer than the flavor's output limit and was cut.")]
    public bool? StdoutTruncated { get; init; }

    [Description("True when stderr was longer than the flavor's output limit and was cut.")]
    public bool? StderrTruncated { get; init; }

    [Description("Total bytes written to stdout.")]
    public long? StdoutBytes { get; init; }

    [Description("Total bytes written to stderr.")]
    public long? StderrBytes { get; init; }

    [Description("When stdout was truncated: the workspace file holding all of it.")]
    public string? FullStdoutPath { get; init; }

    [Description("When stderr was truncated: the workspace file holding all of it.")]
    public string? FullStderrPath { get; init; }

    [Description("The value of the last expression (or the handler's return value), if any.")]
    public ResultValue? Result { get; init; }

    [Description("Set when the call failed: code, message, suggestions, and for CODE_ERROR the exception type and traceback.")]
    public ToolError? Error { get; init; }

    [Description("Wall-clock duration of the execution in milliseconds.")]
    public long? DurationMs { get; init; }

    [Description("Interpreter memory after the execution, in bytes.")]
    public long? MemoryBytes { get; init; }

    [Description("True when the execution had to be stopped hard and the session went back to its last saved state.")]
    public bool? StateRolledBack { get; init; }

    [Description("False when the execution ran but its resulting state could not be saved; the session kept its previous state.")]
    public bool? StateSaved { get; init; }

    [Description("A remark on how the call ran, e.g. a file operation the sandbox refused.")]
    public string? Note { get; init; }

    [Description("Files the execution created or changed in /workspace, with resource URIs.")]
    public IReadOnlyList<WorkspaceFileInfo>? FilesChanged { get; init; }
}

public sealed record ResultValue(
    [property: Description("The value as the language prints it (repr / util.inspect).")] string Repr,
    [property: Description("The value as JSON, when it can be represented as JSON.")] JsonElement? Json,
    [property: Description("The value's type name.")] string Type);

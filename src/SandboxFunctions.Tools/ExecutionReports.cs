using System.Text;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sessions;

namespace SandboxFunctions.Tools;

/// <summary>How an execution is reported, the same for interactive calls and background jobs.</summary>
internal static class ExecutionReports
{
    private const string OutputFolder = ".outputs";

    public static async Task<KeptOutput> KeepFullOutputAsync(SandboxInstance sandbox, ExecutionResult result, long execution)
    {
        async Task<string?> KeepAsync(string? text, string stream)
        {
            if (text is null)
            {
                return null;
            }

            var path = $"{SandboxWorkspace.Root}/{OutputFolder}/execution-{execution}.{stream}.txt";
            try
            {
                await sandbox.Workspace.WriteAsync(path, Encoding.UTF8.GetBytes(text)).ConfigureAwait(false);
                return path;
            }
            catch (WorkspaceException)
            {
                // A full workspace keeps the truncated text only; the result says so.
                return null;
            }
        }

        return new KeptOutput(await KeepAsync(result.FullStdout, "stdout").ConfigureAwait(false), await KeepAsync(result.FullStderr, "stderr").ConfigureAwait(false));
    }

    /// <summary>The status as results and telemetry spell it.</summary>
    public static string StatusOf(ExecutionStatus status) => status switch
    {
        ExecutionStatus.Ok => "ok",
        ExecutionStatus.Error => "error",
        ExecutionStatus.Timeout => "timeout",
        ExecutionStatus.MemoryLimit => "memory_limit",
        ExecutionStatus.OutputLimit => "output_limit",
        ExecutionStatus.Cancelled => "cancelled",
        _ => "crashed",
    };

    public static ExecutionResultInfo Describe(SessionRecord record, ExecutionResult result, IReadOnlyList<WorkspaceEntry> changed, KeptOutput kept, ToolError? saveError)
    {
        var status = StatusOf(result.Status);
        var flavor = record.Flavor;
        ToolError? error = result.Status switch
        {
            ExecutionStatus.Ok => null,
            ExecutionStatus.Error => new ToolError("CODE_ERROR", $"The code raised {result.Error?.Type}: {result.Error?.Message}", [
                "Fix the code and run it again; what ran before the error (variables, files) is kept in the session."])
            { Type = result.Error?.Type, Traceback = result.Error?.Traceback },
            ExecutionStatus.Timeout => new ToolError("TIMEOUT", result.Message ?? "The code ran out of time.", [
                "Make the code do less per call (smaller input, fewer iterations), or pass a longer timeout_seconds within the maximum list_runtimes shows.",
                "Use a larger flavor for a longer maximum timeout."])
            { Type = result.Error?.Type, Traceback = result.Error?.Traceback },
            ExecutionStatus.MemoryLimit => new ToolError("MEMORY_LIMIT", result.Message ?? "The code ran out of memory.", [
                "Process the data in smaller chunks, or free large objects you no longer need.",
                $"Create a session with a larger flavor than '{flavor}' for more memory."])
            { Type = result.Error?.Type, Traceback = result.Error?.Traceback },
            ExecutionStatus.OutputLimit => new ToolError("OUTPUT_LIMIT", result.Message ?? "The code wrote too much output.", [
                "Write large results to a file in /workspace and print a summary instead."]),
            ExecutionStatus.Cancelled => new ToolError("CANCELLED", "The execution was cancelled; the session keeps the state its last completed call saved.", [
                "Run it again when needed; for work longer than one call, use submit_job."]),
            _ => new ToolError("INTERPRETER_CRASHED", result.Message ?? "The interpreter stopped abnormally.", [
                "The session went back to its last saved state; change the code (e.g. less recursion) and run it again."]),
        };

        return new ExecutionResultInfo
        {
            SessionId = record.Id,
            Language = record.Language,
            Status = status,
            Stdout = result.Stdout,
            Stderr = result.Stderr,
            StdoutTruncated = result.StdoutTruncated,
            StderrTruncated = result.StderrTruncated,
            StdoutBytes = result.StdoutBytes,
            StderrBytes = result.StderrBytes,
            FullStdoutPath = kept.Stdout,
            FullStderrPath = kept.Stderr,
            Result = result.Result is { } value ? new ResultValue(value.Repr, value.Json, value.Type) : null,
            Error = saveError ?? error,
            DurationMs = (long)result.Duration.TotalMilliseconds,
            MemoryBytes = result.MemoryBytes,
            StateRolledBack = result.StateRolledBack,
            StateSaved = saveError is null && result.Status != ExecutionStatus.Cancelled,
            Note = error is null ? result.Message : null,
            FilesChanged = [.. changed.Select(f => new WorkspaceFileInfo(f.Path, f.Size, WorkspaceResources.UriOf(record.Id, f.Path)))],
        };
    }

    public static string Summarize(ExecutionResultInfo info)
    {
        var text = new StringBuilder($"status: {info.Status} ({info.DurationMs} ms, {info.Language} session {info.SessionId})");
        if (info.Result is { } value)
        {
            text.Append($"\nresult ({value.Type}): {value.Repr}");
        }

        if (info.Stdout?.Length > 0)
        {
            text.Append($"\nstdout:\n{info.Stdout}");
            AppendTruncation(text, info.StdoutTruncated, info.StdoutBytes, info.FullStdoutPath);
        }

        if (info.Stderr?.Length > 0)
        {
            text.Append($"\nstderr:\n{info.Stderr}");
            AppendTruncation(text, info.StderrTruncated, info.StderrBytes, info.FullStderrPath);
        }

        if (info.Error is { } error)
        {
            text.Append($"\n{ToolResults.Describe(error)}");
            if (error.Traceback is { Length: > 0 } traceback && !(info.Stderr?.Contains(traceback, StringComparison.Ordinal) ?? false))
            {
                text.Append($"\n{traceback.TrimEnd()}");
            }
        }
        else if (info.Note is { } message)
        {
            text.Append($"\nnote: {message}");
        }

        if (info.FilesChanged is { Count: > 0 } files)
        {
            text.Append($"\nfiles written: {string.Join(", ", files.Select(f => f.Path))}");
        }

        return text.ToString();

        static void AppendTruncation(StringBuilder text, bool? truncated, long? bytes, string? fullPath)
        {
            if (truncated == true)
            {
                text.Append(fullPath is null
                    ? $"\n[output truncated: {bytes} bytes in all]"
                    : $"\n[output truncated: {bytes} bytes in all; the full text is in {fullPath}]");
            }
        }
    }

    internal sealed record KeptOutput(string? Stdout, string? Stderr);
}

using System.ComponentModel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SandboxFunctions.Sessions;

namespace SandboxFunctions.Tools.Cancellation;

[McpServerToolType]
public sealed class CancellationTools(SandboxSessions sessions, RunningExecutions executions, JobStore jobs, TimeProvider time)
{
    [McpServerTool(Name = "cancel_execution", Title = "Cancel execution", Destructive = true, Idempotent = true, UseStructuredContent = true, OutputSchemaType = typeof(CancelResult))]
    [Description("Stops the execution or command running in a session right now, on whichever server it runs, within about a second. The session keeps the state its last completed call saved. If a background job holds the session, the job is cancelled too. Nothing happens when nothing is running.")]
    public async Task<CallToolResult> CancelExecutionAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The session whose running call to stop.")] string session_id,
        CancellationToken cancellationToken = default)
    {
        var owner = Callers.GetOwner(context.User);
        var record = await sessions.GetAsync(owner, session_id, cancellationToken).ConfigureAwait(false);
        var runningHere = await sessions.Guard(async () => await executions.CancelSessionAsync(owner, record.Id, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);

        string? jobId = null;
        if (record.LeasedTo(time.GetUtcNow()) is { } holder && await sessions.Guard(() => jobs.GetAsync(owner, holder, cancellationToken)).ConfigureAwait(false) is { IsFinished: false } job)
        {
            jobId = job.Id;
            try
            {
                await sessions.Guard(() => jobs.UpdateAsync(job, j => j.IsFinished || j.CancelRequested ? null : j with { CancelRequested = true }, cancellationToken)).ConfigureAwait(false);
            }
            catch (JobGoneException)
            {
                // Destroyed with its session meanwhile: nothing is left to cancel.
            }
        }

        var text = "Cancel requested: a call running in session " + record.Id + (runningHere ? " was stopped" : " stops within about a second if one runs")
            + (jobId is null ? "." : $"; background job {jobId} is being cancelled too.")
            + " The session keeps the state of its last completed call.";
        return ToolResults.Success(new CancelResult(record.Id, runningHere, jobId), text);
    }
}

public sealed record CancelResult(
    string SessionId,
    [property: Description("True when the call was running on the server that took this request and was stopped at once; otherwise the server running it stops it within about a second.")] bool StoppedHere,
    [property: Description("The background job that held the session and is being cancelled, if any.")] string? CancelledJobId);

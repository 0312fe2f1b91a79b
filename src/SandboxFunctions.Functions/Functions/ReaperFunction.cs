using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using SandboxFunctions.Sessions;

namespace SandboxFunctions.Functions;

/// <summary>Deletes expired sessions and snapshots nothing refers to, on the schedule in <c>Sessions__ReapSchedule</c>.</summary>
public sealed partial class ReaperFunction(SessionReaper reaper, ILogger<ReaperFunction> logger)
{
    public const string Name = "reaper";

    /// <summary>The app setting holding the timer's schedule (a six-field CRON expression).</summary>
    public const string ScheduleSetting = "Sessions:ReapSchedule";

    [Function(Name)]
    public async Task RunAsync([TimerTrigger("%" + ScheduleSetting + "%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        var result = await reaper.ReapAsync(cancellationToken).ConfigureAwait(false);
        LogReaped(logger, result.ExpiredSessions, result.OrphanedSnapshots);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reaped {Sessions} expired sessions and {Snapshots} unreferenced snapshots.")]
    private static partial void LogReaped(ILogger logger, int sessions, int snapshots);
}

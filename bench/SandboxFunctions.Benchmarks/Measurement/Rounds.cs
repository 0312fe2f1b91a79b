using System.Diagnostics;

namespace SandboxFunctions.Benchmarks.Measurement;

/// <summary>
/// Runs the steps of a comparison interleaved (ABC ABC ...), so that noise from other work on the machine
/// falls on every side alike and each round yields one paired sample per step. The starting step rotates
/// from round to round, so that no step always runs first, or always right after the same other step.
/// </summary>
internal static class Rounds
{
    /// <param name="step">Runs one step; its argument is true in measured rounds, when it should record what it timed.</param>
    public static async Task RunAsync<TStep>(int warmup, int measured, IReadOnlyList<TStep> steps, Func<TStep, bool, Task> step)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(step);
        for (var round = 0; round < warmup + measured; round++)
        {
            for (var i = 0; i < steps.Count; i++)
            {
                Settle();
                await step(steps[(round + i) % steps.Count], round >= warmup);
            }
        }
    }

    public static double MillisecondsSince(long timestamp) => Stopwatch.GetElapsedTime(timestamp).TotalMilliseconds;

    /// <summary>Collects the garbage of earlier steps now, so that a step pays only for its own.</summary>
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }
}

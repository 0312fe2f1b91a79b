using System.Globalization;

namespace SandboxFunctions.Sandbox.Execution;

/// <summary>
/// The processor time a guest's thread has had. The grace a guest gets after a soft interrupt is time it actually
/// ran: on a busy machine its thread may wait for a core, and stopping it hard before it could even see the soft
/// interrupt would throw away its work for nothing. Linux reports a thread's time in /proc; elsewhere, or when the
/// file cannot be read, the clock is unavailable and the grace is wall-clock time.
/// </summary>
internal sealed class GuestThreadClock
{
    private readonly string? _schedstat;

    private GuestThreadClock(string? schedstat)
    {
        _schedstat = schedstat;
    }

    /// <summary>The clock of the calling thread.</summary>
    public static GuestThreadClock OfCurrentThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            return new GuestThreadClock(null);
        }

        try
        {
            // /proc/thread-self links to <pid>/task/<tid>; the path through /proc/self stays valid from other threads.
            var target = new FileInfo("/proc/thread-self").LinkTarget;
            var tid = target?[(target.LastIndexOf('/') + 1)..];
            return new GuestThreadClock(tid is { Length: > 0 } ? $"/proc/self/task/{tid}/schedstat" : null);
        }
        catch (IOException)
        {
            return new GuestThreadClock(null);
        }
    }

    /// <summary>The thread's processor time so far, or null when it cannot be read.</summary>
    public TimeSpan? Read()
    {
        if (_schedstat is null)
        {
            return null;
        }

        try
        {
            var text = File.ReadAllText(_schedstat);
            var end = text.IndexOf(' ', StringComparison.Ordinal);
            return long.TryParse(end < 0 ? text : text[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var nanoseconds)
                ? TimeSpan.FromTicks(nanoseconds / 100)
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

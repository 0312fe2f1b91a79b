namespace SandboxFunctions.Sandbox;

/// <summary>Engine-wide settings, bound from the <c>Sandbox</c> section.</summary>
public sealed class SandboxOptions
{
    public const string SectionName = "Sandbox";

    /// <summary>The folder holding one subfolder per guest runtime; defaults to <c>runtimes</c> next to the app.</summary>
    public string? RuntimesPath { get; set; }

    /// <summary>Guest calls running at once in this process; more wait, up to <see cref="MaxQueuedExecutions"/>.</summary>
    public int MaxConcurrentExecutions { get; set; } = Math.Max(8, Environment.ProcessorCount * 2);

    /// <summary>Guest calls allowed to wait for a thread before new ones are refused as busy.</summary>
    public int MaxQueuedExecutions { get; set; } = 64;

    /// <summary>Native stack of each guest thread; deep enough for the guests' own recursion limits.</summary>
    public int GuestStackBytes { get; set; } = 256 * 1024 * 1024;

    internal string ResolveRuntimesPath() => string.IsNullOrWhiteSpace(RuntimesPath) ? Path.Combine(AppContext.BaseDirectory, "runtimes") : RuntimesPath;
}

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

    /// <summary>
    /// Native stack of each guest thread. A quarter of it is the most a guest's WebAssembly frames may take before
    /// the call ends in a stack overflow; the interpreters' own recursion limits normally end it much earlier.
    /// </summary>
    public int GuestStackBytes { get; set; } = 256 * 1024 * 1024;

    /// <summary>
    /// Where guest modules compiled to native code are cached between processes; defaults to
    /// <c>sandboxfunctions/modules</c> under the user's cache folder, or the temporary folder.
    /// </summary>
    public string? CompiledModulesPath { get; set; }

    internal int MaxWasmStackBytes => Math.Min(GuestStackBytes / 4, 2 * 1024 * 1024);

    internal string ResolveRuntimesPath() => string.IsNullOrWhiteSpace(RuntimesPath) ? Path.Combine(AppContext.BaseDirectory, "runtimes") : RuntimesPath;

    internal string ResolveCompiledModulesPath()
    {
        if (!string.IsNullOrWhiteSpace(CompiledModulesPath))
        {
            return CompiledModulesPath;
        }

        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(cache))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            cache = string.IsNullOrEmpty(home) ? Path.GetTempPath() : Path.Combine(home, ".cache");
        }

        return Path.Combine(cache, "sandboxfunctions", "modules");
    }
}

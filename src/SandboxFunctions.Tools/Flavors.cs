using Microsoft.Extensions.Options;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sandbox.Vfs;

namespace SandboxFunctions.Tools;

/// <summary>The resources of one flavor of sandbox, bound from <c>Flavors:&lt;name&gt;</c>.</summary>
public sealed class FlavorSettings
{
    public int MemoryMiB { get; set; }

    /// <summary>Timeout of a call that asks for none.</summary>
    public int DefaultTimeoutSeconds { get; set; }

    /// <summary>The longest timeout a call may ask for; kept under the 230 s Azure HTTP response limit.</summary>
    public int MaxTimeoutSeconds { get; set; }

    /// <summary>Each of stdout and stderr kept in a result; more is truncated and kept as a workspace file.</summary>
    public int OutputKiB { get; set; }

    public int WorkspaceMiB { get; set; }

    public int MaxFiles { get; set; }

    public SandboxLimits ToLimits() => SandboxLimits.Default with
    {
        MemoryBytes = (long)MemoryMiB * 1024 * 1024,
        StdoutBytes = OutputKiB * 1024L,
        StderrBytes = OutputKiB * 1024L,
        Files = new VfsLimits(MaxFiles, (long)WorkspaceMiB * 1024 * 1024, Math.Min((long)WorkspaceMiB * 1024 * 1024, VfsLimits.Default.MaxFileBytes)),
    };
}

/// <summary>
/// The flavors callers choose from: small, medium and large, each adjustable (and more addable) through
/// <c>Flavors:&lt;name&gt;:&lt;setting&gt;</c>.
/// </summary>
public sealed class FlavorOptions
{
    public const string SectionName = "Flavors";

    /// <summary>The flavor of sessions whose creator names none.</summary>
    public const string DefaultFlavor = "small";

    /// <summary>The longest timeout any flavor may allow: Azure ends HTTP responses at 230 s.</summary>
    public const int TimeoutCeilingSeconds = 220;

    public Dictionary<string, FlavorSettings> Flavors { get; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["small"] = new() { MemoryMiB = 256, DefaultTimeoutSeconds = 30, MaxTimeoutSeconds = 120, OutputKiB = 64, WorkspaceMiB = 100, MaxFiles = 1000 },
        ["medium"] = new() { MemoryMiB = 768, DefaultTimeoutSeconds = 60, MaxTimeoutSeconds = 180, OutputKiB = 256, WorkspaceMiB = 250, MaxFiles = 5000 },
        ["large"] = new() { MemoryMiB = 2048, DefaultTimeoutSeconds = 120, MaxTimeoutSeconds = TimeoutCeilingSeconds, OutputKiB = 1024, WorkspaceMiB = 500, MaxFiles = 10000 },
    };
}

internal sealed class FlavorOptionsValidator : IValidateOptions<FlavorOptions>
{
    public ValidateOptionsResult Validate(string? name, FlavorOptions options)
    {
        var failures = new List<string>();
        foreach (var (flavor, settings) in options.Flavors)
        {
            if (settings.MemoryMiB is < 16 or > 4000)
            {
                failures.Add($"Flavors:{flavor}:MemoryMiB is {settings.MemoryMiB}; it must be between 16 and 4000.");
            }

            if (settings.DefaultTimeoutSeconds < 1 || settings.DefaultTimeoutSeconds > settings.MaxTimeoutSeconds || settings.MaxTimeoutSeconds > FlavorOptions.TimeoutCeilingSeconds)
            {
                failures.Add($"Flavors:{flavor} timeouts must satisfy 1 <= DefaultTimeoutSeconds <= MaxTimeoutSeconds <= {FlavorOptions.TimeoutCeilingSeconds}.");
            }

            if (settings.OutputKiB < 1 || settings.WorkspaceMiB < 1 || settings.MaxFiles < 1)
            {
                failures.Add($"Flavors:{flavor} needs positive OutputKiB, WorkspaceMiB and MaxFiles.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

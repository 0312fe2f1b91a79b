using Microsoft.Extensions.Options;

namespace SandboxFunctions.Tools.Data;

/// <summary>Refuses volume settings that cannot work, at start-up, with what to change.</summary>
internal sealed class DataVolumeOptionsValidator : IValidateOptions<DataVolumeOptions>
{
    public ValidateOptionsResult Validate(string? name, DataVolumeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var (volume, settings) in options.Volumes)
        {
            if (volume.Length is 0 or > 63 || !volume.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || volume is "." or "..")
            {
                failures.Add($"Volumes:{volume} is not a usable folder name; use letters, digits, '-', '_' or '.' (at most 63).");
            }

            if (!string.IsNullOrWhiteSpace(settings.Container) && !string.IsNullOrWhiteSpace(settings.Path))
            {
                failures.Add($"Volumes:{volume} sets both Container and Path; give one: a blob container on the session storage account, or a folder on this machine.");
            }

            if (settings.MaxBytesPerCall <= 0)
            {
                failures.Add($"Volumes:{volume}:MaxBytesPerCall must be positive; it is {settings.MaxBytesPerCall}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

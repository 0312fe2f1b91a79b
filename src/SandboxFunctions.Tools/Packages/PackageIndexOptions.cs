using System.ComponentModel.DataAnnotations;

namespace SandboxFunctions.Tools.Packages;

/// <summary>
/// Where install_package finds packages and how much it may download, bound from <c>Packages</c>.
/// Without <see cref="IndexUrl"/> installing packages is off.
/// </summary>
public sealed class PackageIndexOptions : IValidatableObject
{
    public const string SectionName = "Packages";

    /// <summary>
    /// Base URL of a package index's Simple repository API (PEP 503/691), e.g. the public Python Package
    /// Index's simple API or a private mirror of it. Credentials for a private index may be part of it.
    /// </summary>
    public string? IndexUrl { get; set; }

    /// <summary>The largest wheel install_package downloads.</summary>
    public long MaxWheelBytes { get; set; } = 25L * 1024 * 1024;

    /// <summary>The most one install_package call downloads, dependencies included.</summary>
    public long MaxTotalBytes { get; set; } = 60L * 1024 * 1024;

    /// <summary>How long one install_package call may spend talking to the index.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The index's base URL, or null when installing packages is not configured.</summary>
    internal Uri? IndexUri =>
        Uri.TryCreate(IndexUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(IndexUrl) && IndexUri is null)
        {
            yield return new ValidationResult($"{SectionName}:IndexUrl must be an absolute http or https URL.", [nameof(IndexUrl)]);
        }

        if (MaxWheelBytes <= 0 || MaxTotalBytes <= 0)
        {
            yield return new ValidationResult($"{SectionName}:MaxWheelBytes and {SectionName}:MaxTotalBytes must be positive.", [nameof(MaxWheelBytes), nameof(MaxTotalBytes)]);
        }

        if (Timeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult($"{SectionName}:Timeout must be positive, e.g. 00:01:00.", [nameof(Timeout)]);
        }
    }
}

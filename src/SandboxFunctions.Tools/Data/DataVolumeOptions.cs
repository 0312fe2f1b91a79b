namespace SandboxFunctions.Tools.Data;

/// <summary>The shared read-only volumes sessions see under /data, bound from <c>Volumes</c>, keyed by volume name.</summary>
public sealed class DataVolumeOptions
{
    public const string SectionName = "Volumes";

    public Dictionary<string, DataVolumeSettings> Volumes { get; } = new(StringComparer.Ordinal);
}

/// <summary>Where one volume's files come from, who sees it, and how much a call may read from it.</summary>
public sealed class DataVolumeSettings
{
    /// <summary>A blob container on the session storage account (or the embedded store) holding the files.</summary>
    public string? Container { get; set; }

    /// <summary>Only blobs whose names start with this show, without it: <c>2024/</c> shows <c>2024/a.csv</c> as <c>a.csv</c>.</summary>
    public string? Prefix { get; set; }

    /// <summary>A folder on this machine holding the files, instead of a container (for the embedded store).</summary>
    public string? Path { get; set; }

    /// <summary>The flavors whose sessions see the volume, comma-separated; empty for every flavor.</summary>
    public string? Flavors { get; set; }

    /// <summary>The most bytes one call may open from the volume.</summary>
    public long MaxBytesPerCall { get; set; } = 256L * 1024 * 1024;

    /// <summary>A volume with neither a container nor a folder is left out, so a settings file can list one unused.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Container) || !string.IsNullOrWhiteSpace(Path);

    /// <summary>The flavors named in <see cref="Flavors"/>; empty for every flavor.</summary>
    public IReadOnlyList<string> FlavorNames =>
        (Flavors ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

using System.ComponentModel;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Data;
using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Tools.Data;

/// <summary>The configured data volumes, as the engine mounts them and as callers see them listed.</summary>
public sealed class DataVolumes
{
    private readonly Dictionary<string, (StoredDataVolume Volume, IReadOnlyList<string> Flavors)> _volumes = new(StringComparer.Ordinal);

    public DataVolumes(IOptions<DataVolumeOptions> options, IStorageProvider storage, DataFileCache cache)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (name, settings) in options.Value.Volumes.Where(v => v.Value.IsConfigured).OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            _volumes[name] = (new StoredDataVolume(name, settings, storage, cache), settings.FlavorNames);
        }
    }

    public IReadOnlyList<IDataVolume> All => [.. _volumes.Values.Select(v => v.Volume)];

    /// <summary>The names of the volumes a session of <paramref name="flavor"/> sees.</summary>
    public IReadOnlySet<string> For(string flavor) =>
        _volumes.Where(v => v.Value.Flavors.Count == 0 || v.Value.Flavors.Contains(flavor, StringComparer.OrdinalIgnoreCase)).Select(v => v.Key).ToHashSet(StringComparer.Ordinal);

    /// <summary>Each volume with its files' count and total size as they are now, or why it cannot be listed.</summary>
    public async Task<IReadOnlyList<DataVolumeInfo>> DescribeAsync(CancellationToken cancellationToken)
    {
        var described = new List<DataVolumeInfo>();
        foreach (var (name, (volume, flavors)) in _volumes)
        {
            var listed = new DataVolumeInfo(name, $"{SandboxWorkspace.DataRoot}/{name}", null, null, volume.MaxBytesPerCall, flavors.Count == 0 ? null : flavors, null);
            try
            {
                var files = await volume.ListAsync(cancellationToken).ConfigureAwait(false);
                described.Add(listed with { Files = files.Count, Bytes = files.Sum(f => f.Size) });
            }
            catch (DataVolumeException ex)
            {
                described.Add(listed with { Error = $"{listed.Path} is unavailable: {ex.Message}." });
            }
        }

        return described;
    }
}

/// <summary>A data volume as list_runtimes shows it.</summary>
public sealed record DataVolumeInfo(
    [property: Description("The volume's name.")] string Name,
    [property: Description("Where sessions see it: read-only, in every language and to execute_command.")] string Path,
    [property: Description("How many files it holds.")] int? Files,
    [property: Description("The total size of its files in bytes.")] long? Bytes,
    [property: Description("The most bytes one call may read from it.")] long MaxBytesPerCall,
    [property: Description("The flavors whose sessions see it; absent when every flavor does.")] IReadOnlyList<string>? Flavors,
    [property: Description("Set when the volume cannot be listed right now, saying why.")] string? Error);

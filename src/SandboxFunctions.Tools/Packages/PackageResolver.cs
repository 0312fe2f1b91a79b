namespace SandboxFunctions.Tools.Packages;

/// <summary>Where a package that is already importable comes from.</summary>
internal enum PackageOrigin
{
    /// <summary>Installed into the session earlier.</summary>
    Session,

    /// <summary>Bundled with the runtime.</summary>
    Runtime,
}

/// <summary>A distribution the session can already import.</summary>
internal sealed record PresentPackage(string Name, PackageVersion Version, PackageOrigin Origin);

/// <summary>A wheel chosen, downloaded and checked, ready to be installed.</summary>
/// <param name="RequiredBy">The requirement that brought it in, e.g. <c>demo 1.0: helper&gt;=2</c>; null for the requested package.</param>
internal sealed record ResolvedWheel(string Name, PackageVersion Version, string Filename, string DistInfo, byte[] Content, string? RequiredBy)
{
    public bool Requested => RequiredBy is null;
}

/// <summary>What installing a requirement takes: the wheels to install, and what was already there.</summary>
internal sealed record Resolution(IReadOnlyList<ResolvedWheel> Wheels, IReadOnlyList<PresentPackage> AlreadyPresent)
{
    public long TotalBytes => Wheels.Sum(w => (long)w.Content.Length);
}

/// <summary>
/// Resolves a requirement and its dependencies to pure-Python wheels, simply and deterministically:
/// requirements are taken in the order they are met, each project gets the newest version that
/// satisfies every requirement on it seen so far, and a later requirement the choice does not
/// satisfy is a conflict (there is no backtracking). A requirement that a package the session can
/// already import satisfies installs nothing.
/// </summary>
internal sealed class PackageResolver(PackageIndexClient index, MarkerEnvironment environment, long maxWheelBytes, long maxTotalBytes)
{
    private const int NearestVersionCount = 6;

    public async Task<Resolution> ResolveAsync(Requirement root, IReadOnlyList<PresentPackage> present, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(root);
        var presentByName = present
            .GroupBy(p => PackageName.Canonicalize(p.Name))
            .ToDictionary(g => g.Key, g => g.OrderBy(p => p.Origin).First(), StringComparer.Ordinal);
        var chosen = new Dictionary<string, Chosen>(StringComparer.Ordinal);
        var constraints = new Dictionary<string, List<(Requirement Requirement, string? RequiredBy)>>(StringComparer.Ordinal);
        var satisfiedByPresent = new Dictionary<string, PresentPackage>(StringComparer.Ordinal);
        var pending = new Queue<(Requirement Requirement, string? RequiredBy)>();
        pending.Enqueue((root, null));
        long totalBytes = 0;

        while (pending.TryDequeue(out var item))
        {
            var (requirement, requiredBy) = item;
            var name = requirement.CanonicalName;
            var onName = constraints.TryGetValue(name, out var list) ? list : constraints[name] = [];
            onName.Add(item);

            if (chosen.TryGetValue(name, out var existing))
            {
                if (!requirement.Specifier.Contains(existing.Wheel.Version, allowPrereleases: true))
                {
                    throw ToolErrors.PackageConflict(Describe(item), $"{existing.Wheel.Name} {existing.Wheel.Version} was already chosen for {DescribeChoice(existing.Wheel)}");
                }

                var before = existing.Extras.ToList();
                if (requirement.Extras.Where(existing.Extras.Add).ToList() is { Count: > 0 })
                {
                    EnqueueDependencies(existing, before, pending);
                }

                continue;
            }

            if (presentByName.TryGetValue(name, out var installed) && onName.All(c => c.Requirement.Specifier.Contains(installed.Version, allowPrereleases: true)))
            {
                satisfiedByPresent.TryAdd(name, installed);
                continue;
            }

            satisfiedByPresent.Remove(name);
            var files = await index.GetProjectFilesAsync(requirement.Name, cancellationToken).ConfigureAwait(false)
                ?? throw ToolErrors.PackageNotFound(requirement.Name, requiredBy is null
                    ? $"The package index has no project named '{requirement.Name}'."
                    : $"The package index has no project named '{requirement.Name}', which {requiredBy} requires.", []);
            var specifier = onName.Aggregate(VersionSpecifierSet.Any, (all, c) => all.And(c.Requirement.Specifier));
            var file = Choose(requirement, requiredBy, specifier, files);

            var content = await index.DownloadAsync(file, maxWheelBytes, cancellationToken).ConfigureAwait(false)
                ?? throw ToolErrors.PackageTooLarge($"{file.Filename} is larger than the server's limit of {maxWheelBytes} bytes per wheel.");
            totalBytes += content.Length;
            if (totalBytes > maxTotalBytes)
            {
                throw ToolErrors.PackageTooLarge($"With {file.Filename}, the wheels of this install come to {totalBytes} bytes, more than the server's limit of {maxTotalBytes} bytes per install.");
            }

            var wheel = WheelArchive.Open(content, file, requirement.Name);
            if (wheel.RequiresPython is { } requiresPython && !SupportsSandboxPython(requiresPython))
            {
                throw ToolErrors.PackageConflict(Describe(item), $"{wheel.Name} {wheel.Version} requires Python {requiresPython}, and the sandbox runs Python {environment.PythonFullVersion}");
            }

            var selection = new Chosen(
                new ResolvedWheel(wheel.Name, wheel.Version, file.Filename, wheel.DistInfo, content, requiredBy is null ? null : $"{requiredBy}: {requirement.Text}"),
                wheel.RequiresDist,
                new SortedSet<string>(requirement.Extras, StringComparer.Ordinal));
            chosen[name] = selection;
            EnqueueDependencies(selection, null, pending);
        }

        return new Resolution([.. chosen.Values.Select(c => c.Wheel)], [.. satisfiedByPresent.Values]);
    }

    private DistributionFile Choose(Requirement requirement, string? requiredBy, VersionSpecifierSet specifier, IReadOnlyList<DistributionFile> files)
    {
        var versions = files
            .Select(f => (File: f, Version: f.VersionFor(requirement.Name)))
            .Where(f => f.Version is not null)
            .GroupBy(f => f.Version!)
            .OrderByDescending(g => g.Key)
            .ToList();

        // A withdrawn release is only used when the requirement pins it exactly (PEP 592).
        bool IsPinned(PackageVersion version) => specifier.Clauses.Any(c => c.Operator is "==" or "===" && !c.Wildcard && c.Matches(version));
        var matching = versions
            .Where(g => specifier.Contains(g.Key, allowPrereleases: true))
            .Select(g => (g.Key, Files: g.Select(f => f.File).Where(f => (!f.Yanked || IsPinned(g.Key)) && SupportsSandboxPython(f.RequiresPython)).ToList()))
            .Where(g => g.Files.Count > 0)
            .ToList();

        // Pre-releases only when the requirement names one, or when nothing else matches.
        var finals = matching.Where(g => specifier.Contains(g.Key)).ToList();
        var candidates = finals.Count > 0 ? finals : matching;
        foreach (var (_, candidateFiles) in candidates)
        {
            var pure = candidateFiles.Where(f => f.Wheel is { IsPurePython: true }).OrderBy(f => f.Filename, StringComparer.Ordinal).FirstOrDefault();
            if (pure is not null)
            {
                return pure;
            }
        }

        if (candidates.Count == 0)
        {
            var available = versions.Select(g => g.Key).ToList();
            var anyMatch = available.Any(v => specifier.Contains(v, allowPrereleases: true));
            throw ToolErrors.PackageNotFound(requirement.Name, NoMatchMessage(requirement, requiredBy, specifier, available.Count, anyMatch), Nearest(available, specifier));
        }

        var (newest, newestFiles) = candidates[0];
        var wheels = newestFiles.Where(f => f.Wheel is not null).Select(f => f.Wheel!.Tags).Distinct().Order(StringComparer.Ordinal).ToList();
        var reason = wheels.Count > 0
            ? $"{requirement.Name} {newest} has wheels with native code only ({string.Join(", ", wheels.Take(4))}{(wheels.Count > 4 ? ", …" : string.Empty)}), and no matching version has a pure-Python wheel"
            : $"{requirement.Name} {newest} is published as source code only (no wheel), and no matching version has a pure-Python wheel";
        throw ToolErrors.PackageNotPurePython(requirement.Name, requiredBy is null ? reason : $"{reason} ({requiredBy} requires it)");
    }

    /// <summary>
    /// Queues the dependencies that apply with the project's current extras and did not apply with
    /// <paramref name="extrasBefore"/> (null when none were queued yet).
    /// </summary>
    private void EnqueueDependencies(Chosen selection, IReadOnlyCollection<string>? extrasBefore, Queue<(Requirement, string?)> pending)
    {
        var source = $"{selection.Wheel.Name} {selection.Wheel.Version}";
        foreach (var line in selection.RequiresDist)
        {
            try
            {
                var dependency = Requirement.Parse(line);
                if (dependency.AppliesTo(environment, selection.Extras) && (extrasBefore is null || !dependency.AppliesTo(environment, extrasBefore)))
                {
                    pending.Enqueue((dependency, source));
                }
            }
            catch (FormatException ex)
            {
                throw ToolErrors.PackageConflict($"{line} (required by {source})", $"the requirement cannot be read: {ex.Message}");
            }
        }
    }

    private bool SupportsSandboxPython(string? requiresPython)
    {
        if (string.IsNullOrWhiteSpace(requiresPython))
        {
            return true;
        }

        try
        {
            return VersionSpecifierSet.Parse(requiresPython).Contains(PackageVersion.Parse(environment.PythonFullVersion), allowPrereleases: true);
        }
        catch (FormatException)
        {
            // An unreadable Requires-Python says nothing reliable; the file stays a candidate.
            return true;
        }
    }

    private static string Describe((Requirement Requirement, string? RequiredBy) item) =>
        item.RequiredBy is null ? $"the requested {item.Requirement.Text}" : $"{item.Requirement.Text} (required by {item.RequiredBy})";

    private static string DescribeChoice(ResolvedWheel wheel) => wheel.RequiredBy is null ? "the requested package" : wheel.RequiredBy;

    private string NoMatchMessage(Requirement requirement, string? requiredBy, VersionSpecifierSet specifier, int availableCount, bool anyMatch)
    {
        var what = specifier.Clauses.Count == 0 ? $"'{requirement.Name}'" : $"'{requirement.Name}' matching {specifier}";
        var by = requiredBy is null ? string.Empty : $" ({requiredBy} requires it)";
        if (availableCount == 0)
        {
            return $"The package index lists no installable files for '{requirement.Name}'{by}.";
        }

        return anyMatch
            ? $"Every version of {what} on the package index was withdrawn or needs another Python than {environment.PythonFullVersion}{by}."
            : $"The package index has no version of {what}{by}.";
    }

    /// <summary>Up to a few versions around the one asked for (or the newest), newest first.</summary>
    private static IReadOnlyList<string> Nearest(List<PackageVersion> availableNewestFirst, VersionSpecifierSet specifier)
    {
        var target = specifier.Clauses.FirstOrDefault(c => c.Operator is "==" or "===" or "~=" or ">=" or "<=" or "<" or ">")?.Version;
        if (target is null || availableNewestFirst.Count <= NearestVersionCount)
        {
            return [.. availableNewestFirst.Take(NearestVersionCount).Select(v => v.ToString())];
        }

        var position = availableNewestFirst.Count(v => v > target);
        var start = Math.Clamp(position - (NearestVersionCount / 2), 0, availableNewestFirst.Count - NearestVersionCount);
        return [.. availableNewestFirst.Skip(start).Take(NearestVersionCount).Select(v => v.ToString())];
    }

    private sealed record Chosen(ResolvedWheel Wheel, IReadOnlyList<string> RequiresDist, SortedSet<string> Extras);
}

using System.ComponentModel;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SandboxFunctions.Tools.Packages;

namespace SandboxFunctions.Tools;

[McpServerToolType]
public sealed class PackageTools(SandboxSessions sessions, IOptions<PackageIndexOptions> options)
{
    [McpServerTool(Name = "install_package", Title = "Install package", Destructive = false, Idempotent = true, OpenWorld = true, UseStructuredContent = true, OutputSchemaType = typeof(PackageInstallResult))]
    [Description("""
        Installs a pure-Python package with its dependencies from the server's package index into a Python session. The session's next execute_code call can import it; no restart is needed.
        Installed packages are saved with the session (in /packages) and take precedence over the packages bundled with the runtime, which need no install (list_runtimes lists them).
        Only pure-Python wheels can be installed: packages with compiled extensions (e.g. numpy, pandas, lxml) cannot run in the sandbox.
        """)]
    public async Task<CallToolResult> InstallPackageAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The Python session to install into.")] string session_id,
        [Description("The project name on the package index, optionally with extras and a version specifier, e.g. 'humanize', 'rich[jupyter]' or 'attrs>=23'.")] string package,
        [Description("The version to install, e.g. '4.9.0', or a specifier such as '>=4,<5'. Omit for the newest version, or for whatever version the session already has.")] string? version = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = options.Value;
        var indexUrl = settings.IndexUri ?? throw ToolErrors.PackageIndexNotConfigured(string.IsNullOrWhiteSpace(settings.IndexUrl)
            ? "no package index is configured (Packages:IndexUrl)."
            : "its package index setting (Packages:IndexUrl) is not an http or https URL.");
        var requirement = ParseRequest(package, version);

        var owner = Callers.GetOwner(context.User);
        var outcome = await sessions.UseAsync(owner, session_id, async (current, sandbox) =>
        {
            var runtime = sessions.GetRuntime(current.Language).Info;
            List<PresentPackage> bundled = [.. runtime.Packages.Select(ParseBundled).OfType<PresentPackage>()];
            var guestTimeout = TimeSpan.FromSeconds(sessions.GetFlavor(current.Flavor).MaxTimeoutSeconds);
            var resolver = new PackageResolver(new PackageIndexClient(indexUrl), MarkerEnvironment.ForSandboxPython(runtime.Version), settings.MaxWheelBytes, settings.MaxTotalBytes);
            var installed = await SessionPackages.ListAsync(sandbox, guestTimeout, cancellationToken).ConfigureAwait(false);
            var resolution = await ResolveAsync(resolver, requirement, [.. installed, .. bundled], settings.Timeout, cancellationToken).ConfigureAwait(false);
            if (resolution.Wheels.Count == 0)
            {
                return new SessionStep<(Resolution, InstallReport?)>((resolution, null), Commit: false);
            }

            var report = await SessionPackages.InstallAsync(sandbox, resolution.Wheels, guestTimeout, cancellationToken).ConfigureAwait(false);
            return new SessionStep<(Resolution, InstallReport?)>((resolution, report), Commit: true);
        }, cancellationToken, admit: current =>
        {
            if (!string.Equals(current.Language, "python", StringComparison.OrdinalIgnoreCase))
            {
                throw ToolErrors.PythonSessionRequired(current.Id, current.Language);
            }
        }).ConfigureAwait(false);

        var (done, guestReport) = outcome.Value;
        var result = Describe(outcome.Record.Id, done, guestReport, outcome.SaveError);
        return outcome.SaveError is null
            ? ToolResults.Success(result, Summarize(result))
            : ToolResults.Failure(result, $"{Summarize(result)}\n{ToolResults.Describe(outcome.SaveError)}");
    }

    private static async Task<Resolution> ResolveAsync(PackageResolver resolver, Requirement requirement, IReadOnlyList<PresentPackage> present, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(timeout);
        try
        {
            return await resolver.ResolveAsync(requirement, present, budget.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw ToolErrors.PackageIndexUnreachable($"The package index did not answer within {timeout.TotalSeconds:0.#} s (Packages:Timeout); the session was not changed.");
        }
    }

    private static Requirement ParseRequest(string package, string? version)
    {
        try
        {
            var requirement = Requirement.Parse(package);
            if (requirement.Marker is not null)
            {
                throw new FormatException($"'{package.Trim()}' has an environment marker; pass only the project name, extras and version.");
            }

            if (string.IsNullOrWhiteSpace(version))
            {
                return requirement;
            }

            var pinned = PackageVersion.TryParse(version, out _) ? "==" + version.Trim() : version.Trim();
            return new Requirement(requirement.Name, requirement.Extras, requirement.Specifier.And(VersionSpecifierSet.Parse(pinned)), null, package.Trim() + pinned);
        }
        catch (FormatException ex)
        {
            throw ToolErrors.InvalidRequirement(ex.Message);
        }
    }

    private static PresentPackage? ParseBundled(string entry)
    {
        var separator = entry.IndexOf("==", StringComparison.Ordinal);
        return separator > 0 && PackageVersion.TryParse(entry[(separator + 2)..], out var version)
            ? new PresentPackage(entry[..separator], version, PackageOrigin.Runtime)
            : null;
    }

    private static PackageInstallResult Describe(string sessionId, Resolution resolution, InstallReport? report, ToolError? saveError)
    {
        var bytesByName = (report?.Installed ?? []).ToDictionary(i => PackageName.Canonicalize(i.Name), i => i.Bytes, StringComparer.Ordinal);
        return new PackageInstallResult(
            sessionId,
            [.. resolution.Wheels.Select(w => new InstalledPackageInfo(w.Name, w.Version.ToString(), w.Requested, w.RequiredBy, bytesByName.GetValueOrDefault(PackageName.Canonicalize(w.Name)), w.Filename))],
            [.. resolution.AlreadyPresent.Select(p => new PresentPackageInfo(p.Name, p.Version.ToString(), p.Origin == PackageOrigin.Session ? "session" : "runtime"))],
            bytesByName.Values.Sum(),
            resolution.TotalBytes,
            report?.StaleModules ?? [],
            saveError);
    }

    private static string Summarize(PackageInstallResult result)
    {
        var text = new StringBuilder();
        var installed = result.Installed ?? [];
        if (installed.Count == 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"Nothing to install in session {result.SessionId}.");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"Installed into session {result.SessionId}: ");
            text.AppendJoin(", ", installed.Select(p => p.Requested ? $"{p.Name} {p.Version}" : $"{p.Name} {p.Version} (for {p.RequiredBy})"));
            text.Append(CultureInfo.InvariantCulture, $"; {result.TotalBytes} bytes in /packages. Import them in execute_code; no restart is needed.");
        }

        if (result.AlreadyPresent is { Count: > 0 } present)
        {
            text.Append("\nAlready present: ");
            text.AppendJoin(", ", present.Select(p => $"{p.Name} {p.Version} ({(p.Source == "session" ? "installed in the session" : "bundled with the runtime")})"));
            text.Append('.');
        }

        if (result.StaleModules is { Count: > 0 } stale)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nAlready imported before this install, so still running the previous code: {string.Join(", ", stale)}. Reload them (importlib.reload) or re-run the imports in a fresh session to use the new version.");
        }

        return text.ToString();
    }
}

public sealed record PackageInstallResult(
    [property: Description("The session the packages were installed into.")] string? SessionId = null,
    [property: Description("Packages this call installed: the requested one and the dependencies it needed.")] IReadOnlyList<InstalledPackageInfo>? Installed = null,
    [property: Description("Requirements the session already satisfied, so nothing was installed for them.")] IReadOnlyList<PresentPackageInfo>? AlreadyPresent = null,
    [property: Description("Bytes the installed packages take up in the session's files (they count towards the same limits as /workspace).")] long? TotalBytes = null,
    [property: Description("Bytes downloaded from the package index.")] long? DownloadBytes = null,
    [property: Description("Modules of the installed packages that the session had imported before; they keep running the previous code until reloaded.")] IReadOnlyList<string>? StaleModules = null,
    [property: Description("Set when the call failed.")] ToolError? Error = null);

public sealed record InstalledPackageInfo(
    [property: Description("Project name.")] string Name,
    [property: Description("Installed version.")] string Version,
    [property: Description("True for the requested package; false for a dependency.")] bool Requested,
    [property: Description("For a dependency: the package that needs it and its requirement, e.g. 'demo 1.0: helper>=2'.")] string? RequiredBy,
    [property: Description("Bytes its files take up.")] long Bytes,
    [property: Description("The wheel file it was installed from.")] string Wheel);

public sealed record PresentPackageInfo(
    [property: Description("Project name.")] string Name,
    [property: Description("The version the session has.")] string Version,
    [property: Description("'session' when installed into the session earlier, 'runtime' when bundled with the runtime.")] string Source);

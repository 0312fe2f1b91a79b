using System.Text.Json;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Tools.Packages;

/// <summary>What the guest installed of one wheel.</summary>
internal sealed record InstalledWheel(string Name, string Version, int Files, long Bytes);

/// <summary>The guest's account of an install: the wheels, and modules that were already imported before it.</summary>
internal sealed record InstallReport(IReadOnlyList<InstalledWheel> Installed, IReadOnlyList<string> StaleModules);

/// <summary>
/// The packages side of a Python session's guest: listing what is installed in it and unpacking wheels
/// into its package folder. Both run the guest runtime's own functions, so the same interpreter that
/// imports the packages writes them, and nothing but its file system is touched.
/// </summary>
internal static class SessionPackages
{
    private const string CallName = "<install_package>";

    private static readonly JsonSerializerOptions GuestJson = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static async Task<IReadOnlyList<PresentPackage>> ListAsync(SandboxInstance sandbox, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var result = await RunAsync(sandbox, "__import__('_sandbox').installed_packages()", default, timeout, cancellationToken).ConfigureAwait(false);
        return [.. result.Deserialize<List<GuestDistribution>>(GuestJson)!
            .Where(d => PackageVersion.TryParse(d.Version, out _))
            .Select(d => new PresentPackage(d.Name, PackageVersion.Parse(d.Version), PackageOrigin.Session))];
    }

    public static async Task<InstallReport> InstallAsync(SandboxInstance sandbox, IReadOnlyList<ResolvedWheel> wheels, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var plan = JsonSerializer.Serialize(wheels.Select(w => new GuestWheel(w.Name, w.Version.ToString(), w.DistInfo, w.Content.Length, w.Requested)), GuestJson);
        var stdin = new byte[wheels.Sum(w => w.Content.Length)];
        var offset = 0;
        foreach (var wheel in wheels)
        {
            wheel.Content.CopyTo(stdin, offset);
            offset += wheel.Content.Length;
        }

        // A JSON string literal is also a valid Python string literal, so the plan needs no other quoting.
        var code = $"__import__('_sandbox').install_wheels({JsonSerializer.Serialize(plan)})";
        var result = await RunAsync(sandbox, code, stdin, timeout, cancellationToken).ConfigureAwait(false);
        return result.Deserialize<InstallReport>(GuestJson)!;
    }

    private static async Task<JsonElement> RunAsync(SandboxInstance sandbox, string code, ReadOnlyMemory<byte> stdin, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var result = await sandbox.ExecuteAsync(new ExecutionRequest(code) { Name = CallName, Stdin = stdin, Timeout = timeout }, cancellationToken).ConfigureAwait(false);
        if (result.Status == ExecutionStatus.Ok && result.Result?.Json is { } json)
        {
            return json;
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw result.Status switch
        {
            // The file system refused a write: installed packages count against the session's file limits.
            ExecutionStatus.Error when result.Message is { } limit => ToolErrors.WorkspaceFull(
                $"The packages do not fit into the session's files: {limit} Installed packages count towards the same limits as /workspace."),
            ExecutionStatus.MemoryLimit or ExecutionStatus.Timeout => ToolErrors.PackageTooLarge(
                $"Unpacking the packages in the sandbox failed: {result.Message ?? result.Status.ToString()}"),
            _ => ToolErrors.PackageInvalid("The download", $"the sandbox could not unpack it ({result.Error?.Type}: {result.Error?.Message ?? result.Message})"),
        };
    }

    private sealed record GuestDistribution(string Name, string Version);

    private sealed record GuestWheel(string Name, string Version, string DistInfo, int Size, bool Requested);
}

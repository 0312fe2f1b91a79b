using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Functions.Tests;

/// <summary>The deployment template compiled and linted by the Bicep CLI the build restores.</summary>
public sealed partial class BicepTemplateTests
{
    private static readonly string Template = Path.Combine(TestPaths.RepositoryRoot, "infra", "main.bicep");

    [Fact]
    public async Task The_template_compiles_without_errors_or_warnings()
    {
        var output = Path.Combine(Directory.CreateTempSubdirectory("bicep-").FullName, "main.json");

        var (exitCode, diagnostics) = await RunBicepAsync("build", Template, "--outfile", output);

        Assert.True(exitCode == 0 && diagnostics.Count == 0, $"bicep build exited with {exitCode}:\n{string.Join('\n', diagnostics)}");
        Assert.True(File.Exists(output));
    }

    [Fact]
    public async Task The_template_passes_the_linter()
    {
        var (exitCode, diagnostics) = await RunBicepAsync("lint", Template);

        Assert.True(exitCode == 0 && diagnostics.Count == 0, $"bicep lint exited with {exitCode}:\n{string.Join('\n', diagnostics)}");
    }

    [Fact]
    public async Task The_compiled_template_runs_the_function_app_on_the_runtime_the_worker_targets()
    {
        var output = Path.Combine(Directory.CreateTempSubdirectory("bicep-").FullName, "main.json");
        var (exitCode, diagnostics) = await RunBicepAsync("build", Template, "--outfile", output);
        Assert.True(exitCode == 0, string.Join('\n', diagnostics));

        using var template = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        var site = template.RootElement.GetProperty("resources").EnumerateObject()
            .Select(r => r.Value)
            .Single(r => r.GetProperty("type").GetString() == "Microsoft.Web/sites");
        var runtime = site.GetProperty("properties").GetProperty("functionAppConfig").GetProperty("runtime");
        using var workerConfig = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(TestPaths.FunctionsOutput, "worker.config.json")));

        Assert.Equal(workerConfig.RootElement.GetProperty("description").GetProperty("language").GetString(), runtime.GetProperty("name").GetString());
        Assert.Equal($"{Environment.Version.Major}.0", runtime.GetProperty("version").GetString());
    }

    [Fact]
    public async Task A_template_with_a_warning_fails_the_lint_check()
    {
        var broken = Path.Combine(Directory.CreateTempSubdirectory("bicep-").FullName, "unused.bicep");
        await File.WriteAllTextAsync(broken, "param unused string = 'x'\n");

        var (_, diagnostics) = await RunBicepAsync("lint", broken);

        Assert.Contains(diagnostics, d => d.Contains("no-unused-params", StringComparison.Ordinal));
    }

    /// <summary>Runs the Bicep CLI and returns its exit code and the warnings and errors it reported.</summary>
    private static async Task<(int ExitCode, IReadOnlyList<string> Diagnostics)> RunBicepAsync(params string[] arguments)
    {
        var bicep = BicepPath();
        await using var process = ChildProcess.Start(bicep, arguments, new Dictionary<string, string?>
        {
            // The CLI would otherwise look for updates and send usage data.
            ["BICEP_TRACING_ENABLED"] = "false",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        });
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromMinutes(2));
        return (exitCode, [.. process.Output.Split('\n').Where(line => Diagnostic().IsMatch(line))]);
    }

    private static string BicepPath()
    {
        var path = typeof(BicepTemplateTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "Bicep").Value!;
        Assert.True(File.Exists(path), $"The Bicep CLI is not at {path}; restoring the test project downloads it.");

        // Package extraction does not keep the executable bit everywhere; the package is for Linux only.
        if (OperatingSystem.IsLinux() && File.GetUnixFileMode(path) is var mode && !mode.HasFlag(UnixFileMode.UserExecute))
        {
            File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute);
        }

        return path;
    }

    [GeneratedRegex(@"\) : (Warning|Error) ", RegexOptions.CultureInvariant)]
    private static partial Regex Diagnostic();
}

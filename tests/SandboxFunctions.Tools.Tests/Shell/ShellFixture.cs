using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Tools.Shell;

namespace SandboxFunctions.Tools.Tests.Shell;

/// <summary>The real guest runtimes, as built by the solution, shared by every shell test.</summary>
public sealed class ShellFixture : IDisposable
{
    private readonly RuntimeCatalog _catalog = new(Options.Create(new SandboxOptions()), TimeProvider.System, NullLogger<RuntimeCatalog>.Instance);

    public Task<SandboxInstance> CreateAsync(string language = "python", SandboxLimits? limits = null) =>
        _catalog.TryGet(language, out var runtime)
            ? runtime.CreateAsync(limits ?? SandboxLimits.Default)
            : throw new InvalidOperationException($"The {language} runtime was not built.");

    public void Dispose() => _catalog.Dispose();
}

[CollectionDefinition(Name)]
public sealed class ShellTests : ICollectionFixture<ShellFixture>
{
    public const string Name = "shell";
}

internal static class ShellTestExtensions
{
    public static Task<ShellOutcome> ShellAsync(this SandboxInstance sandbox, string command, double timeoutSeconds = 30) =>
        new ShellInterpreter(sandbox, ShellLimits.For(sandbox.Limits, TimeSpan.FromSeconds(timeoutSeconds))).RunAsync(ShellParser.Parse(command));

    /// <summary>Runs a command line that must succeed and returns its stdout.</summary>
    public static async Task<string> OutAsync(this SandboxInstance sandbox, string command)
    {
        var outcome = await sandbox.ShellAsync(command);
        Assert.True(outcome.ExitCode == 0 && outcome.StopReason is null, $"`{command}` exited {outcome.ExitCode} ({outcome.StopReason}: {outcome.StopMessage}); stderr: {outcome.Stderr.Text}");
        return outcome.Stdout.Text;
    }

    public static Task WriteAsync(this SandboxInstance sandbox, string path, string content) =>
        sandbox.Workspace.WriteAsync(path, Encoding.UTF8.GetBytes(content));

    public static async Task<string> ReadAsync(this SandboxInstance sandbox, string path) =>
        Encoding.UTF8.GetString(await sandbox.Workspace.ReadAsync(path));
}

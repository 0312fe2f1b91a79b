using System.Globalization;
using System.Text.Json;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Benchmarks.Scenarios;

internal static class SandboxCalls
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>Runs code that must succeed; anything else means the benchmark itself is broken.</summary>
    public static async Task<ExecutionResult> RunAsync(this SandboxInstance sandbox, string code)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var result = await sandbox.ExecuteAsync(new ExecutionRequest(code) { Timeout = Timeout });
        return result.Status == ExecutionStatus.Ok
            ? result
            : throw new InvalidOperationException(
                $"The {sandbox.Runtime.Language} sandbox ended '{Abbreviate(code)}' with {result.Status}: {result.Error?.Traceback ?? result.Error?.Message ?? result.Message}\n{result.Stderr}");
    }

    /// <summary>The number an expression evaluates to in the sandbox, e.g. the milliseconds a timed workload took.</summary>
    public static async Task<double> EvalNumberAsync(this SandboxInstance sandbox, string expression)
    {
        var result = await sandbox.RunAsync(expression);
        if (result.Result?.Json is { ValueKind: JsonValueKind.Number } json)
        {
            return json.GetDouble();
        }

        return double.TryParse(result.Result?.Repr, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidOperationException($"'{expression}' did not evaluate to a number in the sandbox but to '{result.Result?.Repr}'.");
    }

    private static string Abbreviate(string code) => code.Length <= 60 ? code : code[..57] + "...";
}

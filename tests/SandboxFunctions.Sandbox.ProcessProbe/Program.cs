using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;

// Usage: <language> <snapshot-file> <code>; prints the execution result as JSON on stdout.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: <language> <snapshot-file> <code>");
    return 2;
}

using var catalog = new RuntimeCatalog(Options.Create(new SandboxOptions()), TimeProvider.System, NullLogger<RuntimeCatalog>.Instance);
if (!catalog.TryGet(args[0], out var runtime))
{
    Console.Error.WriteLine($"no {args[0]} runtime");
    return 3;
}

await using var sandbox = await runtime.RestoreAsync(await File.ReadAllBytesAsync(args[1]), SandboxLimits.Default);
var result = await sandbox.ExecuteAsync(new ExecutionRequest(args[2]));
Console.WriteLine(JsonSerializer.Serialize(new { status = result.Status.ToString(), stdout = result.Stdout, repr = result.Result?.Repr, error = result.Error?.Message }));
return 0;

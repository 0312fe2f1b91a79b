using SandboxFunctions.Benchmarks;
using SandboxFunctions.Benchmarks.Scenarios;

IScenario[] scenarios =
[
    new PythonVsNativeScenario(),
    new JsVsNodeScenario(),
    new NewSessionScenario(),
    new SnapshotScenario(),
    new LimitsScenario(),
    new ShellLimitsScenario(),
    new StorageScenario(),
    new ConcurrencyScenario(),
    new EndToEndScenario(),
];

BenchmarkSettings settings;
try
{
    settings = BenchmarkSettings.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(BenchmarkSettings.Usage);
    return 2;
}

return await BenchmarkRunner.RunAsync(settings, scenarios, args);

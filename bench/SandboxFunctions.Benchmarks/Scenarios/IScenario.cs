using SandboxFunctions.Benchmarks.Reporting;

namespace SandboxFunctions.Benchmarks.Scenarios;

/// <summary>One part of the report, selectable by name on the command line.</summary>
internal interface IScenario
{
    string Name { get; }

    string Description { get; }

    Task<ReportSection> RunAsync(ScenarioContext context);
}

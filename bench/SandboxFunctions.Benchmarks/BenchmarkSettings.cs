using System.Globalization;

namespace SandboxFunctions.Benchmarks;

/// <summary>What to run and how often, from the command line.</summary>
internal sealed record BenchmarkSettings
{
    public const string Usage = """
        Usage: dotnet run -c Release --project bench/SandboxFunctions.Benchmarks -- [scenario...] [options]

        Runs the named scenarios (all when none are named) and prints a report, which is also written as
        JSON and Markdown under bench/results/.

        Options:
          --iterations N   measured rounds for every scenario (default: each scenario's own count)
          --warmup N       unmeasured rounds before them (default: 2)
          --quick          3 measured rounds and 1 warm-up: a smoke run, the numbers are rough
          --python PATH    a native Python to compare with; repeat for several
                           (default: python3 on PATH, and /usr/bin/python3 when that is another build)
          --list           list the scenarios and exit
          --help           show this text
        """;

    public IReadOnlyList<string> Scenarios { get; init; } = [];

    /// <summary>Overrides every scenario's own number of measured rounds.</summary>
    public int? Iterations { get; init; }

    public int Warmup { get; init; } = 2;

    public IReadOnlyList<string> NativePythons { get; init; } = [];

    public bool ListOnly { get; init; }

    public bool HelpOnly { get; init; }

    /// <summary>The measured rounds for a scenario whose own default is <paramref name="scenarioDefault"/>.</summary>
    public int RoundsOr(int scenarioDefault) => Iterations ?? scenarioDefault;

    /// <exception cref="ArgumentException">An option is unknown or lacks its value; the message says which.</exception>
    public static BenchmarkSettings Parse(IReadOnlyList<string> args)
    {
        var settings = new BenchmarkSettings();
        var scenarios = new List<string>();
        var pythons = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var argument = args[i];
            switch (argument)
            {
                case "--iterations":
                    settings = settings with { Iterations = PositiveInteger(args, ++i, argument) };
                    break;
                case "--warmup":
                    settings = settings with { Warmup = PositiveInteger(args, ++i, argument, allowZero: true) };
                    break;
                case "--quick":
                    settings = settings with { Iterations = 3, Warmup = 1 };
                    break;
                case "--python":
                    pythons.Add(Value(args, ++i, argument));
                    break;
                case "--list":
                    settings = settings with { ListOnly = true };
                    break;
                case "--help" or "-h":
                    settings = settings with { HelpOnly = true };
                    break;
                default:
                    if (argument.StartsWith('-'))
                    {
                        throw new ArgumentException($"Unknown option '{argument}'.");
                    }

                    scenarios.Add(argument);
                    break;
            }
        }

        return settings with { Scenarios = scenarios, NativePythons = pythons };
    }

    private static string Value(IReadOnlyList<string> args, int index, string option) =>
        index < args.Count ? args[index] : throw new ArgumentException($"{option} needs a value.");

    private static int PositiveInteger(IReadOnlyList<string> args, int index, string option, bool allowZero = false)
    {
        var text = Value(args, index, option);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && (value > 0 || (allowZero && value == 0))
            ? value
            : throw new ArgumentException($"{option} needs a {(allowZero ? "non-negative" : "positive")} whole number, not '{text}'.");
    }
}

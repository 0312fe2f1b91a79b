namespace SandboxFunctions.Benchmarks.Measurement;

/// <summary>Named measurements collected over a scenario's rounds; warm-up rounds record nothing.</summary>
internal sealed class Samples
{
    private readonly Dictionary<string, List<double>> _byName = new(StringComparer.Ordinal);

    public void Add(string name, double value)
    {
        if (!_byName.TryGetValue(name, out var values))
        {
            _byName[name] = values = [];
        }

        values.Add(value);
    }

    public Distribution this[string name] => _byName.TryGetValue(name, out var values)
        ? new Distribution(values)
        : throw new KeyNotFoundException($"Nothing was measured as '{name}'.");
}

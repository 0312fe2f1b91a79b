namespace SandboxFunctions.Benchmarks.Measurement;

/// <summary>Samples of one measurement, summarized by order statistics, which a noisy machine disturbs less than a mean.</summary>
internal sealed class Distribution
{
    private readonly double[] _sorted;

    public Distribution(IEnumerable<double> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        Samples = [.. samples];
        if (Samples.Count == 0)
        {
            throw new ArgumentException("A distribution needs at least one sample.", nameof(samples));
        }

        _sorted = [.. Samples.Order()];
    }

    /// <summary>In the order they were taken, so that samples of interleaved measurements pair up by index.</summary>
    public IReadOnlyList<double> Samples { get; }

    public int Count => Samples.Count;

    public double Median => Percentile(50);

    public double P10 => Percentile(10);

    public double P90 => Percentile(90);

    /// <summary>Linear interpolation between the closest ranks.</summary>
    public double Percentile(double percent)
    {
        var rank = percent / 100 * (_sorted.Length - 1);
        var lower = (int)Math.Floor(rank);
        var upper = (int)Math.Ceiling(rank);
        return _sorted[lower] + ((_sorted[upper] - _sorted[lower]) * (rank - lower));
    }

    /// <summary>Sample-by-sample quotients of two measurements taken in the same rounds.</summary>
    public static Distribution Ratio(Distribution numerator, Distribution denominator)
    {
        ArgumentNullException.ThrowIfNull(numerator);
        ArgumentNullException.ThrowIfNull(denominator);
        if (numerator.Count != denominator.Count)
        {
            throw new ArgumentException($"Paired measurements need as many samples each ({numerator.Count} vs {denominator.Count}).");
        }

        return new Distribution(numerator.Samples.Zip(denominator.Samples, (a, b) => a / b));
    }
}

namespace SandboxFunctions.Sandbox;

/// <summary>The guest runtimes this process can run, keyed by language.</summary>
public sealed class RuntimeCatalog
{
    private readonly Dictionary<string, IGuestRuntime> _byLanguage;

    public RuntimeCatalog(IEnumerable<IGuestRuntime> runtimes)
    {
        ArgumentNullException.ThrowIfNull(runtimes);
        _byLanguage = runtimes.ToDictionary(r => r.Info.Language, StringComparer.OrdinalIgnoreCase);
        Runtimes = [.. _byLanguage.Values.Select(r => r.Info).OrderBy(i => i.Language, StringComparer.Ordinal)];
    }

    public IReadOnlyList<RuntimeInfo> Runtimes { get; }

    public bool TryGet(string language, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IGuestRuntime? runtime) =>
        _byLanguage.TryGetValue(language, out runtime);
}
